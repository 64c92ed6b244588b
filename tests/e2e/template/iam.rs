//! Whether a policy allows a request, decided as IAM decides within one policy: an explicit
//! Deny wins, else a matching Allow allows, else the request is implicitly denied (IAM User
//! Guide, "Policy evaluation logic").
//!
//! Enough of the policy language for Sluice's policies: `Principal` as `"*"` or a service,
//! `Action`, `Resource` and `NotResource` with the `*` and `?` wildcards, and the condition
//! operators `StringEquals`, `StringLike`, `ArnEquals`, `ArnLike` and `Bool`, where a key the
//! request does not carry fails the condition. Anything else panics rather than guess.

use serde_json::Value;

/// What is asked: by whom (a service principal, for a resource policy), which action on which
/// resource, and the condition keys the request carries.
pub struct Request<'a> {
    pub service: Option<&'a str>,
    pub action: &'a str,
    pub resource: &'a str,
    pub keys: &'a [(&'a str, &'a str)],
}

impl<'a> Request<'a> {
    /// A request of the role that holds an identity policy.
    pub fn by_role(action: &'a str, resource: &'a str) -> Request<'a> {
        Request {
            service: None,
            action,
            resource,
            keys: &[],
        }
    }

    pub fn with_keys(self, keys: &'a [(&'a str, &'a str)]) -> Request<'a> {
        Request { keys, ..self }
    }
}

/// Whether `statements` allow `request`.
pub fn allows(statements: &[Value], request: &Request) -> bool {
    let matching: Vec<&Value> = statements
        .iter()
        .filter(|statement| applies(statement, request))
        .collect();
    let effect = |wanted: &str| matching.iter().any(|statement| statement["Effect"] == wanted);
    !effect("Deny") && effect("Allow")
}

fn applies(statement: &Value, request: &Request) -> bool {
    principal_matches(statement.get("Principal"), request.service)
        && strings(&statement["Action"])
            .iter()
            .any(|action| wildcard(&action.to_lowercase(), &request.action.to_lowercase()))
        && resource_matches(statement, request.resource)
        && statement
            .get("Condition")
            .is_none_or(|condition| condition_holds(condition, request.keys))
}

fn principal_matches(principal: Option<&Value>, service: Option<&str>) -> bool {
    match (principal, service) {
        (None, _) => true,
        (Some(Value::String(any)), _) if any == "*" => true,
        (Some(principal), Some(service)) => strings(&principal["Service"]).iter().any(|s| s == service),
        (Some(_), None) => false,
    }
}

fn resource_matches(statement: &Value, resource: &str) -> bool {
    if let Some(listed) = statement.get("Resource") {
        return strings(listed).iter().any(|pattern| wildcard(pattern, resource));
    }
    let excluded = statement
        .get("NotResource")
        .unwrap_or_else(|| panic!("a statement without Resource or NotResource: {statement}"));
    !strings(excluded)
        .iter()
        .any(|pattern| wildcard(pattern, resource))
}

fn condition_holds(condition: &Value, keys: &[(&str, &str)]) -> bool {
    let operators = condition
        .as_object()
        .unwrap_or_else(|| panic!("a Condition is a map: {condition}"));
    operators.iter().all(|(operator, tests)| {
        let tests = tests.as_object().expect("an operator maps keys to values");
        tests.iter().all(|(key, wanted)| {
            let Some((_, actual)) = keys.iter().find(|(name, _)| name == key) else {
                return false;
            };
            strings(wanted).iter().any(|wanted| match operator.as_str() {
                "StringEquals" | "ArnEquals" | "Bool" => wanted == actual,
                "StringLike" | "ArnLike" => wildcard(wanted, actual),
                other => panic!("the evaluator does not know the operator {other}"),
            })
        })
    })
}

/// One string or a list of them.
fn strings(value: &Value) -> Vec<String> {
    match value {
        Value::String(one) => vec![one.clone()],
        Value::Array(many) => many
            .iter()
            .map(|item| {
                item.as_str()
                    .unwrap_or_else(|| panic!("not a string: {item}"))
                    .to_string()
            })
            .collect(),
        other => panic!("expected a string or a list of strings: {other}"),
    }
}

/// IAM's wildcards: `*` any run of characters, `?` any one character.
fn wildcard(pattern: &str, text: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let text: Vec<char> = text.chars().collect();
    // matched[j]: the pattern so far matches text[..j].
    let mut matched = vec![false; text.len() + 1];
    matched[0] = true;
    for symbol in pattern {
        let mut next = vec![false; text.len() + 1];
        for j in 0..=text.len() {
            next[j] = match symbol {
                '*' => matched[j] || (j > 0 && next[j - 1]),
                '?' => j > 0 && matched[j - 1],
                literal => j > 0 && matched[j - 1] && text[j - 1] == literal,
            };
        }
        matched = next;
    }
    matched[text.len()]
}

#[test]
fn wildcards_match_as_iam_documents_them() {
    assert!(wildcard("arn:*:s3:::logs/*", "arn:aws:s3:::logs/a/b.gz"));
    assert!(wildcard("arn:aws:s3:::*/cwl/*", "arn:aws:s3:::logs/cwl/x"));
    assert!(wildcard("s3:Get?bject", "s3:GetObject"));
    assert!(!wildcard("arn:*:s3:::logs/*", "arn:aws:s3:::logs-b/x"));
    assert!(!wildcard("arn:aws:s3:::logs", "arn:aws:s3:::logs/x"));
}
