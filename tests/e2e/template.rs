//! The SAM stack `template.yaml`: the AWS tools accept it, and its wiring is what the docs promise.
//!
//! The linters run from the project's virtualenv (`tools/setup.sh`), offline and without AWS
//! credentials. The wiring checks read the template as JSON, converted by cfn-lint's own decoder
//! (it understands the short-form tags `!Ref`, `!Sub`, `!GetAtt`), so they see exactly what the
//! linters see. A missing tool fails the test with the install command; nothing is skipped.

mod centralization;
mod cloudfront_realtime;
mod deploy_sweep;
mod event_pattern;
mod geoip;
mod iam;
mod onboarding;
mod resolve;
mod s3_sources;
mod wiring;

use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::OnceLock;

use serde_json::Value;
use sluice_harness::{venv_dir, workspace_root};

/// `template.yaml` at the workspace root.
fn template_path() -> PathBuf {
    workspace_root().join("template.yaml")
}

/// A program of the virtualenv, or a panic that says how to install it.
fn venv_tool(name: &str) -> PathBuf {
    let path = venv_dir().join("bin").join(name);
    assert!(
        path.exists(),
        "{name} is not installed: {} does not exist. Install it with: tools/setup.sh",
        path.display()
    );
    path
}

/// Runs `command`, panicking with its whole output unless it exits successfully.
fn run_ok(what: &str, command: &mut Command) -> Output {
    let output = command
        .output()
        .unwrap_or_else(|err| panic!("{what} could not start: {err}"));
    assert!(
        output.status.success(),
        "{what} failed ({}):\n--- stdout\n{}\n--- stderr\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// `sam` and `cfn-lint` must neither phone home nor wait for an instance metadata service.
fn offline(command: &mut Command) -> &mut Command {
    command
        .env("SAM_CLI_TELEMETRY", "0")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .current_dir(workspace_root())
}

/// The template as JSON, decoded once per test binary by cfn-lint's decoder.
fn template() -> &'static Value {
    static TEMPLATE: OnceLock<Value> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let script = "import json, sys\n\
                      from cfnlint.decode import decode\n\
                      template, problems = decode(sys.argv[1])\n\
                      if problems:\n    sys.exit('\\n'.join(str(p) for p in problems))\n\
                      print(json.dumps(template))";
        let output = run_ok(
            "decoding template.yaml with cfn-lint's decoder",
            offline(Command::new(venv_tool("python")).args(["-c", script])).arg(template_path()),
        );
        serde_json::from_slice(&output.stdout).expect("the decoder prints one JSON document")
    })
}

/// The resource `logical_id` of the template, or a panic naming it.
fn resource(logical_id: &str) -> &'static Value {
    template()["Resources"]
        .get(logical_id)
        .unwrap_or_else(|| panic!("template.yaml has no resource {logical_id}"))
}

#[test]
fn cfn_lint_accepts_the_template() {
    run_ok(
        "cfn-lint template.yaml",
        offline(&mut Command::new(venv_tool("cfn-lint"))).arg(template_path()),
    );
}

#[test]
fn sam_validate_lint_accepts_the_template_offline() {
    let output = run_ok(
        "sam validate --lint",
        offline(&mut Command::new(venv_tool("sam")))
            .args(["validate", "--lint", "--region", "us-east-1", "--template"])
            .arg(template_path()),
    );
    let said = String::from_utf8_lossy(&output.stdout);
    assert!(
        said.contains("is a valid SAM Template"),
        "sam validate exited 0 without saying the template is valid:\n{said}"
    );
}
