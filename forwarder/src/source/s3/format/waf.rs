//! AWS WAF web ACL logs, as AWS documents them:
//! <https://docs.aws.amazon.com/waf/latest/developerguide/logging-fields.html> (fields) and
//! <https://docs.aws.amazon.com/waf/latest/developerguide/logging-examples.html> (examples).
//!
//! A line is one JSON object. Its members are written under `waf` by their names in snake_case
//! (`terminatingRuleId` → `terminating_rule_id`, `requestBodySizeInspectedByWAF` →
//! `request_body_size_inspected_by_waf`); `timestamp`, epoch milliseconds, is the record's time.
//! The members of `httpRequest` (`clientIp`, `country`, `headers`, `uri`, `args`, `httpVersion`,
//! `httpMethod`, `requestId`, …) are written next to them, as the page lists them: `waf.client_ip`,
//! `waf.uri`. Nested structures (`headers`, `ruleGroupList`, `labels`, `captchaResponse`, …) are
//! kept as they are, their inner names AWS's own. `null`, `""` and `-` (an unknown country or
//! source) are left out.
//!
//! A member this module does not know is written by the same rules (strings, numbers, booleans and
//! nested JSON as they are); it is not in [`FIELDS`], so the index template's dynamic rules map it.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::value::RawValue;

use super::members::Members;
use super::{
    AccessRecord, EventKind, FieldType, FieldWriter, FormatSpec, KeyLayout, Lines, Reading, RecordError,
    Shared, Typed,
};
use crate::json::{push_raw_json, unique_members};

/// The documented members, `httpRequest`'s among them, under their snake_case names.
/// WAF's row of the format table: files under `…/AWSLogs/ACCOUNT/WAFLogs/REGION/WEBACL/…`
/// (<https://docs.aws.amazon.com/waf/latest/developerguide/logging-s3.html>).
pub(crate) static FORMAT: FormatSpec = FormatSpec {
    name: "waf",
    key: KeyLayout {
        service: Some("WAFLogs"),
        file: None,
    },
    content: None,
    reading: Reading::Lines(Lines::PLAIN),
    typed: Some(Typed {
        object: "waf",
        fields: FIELDS,
        parse: |line, _, out| parse(line).map(|record| record.into_parsed(out)),
    }),
    index_prefix: Some("waf"),
    dashboards: &[],
};

pub(crate) const FIELDS: &[(&str, FieldType)] = &[
    // Epoch milliseconds, which the `date` type reads as they are.
    ("timestamp", FieldType::Date),
    ("format_version", FieldType::Long),
    ("webacl_id", FieldType::Keyword),
    ("terminating_rule_id", FieldType::Keyword),
    ("terminating_rule_type", FieldType::Keyword),
    ("action", FieldType::Keyword),
    ("terminating_rule_match_details", FieldType::Object),
    ("http_source_name", FieldType::Keyword),
    ("http_source_id", FieldType::Keyword),
    ("rule_group_list", FieldType::Object),
    ("rate_based_rule_list", FieldType::Object),
    ("non_terminating_matching_rules", FieldType::Object),
    ("request_headers_inserted", FieldType::Object),
    ("response_code_sent", FieldType::Long),
    ("labels", FieldType::Object),
    ("captcha_response", FieldType::Object),
    ("challenge_response", FieldType::Object),
    ("cf_distribution_tenant_id", FieldType::Keyword),
    ("ja3_fingerprint", FieldType::Keyword),
    ("ja4_fingerprint", FieldType::Keyword),
    // httpRequest's members.
    ("client_ip", FieldType::Ip),
    ("country", FieldType::Keyword),
    ("headers", FieldType::Object),
    ("uri", FieldType::Keyword),
    ("args", FieldType::Keyword),
    ("http_version", FieldType::Keyword),
    ("http_method", FieldType::Keyword),
    ("request_id", FieldType::Keyword),
];

