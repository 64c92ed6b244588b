//! The subscriber's EventBridge rule, matched against real CloudTrail event shapes.
//!
//! `matches` implements the part of EventBridge's pattern language the template uses: objects
//! nest, and a list of literals matches when the event's value (or any element of an array value)
//! equals one of them. That is enough to prove the rule selects `CreateLogGroup` and the tagging
//! calls (tag rules re-plan a retagged group) and nothing else.

use serde_json::{Value, json};

use super::resource;

/// Whether `event` satisfies the EventBridge `pattern` (literal lists and nested objects only).
fn matches(pattern: &Value, event: &Value) -> bool {
    let Some(fields) = pattern.as_object() else {
        return false;
    };
    fields.iter().all(|(key, wanted)| {
        let Some(actual) = event.get(key) else {
            return false;
        };
        match wanted {
            Value::Object(_) => matches(wanted, actual),
            Value::Array(allowed) => match actual {
                Value::Array(values) => values.iter().any(|value| allowed.contains(value)),
                value => allowed.contains(value),
            },
            _ => false,
        }
    })
}

/// The pattern of the subscriber's rule for new log groups, after checking the rule targets the
/// subscriber and EventBridge may invoke it for this rule only.
fn create_log_group_pattern() -> &'static Value {
    let rule = &resource("LogGroupCreatedRule")["Properties"];
    assert_eq!(
        rule["Targets"][0]["Arn"],
        json!({"Fn::GetAtt": ["Subscriber", "Arn"]})
    );
    let permission = &resource("LogGroupCreatedPermission")["Properties"];
    assert_eq!(permission["Principal"], "events.amazonaws.com");
    assert_eq!(
        permission["FunctionName"],
        json!({"Fn::GetAtt": ["Subscriber", "Arn"]})
    );
    assert_eq!(
        permission["SourceArn"],
        json!({"Fn::GetAtt": ["LogGroupCreatedRule", "Arn"]})
    );
    &rule["EventPattern"]
}

/// An EventBridge "AWS API Call via CloudTrail" event for `CreateLogGroup`, as EventBridge
/// delivers it. Envelope: EventBridge User Guide, "Events from AWS services" and "AWS API call
/// events delivered via CloudTrail"; `detail` is the CloudTrail record (CloudTrail User Guide,
/// "CloudTrail record contents"; CloudWatch Logs API Reference, CreateLogGroup request).
fn cloudtrail_event(event_name: &str, error_code: Option<&str>) -> Value {
    let mut event = json!({
        "version": "0",
        "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
        "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.logs",
        "account": "123456789012",
        "time": "2026-11-22T08:30:05Z",
        "region": "us-east-1",
        "resources": [],
        "detail": {
            "eventVersion": "1.09",
            "userIdentity": {
                "type": "AssumedRole",
                "principalId": "AROAEXAMPLE:checkout-deploy",
                "arn": "arn:aws:sts::123456789012:assumed-role/deployer/checkout-deploy",
                "accountId": "123456789012",
                "invokedBy": "cloudformation.amazonaws.com"
            },
            "eventTime": "2026-11-22T08:30:05Z",
            "eventSource": "logs.amazonaws.com",
            "eventName": event_name,
            "awsRegion": "us-east-1",
            "sourceIPAddress": "cloudformation.amazonaws.com",
            "userAgent": "cloudformation.amazonaws.com",
            "requestParameters": {"logGroupName": "/aws/lambda/checkout-api"},
            "responseElements": null,
            "requestID": "0c1f7e42-5f0a-4c4f-9d89-0d3c4bd1d7a5",
            "eventID": "1c3e5a7b-0d2f-4e6a-8b9c-1d3e5f7a9b0c",
            "readOnly": false,
            "eventType": "AwsApiCall",
            "managementEvent": true,
            "recipientAccountId": "123456789012",
            "eventCategory": "Management"
        }
    });
    if let Some(code) = error_code {
        event["detail"]["errorCode"] = json!(code);
    }
    event
}

#[test]
fn the_rule_selects_cloudtrail_create_log_group_calls() {
    let pattern = create_log_group_pattern();
    assert!(
        matches(pattern, &cloudtrail_event("CreateLogGroup", None)),
        "the subscriber's rule must match CreateLogGroup: {pattern:#}"
    );
    // A call that failed still matches: the subscriber reads `errorCode` and ignores it.
    assert!(matches(
        pattern,
        &cloudtrail_event("CreateLogGroup", Some("ResourceAlreadyExistsException"))
    ));
}

#[test]
fn the_rule_selects_the_tagging_calls_that_change_what_tag_rules_select() {
    let pattern = create_log_group_pattern();
    for name in ["TagResource", "UntagResource", "TagLogGroup", "UntagLogGroup"] {
        assert!(
            matches(pattern, &cloudtrail_event(name, None)),
            "{name} must re-plan the group: {pattern:#}"
        );
    }
}

#[test]
fn the_rule_ignores_other_cloudwatch_logs_calls_and_other_services() {
    let pattern = create_log_group_pattern();
    for name in ["CreateLogStream", "PutSubscriptionFilter", "DeleteLogGroup"] {
        assert!(
            !matches(pattern, &cloudtrail_event(name, None)),
            "{name} must not invoke the subscriber"
        );
    }
    let mut from_another_service = cloudtrail_event("CreateLogGroup", None);
    from_another_service["source"] = json!("aws.ecs");
    assert!(!matches(pattern, &from_another_service));

    let scheduled = json!({
        "version": "0", "id": "89d1a02d-5ec7-412e-82f5-13505f849b41",
        "detail-type": "Scheduled Event", "source": "aws.events",
        "account": "123456789012", "time": "2026-11-22T06:00:00Z", "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/sluice-sweep"], "detail": {}
    });
    assert!(!matches(pattern, &scheduled));
}

#[test]
fn the_pattern_is_exactly_the_documented_one() {
    assert_eq!(
        create_log_group_pattern(),
        &json!({
            "source": ["aws.logs"],
            "detail-type": ["AWS API Call via CloudTrail"],
            "detail": {
                "eventSource": ["logs.amazonaws.com"],
                "eventName": ["CreateLogGroup", "TagResource", "UntagResource", "TagLogGroup", "UntagLogGroup"]
            }
        })
    );
}

#[test]
fn the_matcher_rejects_missing_and_different_fields() {
    let pattern = json!({"source": ["aws.logs"], "detail": {"eventName": ["CreateLogGroup"]}});
    assert!(matches(
        &pattern,
        &json!({"source": "aws.logs", "detail": {"eventName": "CreateLogGroup"}})
    ));
    assert!(!matches(&pattern, &json!({"source": "aws.logs"})));
    assert!(!matches(
        &pattern,
        &json!({"source": "aws.logs", "detail": {"eventName": "CreateLogStream"}})
    ));
    assert!(matches(
        &json!({"resources": ["a"]}),
        &json!({"resources": ["b", "a"]})
    ));
}
