//! One pass at a time from the schedule, against moto: a scheduled sweep that finds a pass
//! running (the `sluice:sweep` tag on the subscriber's own log group, renewed by each of its
//! invocations) is skipped, so passes never take the reserved concurrency events need.

use std::time::Duration;

use serde_json::{Value, json};
use sluice_harness::Moto;
use sluice_subscriber::aws::Logs;
use sluice_subscriber::handler::Handler;
use sluice_subscriber::sweep::{SWEEP_TAG, Sweeper};
use tokio::time::Instant;

use super::{config, fixture};

const OWN: &str = "/aws/lambda/sluice-subscriber";

async fn own_tag(moto: &Moto) -> (String, Option<String>) {
    let logs = moto.logs_client();
    let own = logs
        .describe_log_groups()
        .log_group_name_prefix(OWN)
        .send()
        .await
        .expect("describe");
    let arn = own.log_groups()[0].log_group_arn().expect("arn").to_string();
    let tags = logs
        .list_tags_for_resource()
        .resource_arn(&arn)
        .send()
        .await
        .expect("tags");
    let value = tags.tags().and_then(|tags| tags.get(SWEEP_TAG)).cloned();
    (arn, value)
}

async fn set_own_tag(moto: &Moto, value: &str) {
    let (arn, _) = own_tag(moto).await;
    moto.logs_client()
        .tag_resource()
        .resource_arn(arn)
        .tags(SWEEP_TAG, value)
        .send()
        .await
        .expect("tag");
}

async fn invoke(handler: &Handler, event: Value) -> Value {
    handler
        .handle(event, Instant::now() + Duration::from_secs(900))
        .await
        .expect("invocation")
}

#[tokio::test]
async fn a_scheduled_sweep_waits_for_a_running_pass_and_a_dead_one_does_not_block_it() {
    let moto = Moto::start();
    let logs = moto.logs_client();
    let forwarder = moto
        .create_lambda_function("sluice-forwarder")
        .await
        .expect("forwarder");
    for name in [OWN, "/aws/lambda/app-0", "/aws/lambda/app-1"] {
        logs.create_log_group()
            .log_group_name(name)
            .send()
            .await
            .expect("create");
    }
    let config = config(&[
        ("DESTINATION_ARN", &forwarder),
        ("AWS_LAMBDA_FUNCTION_NAME", "sluice-subscriber"),
    ]);
    let mut handler = Handler::new(
        Sweeper::new(Logs::new(moto.logs_client(), 1000.0), config),
        moto.lambda_client(),
        "sluice-subscriber".into(),
    );
    handler.metrics = Box::new(sluice_subscriber::metrics::Discard);
    let scheduled = fixture("scheduled-event.json");

    // A pass whose latest invocation started a minute ago is running: the schedule waits.
    let a_minute_ago = chrono::Utc::now() - chrono::Duration::minutes(1);
    set_own_tag(&moto, &a_minute_ago.to_rfc3339()).await;
    moto.reset_recording().await.expect("reset");
    let skipped = invoke(&handler, scheduled.clone()).await;
    assert!(
        skipped["skipped"]
            .as_str()
            .is_some_and(|why| why.contains("a pass is running")),
        "{skipped}"
    );
    let calls = moto.recorded_actions().await.expect("recording");
    assert_eq!(
        calls,
        ["DescribeLogGroups", "ListTagsForResource"],
        "no group touched"
    );

    // A deploy's sweep (a direct invocation) runs all the same, and marks the pass done.
    let direct = invoke(&handler, json!({"action": "sweep"})).await;
    assert_eq!(direct["complete"], true, "{direct}");
    assert_eq!(direct["totals"]["subscribe"], 2, "{direct}");
    assert_eq!(own_tag(&moto).await.1.as_deref(), Some("done"));

    // With no pass running the schedule sweeps.
    let after = invoke(&handler, scheduled.clone()).await;
    assert_eq!(after["complete"], true, "{after}");
    assert_eq!(after["totals"]["unchanged"], 2, "{after}");

    // A pass that died (its latest invocation started an hour ago) blocks nothing.
    let an_hour_ago = chrono::Utc::now() - chrono::Duration::hours(1);
    set_own_tag(&moto, &an_hour_ago.to_rfc3339()).await;
    let revived = invoke(&handler, scheduled).await;
    assert_eq!(revived["complete"], true, "{revived}");
}
