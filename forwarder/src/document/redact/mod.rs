//! Redaction of secrets in log messages, before anything leaves the function.
//!
//! Built-in rules (each match becomes `[REDACTED]`): bearer tokens, `Authorization: Basic`
//! credentials, AWS access key ids (`AKIA…`/`ASIA…`), AWS secret access keys (40 characters of
//! base64 with mixed case and digits), JWTs, `password=…`/`secret: …`-style pairs, and JSON
//! fields whose name contains password, passwd, secret, token, authorization, credential or
//! api_key. Custom
//! rules are regular expressions whose whole match is replaced.
//!
//! Most messages contain none of the words the built-in rules need, so a single case-insensitive
//! substring scan decides whether the keyword rules run at all.

use std::borrow::Cow;
use std::ops::Range;

use regex::{Captures, Regex};

#[cfg(test)]
use self::json_field::JSON_FIELD_RULE;
use self::json_field::json_fields;
use self::secret_key::redact_secret_keys;
use self::triggers::Triggers;

mod json_field;
mod secret_key;
mod triggers;

/// What replaces a secret.
pub const REDACTED: &str = "[REDACTED]";

/// A user-supplied regular expression (redaction, include or exclude) that does not compile.
#[derive(Debug, thiserror::Error)]
#[error("invalid regular expression {pattern:?}: {source}")]
pub struct PatternError {
    pub pattern: String,
    #[source]
    pub source: regex::Error,
}

/// Compiles user-supplied patterns, naming the first one that is invalid.
pub fn compile_patterns(patterns: &[String]) -> Result<Vec<Regex>, PatternError> {
    patterns
        .iter()
        .map(|pattern| {
            Regex::new(pattern).map_err(|source| PatternError {
                pattern: pattern.clone(),
                source,
            })
        })
        .collect()
}

/// Names a JSON field holds a secret under (matched case-insensitively, anywhere in the name).
const SENSITIVE_KEYS: &str = r"password|passwd|secret|token|authorization|credential|api[_-]?key|apikey";

// The keyword rules, in the order they run (bits of a trigger's mask).
const JSON_FIELD: u8 = 1;
const BASIC: u8 = 1 << 1;
const BEARER: u8 = 1 << 2;
const PAIR: u8 = 1 << 3;
const ACCESS_KEY_ID: u8 = 1 << 4;
const JWT: u8 = 1 << 5;

/// Words (any case) without which a keyword rule cannot match, and the rules each one enables.
const TRIGGERS: &[(&str, u8)] = &[
    ("password", JSON_FIELD | PAIR),
    ("passwd", JSON_FIELD | PAIR),
    ("pwd", PAIR),
    ("secret", JSON_FIELD | PAIR),
    ("token", JSON_FIELD | PAIR),
    ("credential", JSON_FIELD),
    ("api_key", JSON_FIELD | PAIR),
    ("api-key", JSON_FIELD | PAIR),
    ("apikey", JSON_FIELD | PAIR),
    ("authorization", JSON_FIELD),
    ("basic", BASIC),
    ("bearer", BEARER),
    ("akia", ACCESS_KEY_ID),
    ("asia", ACCESS_KEY_ID),
    ("eyj", JWT),
];

/// The built-in rules, compiled once.
#[derive(Debug, Clone)]
struct Builtin {
    triggers: Triggers,
    /// Applied in order when a trigger word of their bit occurs; `$pre` is kept, the rest of
    /// the match replaced.
    keyword_rules: Vec<(u8, Regex)>,
    sensitive_key: Regex,
}

impl Builtin {
    fn new() -> Self {
        // JSON string or number fields are matched by hand (`json_field_at`; the equivalent
        // regular expression is `JSON_FIELD_RULE`); the other rules, each with its bit:
        let rules = [
            // Authorization headers with basic credentials.
            (
                BASIC,
                r"(?i)(?P<pre>authorization\s*[=:]\s*basic\s+)[A-Za-z0-9+/=]+",
            ),
            // Bearer tokens (RFC 6750 `b64token`).
            (BEARER, r"(?i)(?P<pre>\bbearer\s+)[A-Za-z0-9\-._~+/]+=*"),
            // key=value and key: value pairs. Inside a JSON string the value may be quoted with
            // escaped quotes (`password=\"x\"`) or hold escapes: both are taken whole, so neither
            // the secret nor a broken escape is left behind.
            (
                PAIR,
                r#"(?i)(?P<pre>\b[a-z0-9_.-]*(?:password|passwd|pwd|secret|token|api[_-]?key|apikey)[a-z0-9_.-]*\s*[=:]\s*)(?:\\"(?:[^"\\]|\\[^"])*\\"|"[^"]*"|'[^']*'|(?:[^\s,;&"'}\]\[<>\\]|\\[^"\s])+)"#,
            ),
            // AWS access key ids (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html#identifiers-unique-ids).
            (ACCESS_KEY_ID, r"(?P<pre>)\b(?:AKIA|ASIA)[A-Z0-9]{16}\b"),
            // JWTs: base64url header and payload, both JSON objects (`eyJ` is `{"`).
            (
                JWT,
                r"(?P<pre>)\beyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*",
            ),
        ];
        Builtin {
            triggers: Triggers::new(),
            keyword_rules: rules
                .iter()
                .map(|(bit, rule)| (*bit, Regex::new(rule).expect("built-in rule compiles")))
                .collect(),
            sensitive_key: Regex::new(&format!("(?i){SENSITIVE_KEYS}")).expect("built-in rule compiles"),
        }
    }

