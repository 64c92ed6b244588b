//! The deploy-time sweep: the template's inline custom-resource code, run for real in the venv's
//! Python with the AWS SDK and `cfnresponse` replaced by recorders, on CloudFormation's requests.
//!
//! What matters to a user: Create and Update start a sweep without making CloudFormation wait,
//! Delete removes Sluice's filters only when asked, a failure to start the sweep fails the deploy,
//! and nothing ever leaves CloudFormation waiting for an answer or blocks a stack deletion.

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::{Value, json};

use super::{resource, venv_tool};

const SUBSCRIBER: &str = "arn:aws:lambda:us-east-1:123456789012:function:sluice-Subscriber-Q1w2E3r4";

/// Runs the inline code with fake `boto3`, `botocore.config` and `cfnresponse` modules. argv[1] is
/// `{"fail": bool, "event": {...}}`; the script prints the calls the code made, in order.
const RECORDER: &str = r#"
import json, sys, types

calls = []
mode = json.loads(sys.argv[1])

class Payload:
    def read(self, size=-1):
        return b"null"

class FakeLambda:
    def invoke(self, **request):
        calls.append({"invoke": {
            "FunctionName": request["FunctionName"],
            "InvocationType": request["InvocationType"],
            "Payload": json.loads(request["Payload"]),
        }})
        if mode["fail"]:
            raise RuntimeError("AccessDeniedException: not authorized to perform lambda:InvokeFunction")
        return {"StatusCode": 202, "Payload": Payload()}

boto3 = types.ModuleType("boto3")
boto3.client = lambda service, config=None: FakeLambda()
botocore = types.ModuleType("botocore")
botocore_config = types.ModuleType("botocore.config")
botocore_config.Config = lambda **settings: settings
botocore.config = botocore_config

cfnresponse = types.ModuleType("cfnresponse")
cfnresponse.SUCCESS, cfnresponse.FAILED = "SUCCESS", "FAILED"
def send(event, context, status, data, physical_id=None, noEcho=False, reason=None):
    calls.append({"respond": {"status": status, "physical_id": physical_id, "reason": reason}})
cfnresponse.send = send

sys.modules.update({"boto3": boto3, "botocore": botocore, "botocore.config": botocore_config,
                    "cfnresponse": cfnresponse})
namespace = {}
exec(compile(sys.stdin.read(), "DeploySweepFunction.InlineCode", "exec"), namespace)
namespace["handler"](mode["event"], None)
print(json.dumps(calls))
"#;

/// A CloudFormation custom resource request (CloudFormation User Guide, "Custom resource request
/// objects"): the fields CloudFormation sends to a Lambda-backed custom resource.
fn request(kind: &str, remove_filters_on_delete: &str) -> Value {
    let mut request = json!({
        "RequestType": kind,
        "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:sluice-DeploySweepFunction-A1b2",
        "ResponseURL": "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/signed",
        "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/sluice/5b6d1a40-c84f-11ef-9e5b-0affd5a1b2c3",
        "RequestId": "e3b0c442-98fc-1c14-9afb-f4c8996fb924",
        "LogicalResourceId": "DeploySweep",
        "ResourceType": "Custom::SluiceSweep",
        "ResourceProperties": {
            "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:sluice-DeploySweepFunction-A1b2",
            "SubscriberArn": SUBSCRIBER,
            "RemoveFiltersOnDelete": remove_filters_on_delete,
            "FilterName": "sluice",
            "IncludePatterns": "*"
        }
    });
    if kind != "Create" {
        request["PhysicalResourceId"] = json!("sluice-deploy-sweep");
    }
    if kind == "Update" {
        request["OldResourceProperties"] = request["ResourceProperties"].clone();
        request["OldResourceProperties"]["IncludePatterns"] = json!("/aws/lambda/*");
    }
    request
}

/// What the inline code did for `event`, in order.
fn run(event: Value, invoke_fails: bool) -> Vec<Value> {
    let code = resource("DeploySweepFunction")["Properties"]["InlineCode"]
        .as_str()
        .expect("DeploySweepFunction has InlineCode");
    let mode = json!({"fail": invoke_fails, "event": event}).to_string();
    let mut child = Command::new(venv_tool("python"))
        .args(["-c", RECORDER, &mode])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the venv's python starts");
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(code.as_bytes())
        .expect("the code is written to python");
    let output = child.wait_with_output().expect("python runs");
    assert!(
        output.status.success(),
        "the inline code failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap_or_else(|err| {
        panic!(
            "the recorder printed no JSON ({err}):\n{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

fn invoked(invocation_type: &str, action: &str) -> Value {
    json!({"invoke": {
        "FunctionName": SUBSCRIBER,
        "InvocationType": invocation_type,
        "Payload": {"action": action}
    }})
}

fn answered(status: &str) -> Value {
    json!({"respond": {"status": status, "physical_id": "sluice-deploy-sweep", "reason": null}})
}

#[test]
fn create_and_update_start_a_sweep_without_waiting_for_it() {
    for kind in ["Create", "Update"] {
        assert_eq!(
            run(request(kind, "true"), false),
            [invoked("Event", "sweep"), answered("SUCCESS")],
            "{kind}"
        );
    }
}

#[test]
fn delete_removes_sluices_filters_only_when_asked() {
    assert_eq!(
        run(request("Delete", "true"), false),
        [invoked("RequestResponse", "unsubscribe"), answered("SUCCESS")]
    );
    assert_eq!(run(request("Delete", "false"), false), [answered("SUCCESS")]);
}

#[test]
fn a_sweep_that_cannot_start_fails_the_deploy_with_the_reason() {
    let calls = run(request("Create", "true"), true);
    assert_eq!(calls.len(), 2, "{calls:#?}");
    assert_eq!(calls[0], invoked("Event", "sweep"));
    let answer = &calls[1]["respond"];
    assert_eq!(answer["status"], "FAILED");
    let reason = answer["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("AccessDeniedException"), "{reason}");
}

#[test]
fn a_failed_unsubscribe_never_blocks_the_stack_deletion() {
    assert_eq!(
        run(request("Delete", "true"), true),
        [invoked("RequestResponse", "unsubscribe"), answered("SUCCESS")]
    );
}
