//! The Elastic Common Schema (ECS) fields every Sluice document shares: `ecs.version`,
//! `cloud.*` and the head of `event`. Names and types from ECS's `generated/ecs/ecs_flat.yml`
//! (<https://github.com/elastic/ecs>, release [`ECS_VERSION`]).

use crate::json::push_str;

/// The ECS release the documents follow, written as `ecs.version`.
pub const ECS_VERSION: &str = "9.4.0";

/// `event.dataset` of a CloudWatch Logs event, as Elastic's AWS integration names it.
pub const DATASET_CLOUDWATCH: &str = "aws.cloudwatch_logs";

/// `,"ecs":{"version":"9.4.0"}`.
pub(super) fn push_version(out: &mut String) {
    out.push_str(",\"ecs\":{\"version\":\"");
    out.push_str(ECS_VERSION);
    out.push_str("\"}");
}

/// `,"cloud":{"provider":"aws","account":{"id":…},"region":…}`, the account and region where
/// known.
pub(super) fn push_cloud(out: &mut String, account: Option<&str>, region: Option<&str>) {
    out.push_str(",\"cloud\":{\"provider\":\"aws\"");
    if let Some(account) = account.filter(|account| !account.is_empty()) {
        out.push_str(",\"account\":{\"id\":");
        push_str(out, account);
        out.push('}');
    }
    if let Some(region) = region.filter(|region| !region.is_empty()) {
        out.push_str(",\"region\":");
        push_str(out, region);
    }
    out.push('}');
}

/// `,"event":{"kind":"event","dataset":…,"id":…`, left open for the members only some
/// documents have (`action`, `outcome`, …): the caller closes it.
pub(super) fn push_event_head(out: &mut String, dataset: &str, id: &str) {
    out.push_str(",\"event\":{\"kind\":\"event\",\"dataset\":");
    push_str(out, dataset);
    if !id.is_empty() {
        out.push_str(",\"id\":");
        push_str(out, id);
    }
}
