use super::*;
use crate::config::RawConfig;

const FORWARDER: &str = "arn:aws:lambda:us-east-1:123456789012:function:fwd";

fn config(retention: Option<&str>, mode: Option<&str>) -> Config {
    RawConfig {
        destination_arn: Some(FORWARDER.into()),
        exclude_patterns: Some("/test/*".into()),
        retention_days: retention.map(Into::into),
        retention_mode: mode.map(Into::into),
        ..RawConfig::default()
    }
    .validate()
    .expect("valid")
}

fn group(name: &str, retention: Option<i32>) -> LogGroup {
    LogGroup {
        name: name.into(),
        retention_days: retention,
        class: None,
        arn: None,
        tags: None,
    }
}

fn filter(name: &str, destination: &str, pattern: &str) -> Filter {
    Filter {
        name: name.into(),
        destination_arn: destination.into(),
        filter_pattern: pattern.into(),
        distribution: Some("ByLogStream".into()),
        role_arn: None,
        emit_system_fields: Vec::new(),
        field_selection_criteria: None,
        apply_on_transformed_logs: false,
    }
}

fn action(config: &Config, group: &LogGroup, filters: &[Filter]) -> GroupPlan {
    plan_group(config, &Rules::new(config), Mode::Subscribe, group, filters)
}

#[test]
fn one_action_per_situation() {
    let config = config(None, None);
    let g = group("/aws/lambda/app", Some(7));
    let elsewhere = "arn:aws:lambda:us-east-1:123456789012:function:old";
    let cases = [
        (vec![], Action::Subscribe),
        (vec![filter("blueprint", elsewhere, "")], Action::Subscribe),
        (vec![filter("sluice", FORWARDER, "")], Action::Unchanged),
        (vec![filter("sluice", elsewhere, "")], Action::Update),
        (vec![filter("sluice", FORWARDER, "ERROR")], Action::Update),
        (
            vec![filter("a", elsewhere, ""), filter("b", elsewhere, "")],
            Action::Conflict,
        ),
        (
            vec![filter("a", elsewhere, ""), filter("sluice", FORWARDER, "")],
            Action::Unchanged,
        ),
    ];
    for (filters, expected) in cases {
        assert_eq!(action(&config, &g, &filters).action, expected, "{filters:?}");
    }
    assert_eq!(
        action(&config, &group("/test/x", None), &[]).action,
        Action::Excluded
    );
    assert_eq!(
        action(&config, &group("/aws/lambda/fwd", None), &[]).action,
        Action::Excluded
    );
    let delivery = LogGroup {
        class: Some("DELIVERY".into()),
        ..g.clone()
    };
    assert_eq!(action(&config, &delivery, &[]).action, Action::Unsupported);
}

#[test]
fn the_filter_limit_is_the_setting_not_a_constant() {
    let elsewhere = "arn:aws:lambda:us-east-1:123456789012:function:old";
    let two_foreign = [filter("audit", elsewhere, ""), filter("siem", elsewhere, "")];
    let g = group("/aws/lambda/app", Some(7));
    let default = config(None, None);
    let full = action(&default, &g, &two_foreign);
    assert_eq!(full.action, Action::Conflict);
    assert_eq!(
        full.reason,
        "all 2 filter slots (MAX_FILTERS_PER_GROUP) are taken by audit, siem"
    );
    let roomier = RawConfig {
        destination_arn: Some(FORWARDER.into()),
        max_filters_per_group: Some("3".into()),
        ..RawConfig::default()
    }
    .validate()
    .expect("valid");
    assert_eq!(action(&roomier, &g, &two_foreign).action, Action::Subscribe);
    let three = [two_foreign.to_vec(), vec![filter("third", elsewhere, "")]].concat();
    assert_eq!(action(&roomier, &g, &three).action, Action::Conflict);
}

#[test]
fn a_limit_refusal_becomes_a_counted_conflict_not_a_failure() {
    let config = config(Some("30"), None);
    let mut row = action(&config, &group("/aws/lambda/app", None), &[]);
    assert_eq!(row.action, Action::Subscribe);
    row.refused_by_limit(3);
    assert_eq!(row.action, Action::Conflict);
    assert!(row.reason.contains("LimitExceededException"), "{}", row.reason);
    assert!(row.reason.contains("MAX_FILTERS_PER_GROUP=3"), "{}", row.reason);
    let mut totals = Totals::default();
    totals.add(&row);
    assert_eq!((totals.conflict, totals.errors, totals.retention_set), (1, 0, 1));
}

