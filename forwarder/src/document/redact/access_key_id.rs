//! AWS access key ids (`AKIA…` long-term, `ASIA…` temporary;
//! <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html#identifiers-unique-ids>).
//!
//! A key id is an identifier, not a secret: AWS logs it itself, and it is where an
//! investigation starts (which key made this call, whose is it). So the fields AWS writes it
//! into are kept: CloudTrail's `userIdentity.accessKeyId`
//! (<https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-user-identity.html>)
//! and GuardDuty's `resource.accessKeyDetails.accessKeyId`
//! (<https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_finding-format.html>), in the
//! record as it is logged (not in JSON escaped inside a string). Anywhere else, free text above
//! all, a key id written out by hand usually stands beside its secret access key, and is
//! redacted with it.

use regex::Regex;

use super::REDACTED;

/// A key id as a whole word (ASCII word boundaries); `pre` is empty (the keyword rules' shape:
/// nothing is kept).
pub(super) const PATTERN: &str = r"(?-u)(?P<pre>)\b(?:AKIA|ASIA)[A-Z0-9]{16}\b";

/// The objects whose `accessKeyId` field is AWS's own record of a key id: CloudTrail's
/// `userIdentity`, GuardDuty's `accessKeyDetails`.
pub(super) const STRUCTURED_PARENTS: [&str; 2] = ["userIdentity", "accessKeyDetails"];

/// The field that holds a key id in [`STRUCTURED_PARENTS`].
pub(super) const FIELD: &str = "accessKeyId";

/// `text` with every key id matched by `rule` ([`PATTERN`]) replaced, but for those that are
/// the value of a structured field; `None` when nothing was replaced.
pub(super) fn redact_key_ids(rule: &Regex, text: &str) -> Option<String> {
    let mut out: Option<String> = None;
    let mut copied = 0;
    for found in rule.find_iter(text) {
        if in_structured_field(text.as_bytes(), found.start(), found.end()) {
            continue;
        }
        let out = out.get_or_insert_with(|| String::with_capacity(text.len()));
        out.push_str(&text[copied..found.start()]);
        out.push_str(REDACTED);
        copied = found.end();
    }
    out.map(|mut out| {
        out.push_str(&text[copied..]);
        out
    })
}