    /// The text with the built-in rules applied, and whether it has a sensitive JSON field
    /// whose value is an object or array (which only the structural pass can redact).
    fn redact<'a>(&self, text: Cow<'a, str>) -> (Cow<'a, str>, bool) {
        let mut text = text;
        let mut hits: Vec<(Range<usize>, u8)> = Vec::new();
        self.triggers
            .scan(text.as_ref(), |range, rules| hits.push((range, rules)));
        let mut needed = hits.iter().fold(0, |mask, (_, rules)| mask | rules);
        let mut structural = false;
        if needed & JSON_FIELD != 0 {
            // The most frequent rule, matched by hand where the trigger words are: several times
            // faster than its regular expression, `JSON_FIELD_RULE`, which the tests hold it to.
            let fields = json_fields(&text, &hits);
            structural = fields.iter().any(|field| field.nested && !field.escaped);
            let mut out = String::new();
            let mut copied = 0;
            for field in fields.iter().filter(|field| !field.nested) {
                out.push_str(&text[copied..field.start]);
                out.push_str(&replacement(
                    &text[field.start..field.value],
                    &text[field.value..field.end],
                ));
                copied = field.end;
            }
            if copied > 0 {
                out.push_str(&text[copied..]);
                // Words inside the replaced values are gone: their rules need not run.
                needed = hits
                    .iter()
                    .filter(|(hit, _)| {
                        !fields
                            .iter()
                            .any(|field| !field.nested && field.value <= hit.start && hit.end <= field.end)
                    })
                    .fold(0, |mask, (_, rules)| mask | rules);
                text = Cow::Owned(out);
            }
        }
        for (bit, rule) in &self.keyword_rules {
            if needed & bit == 0 {
                continue;
            }
            let replaced = rule.replace_all(&text, |caps: &Captures<'_>| {
                let pre = caps.name("pre").map_or("", |m| m.as_str());
                replacement(pre, &caps[0][pre.len()..])
            });
            if let Cow::Owned(replaced) = replaced {
                text = Cow::Owned(replaced);
                needed = self.triggers.rules_needed(&text);
            }
        }
        if let Some(replaced) = redact_secret_keys(&text) {
            text = Cow::Owned(replaced);
        }
        (text, structural)
    }
}

/// What replaces a match: `pre` (the key and separator) is kept, the value becomes
/// [`REDACTED`]; a JSON value stays a JSON string, escaped as the value was.
fn replacement(pre: &str, value: &str) -> String {
    if pre.trim_end().ends_with(':') {
        if value.starts_with("\\\"") {
            return format!("{pre}\\\"{REDACTED}\\\"");
        }
        if pre.starts_with('"') || pre.starts_with("\\\"") {
            return format!("{pre}\"{REDACTED}\"");
        }
    }
    format!("{pre}{REDACTED}")
}

/// Replaces secrets in log text with [`REDACTED`].
#[derive(Debug, Clone)]
pub struct Redactor {
    builtin: Option<Builtin>,
    custom: Vec<Regex>,
}

impl Default for Redactor {
    /// The built-in rules and no custom ones (`REDACT_BUILTIN=true`, `REDACT_PATTERNS` empty).
    fn default() -> Self {
        Redactor {
            builtin: Some(Builtin::new()),
            custom: Vec::new(),
        }
    }
}

impl Redactor {
    /// A redactor with the built-in rules switched on or off, plus `custom` regular expressions.
    pub fn new(builtin: bool, custom: &[String]) -> Result<Redactor, PatternError> {
        Ok(Redactor {
            builtin: builtin.then(Builtin::new),
            custom: compile_patterns(custom)?,
        })
    }