#[test]
fn retention_is_never_shortened_unless_enforced() {
    let missing = config(Some("30"), None);
    assert_eq!(
        action(&missing, &group("/a", None), &[]).set_retention_days,
        Some(30)
    );
    assert_eq!(
        action(&missing, &group("/a", Some(3653)), &[]).set_retention_days,
        None
    );
    assert_eq!(
        action(&missing, &group("/a", Some(1)), &[]).set_retention_days,
        None
    );
    let enforce = config(Some("30"), Some("enforce"));
    assert_eq!(
        action(&enforce, &group("/a", Some(3653)), &[]).set_retention_days,
        Some(30)
    );
    assert_eq!(
        action(&enforce, &group("/a", Some(30)), &[]).set_retention_days,
        None
    );
    assert_eq!(
        action(&enforce, &group("/test/a", None), &[]).set_retention_days,
        None
    );
    let none = config(None, Some("enforce"));
    assert_eq!(action(&none, &group("/a", None), &[]).set_retention_days, None);
}

#[test]
fn a_group_no_longer_selected_loses_our_filter_and_keeps_the_others() {
    let config = config(Some("30"), None);
    let elsewhere = "arn:aws:lambda:us-east-1:123456789012:function:old";
    let ours = filter("sluice", FORWARDER, "");
    let foreign = filter("audit", elsewhere, "");
    let excluded = group("/test/was-selected", None);
    let row = action(&config, &excluded, &[foreign.clone(), ours.clone()]);
    assert_eq!(row.action, Action::Remove);
    assert_eq!(row.reason, "no longer selected: matches EXCLUDE_PATTERNS /test/*");
    assert_eq!(row.set_retention_days, None, "retention only on selected groups");
    assert_eq!(
        action(&config, &excluded, &[foreign]).action,
        Action::Excluded,
        "a foreign filter alone is never ours to remove"
    );
    let forwarders_own = action(&config, &group("/aws/lambda/fwd", None), &[ours]);
    assert_eq!(forwarders_own.action, Action::Remove, "{}", forwarders_own.reason);
    assert!(
        forwarders_own.reason.contains("forwarder"),
        "{}",
        forwarders_own.reason
    );
}

#[test]
fn unsubscribe_removes_only_filters_named_ours() {
    let config = config(None, None);
    let rules = Rules::new(&config);
    let other = filter("other", FORWARDER, "");
    let ours = filter("sluice", "arn:aws:lambda:us-east-1:123456789012:function:old", "");
    let g = group("/test/excluded-but-ours", None);
    let remove = plan_group(&config, &rules, Mode::Unsubscribe, &g, &[other.clone(), ours]);
    assert_eq!(remove.action, Action::Remove);
    let keep = plan_group(&config, &rules, Mode::Unsubscribe, &g, &[other]);
    assert_eq!(keep.action, Action::Unchanged);
}

#[test]
fn plan_prints_a_table_with_totals_and_serialises() {
    let config = config(Some("14"), None);
    let mut plan = Plan {
        dry_run: true,
        ..Plan::default()
    };
    plan.push(action(&config, &group("/aws/lambda/app", None), &[]));
    plan.push(action(&config, &group("/test/x", None), &[]));
    let text = plan.to_string();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("ACTION"), "{text}");
    assert!(
        lines[1].starts_with("subscribe    14d") && lines[1].contains("/aws/lambda/app"),
        "{text}"
    );
    assert!(
        lines[2].starts_with("excluded") && lines[2].contains("EXCLUDE_PATTERNS /test/*"),
        "{text}"
    );
    assert!(
        lines[3].contains("2 log groups: 1 subscribe") && lines[3].contains("retention set on 1"),
        "{text}"
    );
    let json = serde_json::to_value(&plan).expect("json");
    assert_eq!(json["groups"][0]["action"], "subscribe");
    assert_eq!(json["groups"][0]["set_retention_days"], 14);
    assert_eq!(json["totals"]["excluded"], 1);
    assert_eq!(json["mode"], "subscribe");
}