/// Parses one line.
pub fn parse(line: &str) -> Result<AccessRecord<'static>, RecordError> {
    if line.trim().is_empty() {
        return Err(RecordError::Blank);
    }
    let Members(members) = serde_json::from_str(line).map_err(|err| RecordError::Json {
        what: "not a WAF log record (JSON object)",
        reason: err.to_string(),
    })?;
    let mut out = FieldWriter::with_capacity(line.len() + 64);
    let mut request = Request::default();
    let mut time_ms = None;
    for (name, value) in members {
        match name.as_ref() {
            "timestamp" => {
                let ms: f64 = serde_json::from_str(value.get()).map_err(|_| RecordError::Value {
                    field: "timestamp".to_string(),
                    expected: "a number of milliseconds",
                    value: value.get().to_string(),
                })?;
                time_ms = Some(ms as i64);
                out.raw_json("timestamp", value.get());
            }
            "httpRequest" if value.get().starts_with('{') => {
                let Members(members) =
                    serde_json::from_str(value.get()).map_err(|err| RecordError::Json {
                        what: "httpRequest",
                        reason: err.to_string(),
                    })?;
                for (name, value) in members {
                    request.member(&mut out, &name, value)?;
                }
            }
            "responseCodeSent" => {
                request.status = serde_json::from_str(value.get()).ok();
                write(&mut out, &key(&name), value)?;
            }
            "action" => {
                request.action = string(value).map(Cow::into_owned);
                write(&mut out, &key(&name), value)?;
            }
            "terminatingRuleId" => {
                request.rule_id = string(value).map(Cow::into_owned);
                write(&mut out, &key(&name), value)?;
            }
            _ => write(&mut out, &key(&name), value)?,
        }
    }
    let url_original = request
        .uri
        .filter(|uri| !uri.is_empty())
        .map(|uri| match request.args {
            Some(args) if !args.is_empty() => format!("{uri}?{args}"),
            _ => uri,
        });
    Ok(AccessRecord {
        time_ms,
        // A member twice, or two whose snake_case names meet, or a key twice inside a nested
        // structure, once: the last value wins.
        fields: unique_members(out.finish()),
        shared: Shared {
            kind: Some(EventKind::WebAccess),
            client_ip: request.client_ip.map(Cow::Owned),
            client_port: None,
            http_method: request.method.map(Cow::Owned),
            // Only a custom response says what was sent.
            http_status_code: request.status,
            url_original: url_original.map(Cow::Owned),
            user_agent: request.user_agent.map(Cow::Owned),
            allowed: match request.action.as_deref() {
                Some("ALLOW") => Some(true),
                Some("BLOCK") => Some(false),
                _ => None,
            },
            action: (request.action.filter(|a| !a.is_empty())).map(|a| Cow::Owned(a.to_ascii_lowercase())),
            rule_id: request.rule_id.filter(|r| !r.is_empty()).map(Cow::Owned),
            country: request.country.map(Cow::Owned),
            ..Shared::default()
        },
    })
}

/// What `httpRequest` gives the shared fields.
#[derive(Default)]
struct Request {
    client_ip: Option<String>,
    method: Option<String>,
    uri: Option<String>,
    args: Option<String>,
    user_agent: Option<String>,
    status: Option<u16>,
    country: Option<String>,
    /// The record's own members, kept here for the shared fields: the terminating action and
    /// rule.
    action: Option<String>,
    rule_id: Option<String>,
}

impl Request {
    /// Writes a member of `httpRequest` and keeps what the shared fields need.
    fn member(&mut self, out: &mut FieldWriter, name: &str, value: &RawValue) -> Result<(), RecordError> {
        let key = key(name);
        let text = || {
            string(value)
                .map(|text| text.into_owned())
                .filter(|text| !text.is_empty() && text != "-")
        };
        match name {
            "clientIp" => self.client_ip = text(),
            "httpMethod" => self.method = text(),
            "uri" => self.uri = text(),
            "args" => self.args = text(),
            "country" => self.country = text(),
            "headers" => {
                let headers: Vec<Header<'_>> = serde_json::from_str(value.get()).unwrap_or_default();
                self.user_agent = headers
                    .into_iter()
                    .find(|header| header.name.eq_ignore_ascii_case("user-agent"))
                    .map(|header| header.value.into_owned());
            }
            _ => {}
        }
        write(out, &key, value)
    }
}

/// A request header as WAF logs it.
#[derive(Deserialize)]
struct Header<'a> {
    #[serde(borrow)]
    name: Cow<'a, str>,
    #[serde(borrow)]
    value: Cow<'a, str>,
}