    /// A redactor that changes nothing.
    pub fn none() -> Redactor {
        Redactor {
            builtin: None,
            custom: Vec::new(),
        }
    }

    /// The text with every secret replaced; borrowed when there was nothing to replace.
    pub fn redact<'a>(&self, text: &'a str) -> Cow<'a, str> {
        self.redact_message(text).0
    }

    /// [`Redactor::redact`], and whether the result has a sensitive JSON field whose value is an
    /// object or array, which the text rules cannot reach: the caller then parses the JSON and
    /// calls [`Redactor::redact_value`]. One scan for trigger words serves both.
    pub fn redact_message<'a>(&self, text: &'a str) -> (Cow<'a, str>, bool) {
        let mut text = Cow::Borrowed(text);
        let mut structural = false;
        if let Some(builtin) = &self.builtin {
            (text, structural) = builtin.redact(text);
        }
        for rule in &self.custom {
            if let Cow::Owned(replaced) = rule.replace_all(&text, REDACTED) {
                text = Cow::Owned(replaced);
            }
        }
        (text, structural)
    }

    /// Redacts a parsed JSON value: sensitive fields become [`REDACTED`] whatever their value,
    /// and every string goes through [`Redactor::redact`].
    pub fn redact_value(&self, value: &mut serde_json::Value) {
        use serde_json::Value;
        match value {
            Value::String(text) => {
                if let Cow::Owned(replaced) = self.redact(text) {
                    *text = replaced;
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|item| self.redact_value(item)),
            Value::Object(fields) => {
                for (key, field) in fields.iter_mut() {
                    if self
                        .builtin
                        .as_ref()
                        .is_some_and(|b| b.sensitive_key.is_match(key))
                    {
                        *field = Value::String(REDACTED.to_owned());
                    } else {
                        self.redact_value(field);
                    }
                }
            }
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redact(text: &str) -> String {
        Redactor::default().redact(text).into_owned()
    }

    #[test]
    fn plain_text_is_borrowed_unchanged() {
        let text = "2026-11-22T00:00:00.000Z\tc0ffee\tINFO\tcache miss for key user:42 after 3 ms";
        assert!(matches!(Redactor::default().redact(text), Cow::Borrowed(t) if t == text));
    }

    #[test]
    fn bearer_tokens_and_basic_credentials() {
        assert_eq!(
            redact("Authorization: Bearer abc.DEF-123_x="),
            "Authorization: Bearer [REDACTED]"
        );
        assert_eq!(
            redact("authorization=Basic dXNlcjpwYXNz done"),
            "authorization=Basic [REDACTED] done"
        );
    }

    #[test]
    fn aws_keys() {
        // The example key pair of the AWS documentation.
        let line = "using AKIAIOSFODNN7EXAMPLE with wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY.";
        assert_eq!(redact(line), "using [REDACTED] with [REDACTED].");
        // A SHA-1 hex digest is 40 characters too but not a secret key.
        let digest = "commit 2fd4e1c67a2d28fced849ee1bb76e7391b93eb12 deployed";
        assert_eq!(redact(digest), digest);
    }

    #[test]
    fn the_json_field_matcher_finds_exactly_what_its_regular_expression_finds() {
        let oracle = Regex::new(JSON_FIELD_RULE).expect("compiles");
        let triggers = &Builtin::new().triggers;
        let corpus = [
            r#"{"password":"x","token":7,"ok":true}"#,
            r#"{"user":"bob","api_key" : "k-1","apiKey":-3.5e+2,"Secret":"a\"b"}"#,
            r#"{"db":{"password":{"a":1}},"tokens":["x"],"credential":null}"#,
            r#"{"msg":"{\"authorization\":\"Bearer abc\",\"n\":1}"}"#,
            r#"{"msg":"{\"password\":\"a\\\"b\"}"}"#,
            r#"text "password" then "token": and "secret":"#,
            r#"{"a":"password","b":"my token"}"#,
            r#"{"x_password_hash": "abc", "passwordToken":"d"}"#,
            r#"{"token":"unterminated"#,
            r#"{"token":-}"#,
            r#"2026-11-22T10:00:00Z	req	INFO	{"AUTHORIZATION":"Basic dXNlcg=="}"#,
            r#"\"password\":\"x" and \"token\":{"#,
        ];
        for text in corpus {
            let mut hits: Vec<(Range<usize>, u8)> = Vec::new();
            triggers.scan(text, |range, rules| hits.push((range, rules)));
            let found: Vec<(usize, usize, usize)> = json_fields(text, &hits)
                .iter()
                .map(|field| (field.start, field.value, field.end))
                .collect();
            let expected: Vec<(usize, usize, usize)> = oracle
                .captures_iter(text)
                .map(|caps| {
                    let whole = caps.get(0).expect("match");
                    let pre = caps.name("pre").expect("pre");
                    (whole.start(), pre.end(), whole.end())
                })
                .collect();
            assert_eq!(found, expected, "{text}");
        }
    }

    #[test]
    fn pairs_inside_json_strings_keep_the_json_valid() {
        let line = r#"{"msg":"login password=\"hunter2\" for bob","user":"bob"}"#;
        let redacted = redact(line);
        assert!(!redacted.contains("hunter2"), "{redacted}");
        let parsed: serde_json::Value = serde_json::from_str(&redacted).expect("still JSON");
        assert_eq!(parsed["msg"], "login password=[REDACTED] for bob");
        assert_eq!(parsed["user"], "bob");
        let escaped = r#"{"msg":"token=ab\\cd done"}"#;
        let redacted = redact(escaped);
        assert!(!redacted.contains("cd"), "{redacted}");
        serde_json::from_str::<serde_json::Value>(&redacted).expect("still JSON");
    }

    #[test]
    fn secret_keys_one_character_apart() {
        let a = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
        let b = "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY";
        assert_eq!(redact(&format!("{a},{b}")), "[REDACTED],[REDACTED]");
    }

    #[test]
    fn jwts() {
        let jwt =
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
        assert_eq!(redact(&format!("id_token {jwt} ok")), "id_token [REDACTED] ok");
    }

    #[test]
    fn key_value_pairs() {
        assert_eq!(
            redact("login password=hunter2 user=bob"),
            "login password=[REDACTED] user=bob"
        );
        assert_eq!(redact("db_secret: s3cr3t, next"), "db_secret: [REDACTED], next");
        assert_eq!(redact("API_KEY='abc def'"), "API_KEY=[REDACTED]");
    }

    #[test]
    fn json_fields_by_name() {
        assert_eq!(
            redact(r#"{"user":"bob","Password":"a \"b\" c","apiKey":12345,"refresh_token":"t"}"#),
            r#"{"user":"bob","Password":"[REDACTED]","apiKey":"[REDACTED]","refresh_token":"[REDACTED]"}"#
        );
        assert_eq!(
            redact(r#"{"details":{"authorization": "Bearer xxxxxxxx"}}"#),
            r#"{"details":{"authorization": "[REDACTED]"}}"#
        );
        // JSON inside a JSON string, as loggers that stringify request bodies write it.
        assert_eq!(
            redact(r#"{"body":"{\"password\":\"hunter2\"}"}"#),
            r#"{"body":"{\"password\":\"[REDACTED]\"}"}"#
        );
    }

    #[test]
    fn redacted_json_stays_valid_json() {
        let redacted = redact(r#"{"password":"x","token":7,"ok":true}"#);
        let value: serde_json::Value = serde_json::from_str(&redacted).expect("still JSON");
        assert_eq!(value["password"], REDACTED);
    }

    #[test]
    fn nested_sensitive_values_need_the_structural_pass() {
        let redactor = Redactor::default();
        let json = r#"{"credentials":{"a":1},"secrets":["x"],"user":{"name":"bob"}}"#;
        assert!(redactor.redact_message(json).1);
        assert!(!redactor.redact_message(r#"{"user":{"name":"bob"}}"#).1);
        assert!(!Redactor::none().redact_message(json).1, "built-in rules off");
        let mut value: serde_json::Value = serde_json::from_str(json).expect("JSON");
        redactor.redact_value(&mut value);
        assert_eq!(
            value,
            serde_json::json!({"credentials":REDACTED,"secrets":REDACTED,"user":{"name":"bob"}})
        );
    }

    #[test]
    fn builtin_rules_can_be_switched_off_and_custom_ones_added() {
        let redactor = Redactor::new(false, &[r"\b\d{3}-\d{2}-\d{4}\b".to_owned()]).expect("valid");
        assert_eq!(
            redactor.redact("password=x ssn 123-45-6789"),
            "password=x ssn [REDACTED]"
        );
    }

    #[test]
    fn an_invalid_custom_pattern_is_named() {
        let err = Redactor::new(true, &["ok".to_owned(), "(unclosed".to_owned()]).expect_err("invalid");
        assert_eq!(err.pattern, "(unclosed");
        assert!(err.to_string().contains("(unclosed"));
    }
}
