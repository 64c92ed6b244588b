use super::*;

fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/../tests/fixtures/subscriber/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).expect("fixture readable");
    serde_json::from_str(&text).expect("fixture is JSON")
}

#[test]
fn a_cloudtrail_create_log_group_names_the_group() {
    assert_eq!(
        Request::parse(&fixture("create-log-group.json")).expect("parsed"),
        Request::Created {
            log_group: "/aws/lambda/checkout-api".into()
        }
    );
}

#[test]
fn a_failed_create_log_group_is_ignored() {
    let request = Request::parse(&fixture("create-log-group-failed.json")).expect("parsed");
    assert!(
        matches!(&request, Request::Ignore(why) if why.contains("ResourceAlreadyExistsException")),
        "{request:?}"
    );
}

#[test]
fn tagging_calls_on_a_log_group_re_plan_that_group() {
    assert_eq!(
        Request::parse(&fixture("tag-resource.json")).expect("parsed"),
        Request::Retagged {
            log_group: "/aws/lambda/checkout-api".into()
        }
    );
    let mut event = fixture("tag-resource.json");
    event["detail"]["eventName"] = json!("UntagResource");
    event["detail"]["requestParameters"] = json!({
        "resourceArn": "arn:aws:logs:us-east-1:123456789012:log-group:/ecs/web:*",
        "tagKeys": ["sluice"]
    });
    assert_eq!(
        Request::parse(&event).expect("parsed"),
        Request::Retagged {
            log_group: "/ecs/web".into()
        }
    );
    event["detail"]["eventName"] = json!("TagLogGroup");
    event["detail"]["requestParameters"] = json!({"logGroupName": "/ecs/api", "tags": {"sluice": "off"}});
    assert_eq!(
        Request::parse(&event).expect("parsed"),
        Request::Retagged {
            log_group: "/ecs/api".into()
        }
    );
    event["detail"]["eventName"] = json!("TagResource");
    event["detail"]["requestParameters"] = json!({
        "resourceArn": "arn:aws:logs:us-east-1:123456789012:destination:central",
        "tags": {"team": "platform"}
    });
    let other = Request::parse(&event).expect("parsed");
    assert!(
        matches!(&other, Request::Ignore(why) if why.contains("not a log group")),
        "{other:?}"
    );
    event["detail"]["errorCode"] = json!("AccessDenied");
    let failed = Request::parse(&event).expect("parsed");
    assert!(
        matches!(&failed, Request::Ignore(why) if why.contains("TagResource failed with AccessDenied")),
        "{failed:?}"
    );
}

#[test]
fn a_scheduled_event_starts_a_full_sweep() {
    assert_eq!(
        Request::parse(&fixture("scheduled-event.json")).expect("parsed"),
        Request::Sweep {
            mode: Mode::Subscribe,
            dry_run: false,
            continuation: Continuation::default(),
            scheduled: true
        }
    );
}

#[test]
fn direct_payloads_and_continuations_round_trip() {
    assert_eq!(
        Request::parse(&json!({"action": "unsubscribe", "dry_run": true})).expect("parsed"),
        Request::Sweep {
            mode: Mode::Unsubscribe,
            dry_run: true,
            continuation: Continuation::default(),
            scheduled: false
        }
    );
    let mut continuation = Continuation {
        next_token: Some("token-7".into()),
        invocation: 3,
        ..Continuation::default()
    };
    continuation.totals.seen = 350;
    continuation.totals.subscribe = 12;
    let payload = continuation_payload(Mode::Subscribe, Run::Apply, &continuation);
    assert_eq!(payload["action"], "sweep");
    assert_eq!(
        Request::parse(&payload).expect("parsed"),
        Request::Sweep {
            mode: Mode::Subscribe,
            dry_run: false,
            continuation,
            scheduled: false
        }
    );
}

#[test]
fn unknown_payloads_are_refused_with_a_reason() {
    for payload in [
        json!({"action": "delete-everything"}),
        json!({"detail-type": "EC2 Instance State-change Notification"}),
        json!([1, 2]),
    ] {
        let err = Request::parse(&payload).expect_err("refused");
        assert!(
            matches!(err, SubscriberError::UnrecognisedEvent { .. }),
            "{payload}"
        );
    }
}

/// Found by the `subscriber_event` fuzz target (fuzz/regressions/subscriber_event/): an unknown
/// `action` with a line break made an error of two lines.
#[test]
fn an_unknown_direct_action_is_an_error_of_one_line() {
    let payload = serde_json::json!({"action": "sweep\nERROR forged", "dry_run": true});
    let err = Request::parse(&payload).unwrap_err().to_string();
    assert!(!err.contains('\n'), "{err}");
    assert!(err.contains(r"sweep\nERROR forged"), "{err}");
}