/// Writes a member by its JSON type: strings as strings (`-` and `""` left out), nested structures,
/// numbers and booleans as they are, `null` left out.
fn write(out: &mut FieldWriter, key: &str, value: &RawValue) -> Result<(), RecordError> {
    let json = value.get();
    match json.as_bytes().first() {
        Some(b'"') => {
            let text = string(value).ok_or_else(|| RecordError::Value {
                field: key.to_string(),
                expected: "a string",
                value: json.to_string(),
            })?;
            out.str(key, &text);
        }
        Some(b'n') => {}
        Some(b'{' | b'[') if json.contains(['\n', '\r']) => {
            let mut one_line = String::with_capacity(json.len());
            push_raw_json(&mut one_line, json);
            out.raw_json(key, &one_line);
        }
        _ => out.raw_json(key, json),
    }
    Ok(())
}

/// A JSON string's text, borrowed where it has no escapes.
fn string(value: &RawValue) -> Option<Cow<'_, str>> {
    #[derive(Deserialize)]
    struct Text<'a>(#[serde(borrow)] Cow<'a, str>);
    serde_json::from_str::<Text<'_>>(value.get())
        .ok()
        .map(|Text(text)| text)
}

/// A member's key: a documented name's from a table (no allocation), any other by
/// [`snake_case`].
fn key(name: &str) -> Cow<'_, str> {
    Cow::Borrowed(match name {
        "formatVersion" => "format_version",
        "webaclId" => "webacl_id",
        "terminatingRuleId" => "terminating_rule_id",
        "terminatingRuleType" => "terminating_rule_type",
        "terminatingRuleMatchDetails" => "terminating_rule_match_details",
        "httpSourceName" => "http_source_name",
        "httpSourceId" => "http_source_id",
        "ruleGroupList" => "rule_group_list",
        "rateBasedRuleList" => "rate_based_rule_list",
        "nonTerminatingMatchingRules" => "non_terminating_matching_rules",
        "requestHeadersInserted" => "request_headers_inserted",
        "responseCodeSent" => "response_code_sent",
        "captchaResponse" => "captcha_response",
        "challengeResponse" => "challenge_response",
        "cfDistributionTenantId" => "cf_distribution_tenant_id",
        "ja3Fingerprint" => "ja3_fingerprint",
        "ja4Fingerprint" => "ja4_fingerprint",
        "clientIp" => "client_ip",
        "httpVersion" => "http_version",
        "httpMethod" => "http_method",
        "requestId" => "request_id",
        _ => return snake_case(name),
    })
}