/// Whether `value` is a key id and nothing else: the value of a structured field, which the
/// structural pass keeps.
pub(super) fn is_key_id(value: &str) -> bool {
    let bytes = value.as_bytes();
    bytes.len() == 20
        && (value.starts_with("AKIA") || value.starts_with("ASIA"))
        && bytes[4..]
            .iter()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// Whether `start..end` is the whole string value of an unescaped JSON field `"accessKeyId"`
/// whose object is the value of a field named in [`STRUCTURED_PARENTS`].
fn in_structured_field(bytes: &[u8], start: usize, end: usize) -> bool {
    if bytes.get(end) != Some(&b'"') || start == 0 || bytes[start - 1] != b'"' {
        return false;
    }
    let Some(key_end) = before_separator(bytes, start - 1) else {
        return false;
    };
    let Some(key_start) = string_start(bytes, key_end) else {
        return false;
    };
    if &bytes[key_start + 1..key_end] != FIELD.as_bytes() {
        return false;
    }
    let Some(open) = enclosing_object(bytes, key_start) else {
        return false;
    };
    let Some(parent_end) = before_separator(bytes, open) else {
        return false;
    };
    let Some(parent_start) = string_start(bytes, parent_end) else {
        return false;
    };
    let parent = &bytes[parent_start + 1..parent_end];
    STRUCTURED_PARENTS.iter().any(|name| name.as_bytes() == parent)
}

/// The closing quote of the key before the value at `value` (its opening quote or brace):
/// `"key" : value`, spaces allowed; `None` when there is no such key.
fn before_separator(bytes: &[u8], value: usize) -> Option<usize> {
    let mut at = skip_space_back(bytes, value);
    if at == 0 || bytes[at - 1] != b':' {
        return None;
    }
    at = skip_space_back(bytes, at - 1);
    (at > 0 && unescaped_quote(bytes, at - 1)).then(|| at - 1)
}

/// Where the string that ends with the quote at `end` starts (its opening quote); `None` when
/// a backslash escapes that quote (JSON inside a JSON string, which is free text here).
fn string_start(bytes: &[u8], end: usize) -> Option<usize> {
    (0..end).rev().find(|&at| unescaped_quote(bytes, at))
}

/// The `{` that opens the object holding the key that starts at `key`, found by walking back
/// over whole strings, objects and arrays.
fn enclosing_object(bytes: &[u8], key: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut at = key;
    while at > 0 {
        at -= 1;
        match bytes[at] {
            b'"' if unescaped_quote(bytes, at) => at = string_start(bytes, at)?,
            b'}' | b']' => depth += 1,
            b'[' => depth = depth.checked_sub(1)?,
            b'{' if depth == 0 => return Some(at),
            b'{' => depth -= 1,
            _ => {}
        }
    }
    None
}

/// A quote that no backslash escapes (an even number of backslashes before it).
fn unescaped_quote(bytes: &[u8], at: usize) -> bool {
    bytes[at] == b'"' && bytes[..at].iter().rev().take_while(|&&b| b == b'\\').count() % 2 == 0
}

fn skip_space_back(bytes: &[u8], mut at: usize) -> usize {
    while at > 0 && bytes[at - 1].is_ascii_whitespace() {
        at -= 1;
    }
    at
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::super::{REDACTED, Redactor, RuleSet};

    fn redact(redactor: &Redactor, value: &Value) -> Value {
        let text = value.to_string();
        let redacted = crate::document::redacted(redactor, &text, 1);
        serde_json::from_str(&redacted).expect("still JSON")
    }

    /// A CloudTrail record, as the event reference lays one out
    /// (<https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html>),
    /// its values made up here: an `AssumeRole` call by an IAM user's long-term key, answered
    /// with temporary credentials.
    fn cloudtrail_record() -> Value {
        json!({
            "eventVersion": "1.10",
            "userIdentity": {
                "type": "IAMUser", "principalId": "AIDA2EXAMPLEPRINCIPAL",
                "arn": "arn:aws:iam::123456789012:user/ana", "accountId": "123456789012",
                "accessKeyId": "AKIA2EXAMPLE7KEYID01", "userName": "ana"
            },
            "eventTime": "2026-11-29T10:05:12Z", "eventSource": "sts.amazonaws.com",
            "eventName": "AssumeRole", "awsRegion": "eu-west-1", "sourceIPAddress": "198.51.100.7",
            "requestParameters": {"roleArn": "arn:aws:iam::123456789012:role/deploy", "roleSessionName": "ana"},
            "responseElements": {
                "credentials": {"accessKeyId": "ASIA2EXAMPLE7TEMP002", "sessionToken": "IQoJb3JpZ2luX2VjEXAMPLE",
                                "expiration": "Nov 29, 2026, 11:05:12 AM"},
                "assumedRoleUser": {"assumedRoleId": "AROA2EXAMPLEROLEID:ana",
                                    "arn": "arn:aws:sts::123456789012:assumed-role/deploy/ana"}
            },
            "requestID": "4b4e6a2c-0d38-4d6f-9b8e-0c6f6a1e2d3f", "eventID": "0e0e2f62-8f8f-4a7a-a5c9-2b3c4d5e6f70",
            "readOnly": true, "eventType": "AwsApiCall"
        })
    }

    /// A GuardDuty finding, in the layout of the finding format page (module doc), values made
    /// up here; only the fields around the key id.
    fn guardduty_finding() -> Value {
        json!({
            "schemaVersion": "2.0", "accountId": "123456789012", "region": "eu-west-1",
            "type": "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS",
            "resource": {
                "resourceType": "AccessKey",
                "accessKeyDetails": {"accessKeyId": "ASIA2EXAMPLE7TEMP003", "principalId": "AROA2EXAMPLEROLEID:i-0abc",
                                     "userName": "deploy", "userType": "AssumedRole"}
            },
            "service": {"serviceName": "guardduty", "count": 1},
            "severity": 8
        })
    }

    /// Issue 28, item 5: CloudTrail keeps the key that signed the call, whatever else is
    /// redacted in the record (the session token, which the structural pass rewrites the
    /// record for).
    #[test]
    fn cloudtrail_and_guardduty_keep_their_key_ids() {
        let redactor = Redactor::default();
        let record = redact(&redactor, &cloudtrail_record());
        assert_eq!(record["userIdentity"]["accessKeyId"], "AKIA2EXAMPLE7KEYID01");
        assert_eq!(
            record["responseElements"]["credentials"], REDACTED,
            "json-field, as before"
        );
        let finding = redact(&redactor, &guardduty_finding());
        assert_eq!(
            finding["resource"]["accessKeyDetails"]["accessKeyId"],
            "ASIA2EXAMPLE7TEMP003"
        );
        // Without the structural pass (no nested secret), the text is left as it was.
        let mut plain = cloudtrail_record();
        plain["responseElements"] = Value::Null;
        let text = plain.to_string();
        assert!(matches!(redactor.redact(&text), std::borrow::Cow::Borrowed(_)));
    }

    #[test]
    fn key_ids_in_free_text_beside_a_secret_are_still_redacted() {
        let redactor = Redactor::default();
        let line = "export AWS_ACCESS_KEY_ID=AKIA2EXAMPLE7KEYID01 AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
        let redacted = redactor.redact(line);
        assert!(!redacted.contains("AKIA2EXAMPLE7KEYID01"), "{redacted}");
        assert!(!redacted.contains("wJalrXUtnFEMI"), "{redacted}");
        // A CloudTrail record logged inside another message is text: escaped, it is redacted.
        let nested = json!({"msg": cloudtrail_record().to_string()}).to_string();
        assert!(!redactor.redact(&nested).contains("AKIA2EXAMPLE7KEYID01"));
        // So is an application's own JSON with the same field name elsewhere.
        let app = r#"{"aws":{"accessKeyId":"AKIA2EXAMPLE7KEYID01","region":"eu-west-1"}}"#;
        assert!(!redactor.redact(app).contains("AKIA2EXAMPLE7KEYID01"));
    }

    #[test]
    fn without_the_rule_key_ids_are_kept_everywhere() {
        let rules = RuleSet::parse("all,-aws-access-key-id").expect("valid");
        let redactor = Redactor::new(rules, &[]).expect("no custom rule");
        let line = "using AKIA2EXAMPLE7KEYID01 with wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
        assert_eq!(
            redactor.redact(line),
            "using AKIA2EXAMPLE7KEYID01 with [REDACTED]"
        );
        let record = redact(&redactor, &cloudtrail_record());
        assert_eq!(record["userIdentity"]["accessKeyId"], "AKIA2EXAMPLE7KEYID01");
    }
}