#[test]
fn the_plan_says_first_which_groups_it_leaves_alone_and_what_it_does_not_know() {
    let unnamed = config(None, None);
    let notes = plan_notes(&Rules::new(&unnamed), unnamed.own_function.is_some());
    assert_eq!(notes.len(), 2, "{notes:?}");
    assert!(notes[0].starts_with("/aws/lambda/fwd is left alone"), "{notes:?}");
    assert!(notes[1].contains("set SUBSCRIBER_FUNCTION_NAME"), "{notes:?}");

    let named = RawConfig {
        destination_arn: Some(FORWARDER.into()),
        subscriber_function_name: Some("sub".into()),
        ..RawConfig::default()
    }
    .validate()
    .expect("valid");
    let notes = plan_notes(&Rules::new(&named), named.own_function.is_some());
    assert_eq!(
        notes[1],
        "/aws/lambda/sub is left alone whatever the rules: the subscriber's own log group \
         (function sub, SUBSCRIBER_FUNCTION_NAME)"
    );
    let plan = Plan {
        notes,
        ..Plan::default()
    };
    let text = plan.to_string();
    assert!(text.starts_with("note: /aws/lambda/fwd is left alone"), "{text}");
    assert!(
        text.find("note: /aws/lambda/sub").expect("second note") < text.find("ACTION").expect("header"),
        "{text}"
    );
}

fn central(pairs: &[(&str, &str)]) -> Config {
    let mut all = vec![("DESTINATION_ARN", FORWARDER)];
    all.extend_from_slice(pairs);
    RawConfig::from_pairs(&all).validate().expect("valid")
}

#[test]
fn a_filter_whose_options_differ_is_updated_and_the_difference_shown() {
    let config = central(&[
        ("EMIT_SYSTEM_FIELDS", "@aws.region,@aws.account"),
        ("FIELD_SELECTION_CRITERIA", "@aws.region = \"eu-west-1\""),
    ]);
    let g = group("/central/app", None);
    let mut ours = filter("sluice", FORWARDER, "");
    let plan = action(&config, &g, std::slice::from_ref(&ours));
    assert_eq!(plan.action, Action::Update);
    assert!(
        plan.reason
            .contains("emitSystemFields (none → @aws.account,@aws.region)"),
        "{}",
        plan.reason
    );
    assert!(
        plan.reason
            .contains("fieldSelectionCriteria (none → @aws.region = \"eu-west-1\")"),
        "{}",
        plan.reason
    );
    // In another order, as the API may list them: the same set is unchanged.
    ours.emit_system_fields = vec!["@aws.region".into(), "@aws.account".into()];
    ours.field_selection_criteria = Some("@aws.region = \"eu-west-1\"".into());
    assert_eq!(
        action(&config, &g, std::slice::from_ref(&ours)).action,
        Action::Unchanged
    );
    // A filter that applies on transformed logs where the setting says not to.
    ours.apply_on_transformed_logs = true;
    let plan = action(&config, &g, std::slice::from_ref(&ours));
    assert_eq!(plan.action, Action::Update);
    assert!(
        plan.reason.contains("applyOnTransformedLogs (true → false)"),
        "{}",
        plan.reason
    );
    // Without the settings, a filter that has the options is brought back to none.
    let plain = central(&[]);
    let plan = action(&plain, &g, std::slice::from_ref(&ours));
    assert_eq!(plan.action, Action::Update);
    assert!(
        plan.reason
            .contains("emitSystemFields (@aws.account,@aws.region → none)"),
        "{}",
        plan.reason
    );
}

#[test]
fn a_foreign_filter_with_options_is_left_alone() {
    let config = central(&[("EMIT_SYSTEM_FIELDS", "@aws.account")]);
    let mut foreign = filter(
        "blueprint",
        "arn:aws:lambda:us-east-1:123456789012:function:old",
        "",
    );
    foreign.emit_system_fields = vec!["@aws.region".into()];
    let mut ours = filter("sluice", FORWARDER, "");
    ours.emit_system_fields = vec!["@aws.account".into()];
    let plan = action(&config, &group("/central/app", None), &[foreign, ours]);
    assert_eq!(plan.action, Action::Unchanged, "{}", plan.reason);
}