/// A camelCase name in snake_case: `_` before a capital that follows a small letter or digit, or
/// that starts a word after an acronym (`requestBodySizeInspectedByWAF` →
/// `request_body_size_inspected_by_waf`, `JA3Hash` → `ja3_hash`).
pub(super) fn snake_case(name: &str) -> Cow<'_, str> {
    if !name.bytes().any(|b| b.is_ascii_uppercase()) {
        return Cow::Borrowed(name);
    }
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            let before = chars[i - 1];
            let next_small = chars.get(i + 1).is_some_and(char::is_ascii_lowercase);
            if before.is_ascii_lowercase()
                || before.is_ascii_digit()
                || (before.is_ascii_uppercase() && next_small)
            {
                out.push('_');
            }
        }
        out.push(c.to_ascii_lowercase());
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use serde_json::{Map, Value, json};

    use super::super::check;
    use super::*;

    /// The six examples of the log examples page (as AWS published them up to 2023), each on one
    /// line as WAF writes them: SQLi terminating and non-terminating, a rule group, a JSON body, a
    /// CAPTCHA with a valid token and one without.
    const SAMPLES: &str = include_str!("../../../../../tests/fixtures/access/waf-examples.jsonl");

    fn object(record: &AccessRecord) -> Map<String, Value> {
        check::object(&record.fields)
    }

    /// Every key written is in FIELDS, with a value of its mapping type.
    fn assert_typed(record: &AccessRecord) {
        check::typed(&record.fields, FIELDS);
    }

    #[test]
    fn the_documented_examples_parse_into_typed_fields() {
        let records: Vec<AccessRecord> = SAMPLES.lines().map(|line| parse(line).unwrap()).collect();
        assert_eq!(records.len(), 6);
        records.iter().for_each(assert_typed);

        let first = &records[0];
        assert_eq!(first.time_ms, Some(1_576_280_412_771));
        let fields = object(first);
        assert_eq!(fields["timestamp"], 1_576_280_412_771_i64);
        assert_eq!(fields["format_version"], 1);
        assert_eq!(
            fields["webacl_id"],
            "arn:aws:wafv2:ap-southeast-2:111122223333:regional/webacl/STMTest/1EXAMPLE-2ARN-3ARN-4ARN-123456EXAMPLE"
        );
        assert_eq!(fields["terminating_rule_id"], "STMTest_SQLi_XSS");
        assert_eq!(fields["terminating_rule_type"], "REGULAR");
        assert_eq!(fields["action"], "BLOCK");
        assert_eq!(
            fields["terminating_rule_match_details"],
            json!([{"conditionType": "SQL_INJECTION", "location": "HEADER", "matchedData": ["10", "AND", "1"]}])
        );
        assert_eq!(fields["rule_group_list"], json!([]));
        assert_eq!(fields["client_ip"], "1.1.1.1");
        assert_eq!(fields["country"], "AU");
        assert_eq!(
            fields["headers"][3],
            json!({"name": "x-stm-test", "value": "10 AND 1=1"})
        );
        assert_eq!(fields["uri"], "/foo");
        assert_eq!(fields["http_version"], "HTTP/1.1");
        assert_eq!(fields["request_id"], "rid");
        assert_eq!(fields["labels"], json!([{"name": "value"}]));
        // `-` (no source) and `""` (no query string) are left out.
        for absent in ["http_source_name", "http_source_id", "args", "http_request"] {
            assert!(!fields.contains_key(absent), "{absent}");
        }
        assert_eq!(
            first.shared,
            Shared {
                client_ip: Some("1.1.1.1".into()),
                client_port: None,
                http_method: Some("GET".into()),
                http_status_code: None,
                url_original: Some("/foo".into()),
                user_agent: Some("curl/7.61.1".into()),
                kind: Some(EventKind::WebAccess),
                action: Some("block".into()),
                allowed: Some(false),
                rule_id: Some("STMTest_SQLi_XSS".into()),
                country: Some("AU".into()),
                ..Shared::default()
            }
        );
    }

    /// The page's examples of a rule group, an empty URI and CAPTCHA actions.
    #[test]
    fn the_documented_group_body_and_captcha_examples_keep_their_structures() {
        let records: Vec<AccessRecord> = SAMPLES.lines().map(|line| parse(line).unwrap()).collect();
        let group = object(&records[2]);
        assert_eq!(group["terminating_rule_type"], "GROUP");
        assert_eq!(
            group["rule_group_list"][0]["terminatingRule"]["ruleId"],
            "RuleA-XSS"
        );
        assert_eq!(group["headers"][3]["value"], "<frameset onload=alert(1)>");

        // An empty uri is no URL; nulls are left out.
        let body = object(&records[3]);
        assert!(!body.contains_key("uri") && !body.contains_key("response_code_sent"));
        assert!(!body.contains_key("request_headers_inserted"));
        assert_eq!(records[3].shared.url_original, None);
        assert_eq!(records[3].shared.user_agent, None);

        let captcha_passed = object(&records[4]);
        assert_eq!(
            captcha_passed["non_terminating_matching_rules"][0]["captchaResponse"]["solveTimestamp"],
            1_632_420_429
        );
        assert_eq!(
            captcha_passed["request_headers_inserted"][0]["name"],
            "x-amzn-waf-test-header-name"
        );
        assert_eq!(
            records[4].shared.user_agent.as_deref(),
            Some(
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/94.0.4606.54 Safari/537.36"
            )
        );

        let captcha_blocked = &records[5];
        let fields = object(captcha_blocked);
        assert_eq!(fields["action"], "CAPTCHA");
        assert_eq!(fields["response_code_sent"], 405);
        assert_eq!(fields["captcha_response"]["failureReason"], "TOKEN_MISSING");
        assert_eq!(captcha_blocked.shared.http_status_code, Some(405));
    }

    #[test]
    fn a_query_string_and_an_ipv6_client_fill_the_shared_fields() {
        let line = r#"{"timestamp":1700000000123,"action":"ALLOW","httpRequest":{"clientIp":"2001:db8::42","country":"-","headers":[{"name":"USER-AGENT","value":"agent \"with\" quotes"}],"uri":"/a b","args":"q=1&r=%20","httpMethod":"POST","scheme":"https","host":"example.com"}}"#;
        let record = parse(line).unwrap();
        assert_eq!(record.time_ms, Some(1_700_000_000_123));
        assert_eq!(record.shared.client_ip.as_deref(), Some("2001:db8::42"));
        assert_eq!(record.shared.url_original.as_deref(), Some("/a b?q=1&r=%20"));
        assert_eq!(record.shared.user_agent.as_deref(), Some("agent \"with\" quotes"));
        assert_eq!(record.shared.http_method.as_deref(), Some("POST"));
        let fields = object(&record);
        assert!(!fields.contains_key("country"));
        assert_eq!(fields["client_ip"], "2001:db8::42");
        // Members not in FIELDS are kept by the same naming rule.
        assert_eq!(fields["scheme"], "https");
        assert_eq!(fields["host"], "example.com");
    }

    #[test]
    fn members_added_later_are_kept_by_their_json_type() {
        let line = r#"{"timestamp":1,"requestBodySizeInspectedByWAF":8192,"ja3Fingerprint":"abc","oversizeFields":["REQUEST_BODY"],"isNew":true,"ratio":0.5,"empty":null}"#;
        let fields = object(&parse(line).unwrap());
        assert_eq!(
            Value::Object(fields),
            json!({
                "timestamp": 1,
                "request_body_size_inspected_by_waf": 8192,
                "ja3_fingerprint": "abc",
                "oversize_fields": ["REQUEST_BODY"],
                "is_new": true,
                "ratio": 0.5,
            })
        );
    }

    #[test]
    fn documented_names_have_their_snake_case_keys_in_fields() {
        let names = [
            "timestamp",
            "formatVersion",
            "webaclId",
            "terminatingRuleId",
            "terminatingRuleType",
            "action",
            "terminatingRuleMatchDetails",
            "httpSourceName",
            "httpSourceId",
            "ruleGroupList",
            "rateBasedRuleList",
            "nonTerminatingMatchingRules",
            "requestHeadersInserted",
            "responseCodeSent",
            "labels",
            "captchaResponse",
            "challengeResponse",
            "cfDistributionTenantId",
            "ja3Fingerprint",
            "ja4Fingerprint",
            "clientIp",
            "country",
            "headers",
            "uri",
            "args",
            "httpVersion",
            "httpMethod",
            "requestId",
        ];
        assert_eq!(names.len(), FIELDS.len());
        for (name, (field, _)) in names.iter().zip(FIELDS) {
            assert_eq!(key(name), *field);
            assert_eq!(snake_case(name), *field);
        }
    }

    #[test]
    fn names_become_snake_case() {
        for (name, snake) in [
            ("webaclId", "webacl_id"),
            ("terminatingRuleMatchDetails", "terminating_rule_match_details"),
            (
                "requestBodySizeInspectedByWAF",
                "request_body_size_inspected_by_waf",
            ),
            ("ja3Fingerprint", "ja3_fingerprint"),
            ("clientIp", "client_ip"),
            ("JA3Hash", "ja3_hash"),
            ("action", "action"),
        ] {
            assert_eq!(snake_case(name), snake);
        }
    }

    #[test]
    fn a_pretty_printed_record_is_written_on_one_line() {
        let record = parse("{\"timestamp\": 5,\r\n \"labels\": [\r\n {\"name\": \"a\"}]}").unwrap();
        assert!(!record.fields.contains(['\n', '\r']));
        assert_eq!(object(&record)["labels"], json!([{"name": "a"}]));
    }

    #[test]
    fn bad_lines_say_what_is_wrong() {
        assert_eq!(parse("").unwrap_err(), "empty line");
        let garbage = parse("2024-01-01 something happened").unwrap_err().to_string();
        assert!(
            garbage.starts_with("not a WAF log record (JSON object): "),
            "{garbage}"
        );
        assert!(
            parse("[1, 2]")
                .unwrap_err()
                .to_string()
                .contains("expected a JSON object")
        );
        assert!(
            parse(r#"{"timestamp":1} trailing"#)
                .unwrap_err()
                .to_string()
                .contains("trailing characters")
        );
        assert_eq!(
            parse(r#"{"timestamp":"yesterday"}"#).unwrap_err(),
            "timestamp is not a number of milliseconds: \"yesterday\""
        );
    }
}
