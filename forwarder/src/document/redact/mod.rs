//! Redaction of secrets in log messages, before anything leaves the function.
//!
//! Built-in rules (each secret becomes `[REDACTED]`; names around it, such as the key of a
//! `password=` pair, a cookie's name or a URL's user and host, are kept): bearer tokens,
//! `Authorization: Basic` credentials, AWS access key ids (`AKIA…`/`ASIA…`) but in CloudTrail's
//! and GuardDuty's own fields ([`access_key_id`]), AWS secret access keys (40 characters of
//! base64 with mixed case and digits), JWTs, `password=…`/`secret: …`-style pairs, JSON fields
//! whose name contains password, passwd, secret, token, authorization, credential or api_key;
//! and, after the default rule sets of gitleaks and detect-secrets ([`tokens`], [`private_key`],
//! [`url_credentials`], [`cookie`]): GitHub, GitLab, Slack, Stripe live, Google API and npm keys,
//! PEM private key blocks, passwords in URLs, Slack webhook paths and cookie values. Each has a
//! name ([`rules`]) and is switched on or off on its own (`REDACT_BUILTIN`). Custom rules are
//! regular expressions whose whole match is replaced.
//!
//! Most messages contain none of the words the built-in rules need, so a single case-insensitive
//! substring scan decides whether any rule runs at all; rules matched by hand then look only
//! where their words are.

use std::borrow::Cow;
use std::ops::Range;
use std::sync::Arc;

use regex::{Captures, Regex};
use smallvec::SmallVec;

use self::access_key_id::redact_key_ids;
use self::cookie::cookie_values_at;
#[cfg(test)]
use self::json_field::JSON_FIELD_RULE;
use self::json_field::json_fields;
use self::lazy::LazyRegex;
use self::private_key::private_key_at;
pub use self::rules::{Rule, RuleSet, UnknownRule};
use self::secret_key::redact_secret_keys;
use self::tokens::Tokens;
use self::triggers::Triggers;
use self::url_credentials::{UrlCredentials, url_credential_at};

mod access_key_id;
mod cookie;
mod json_field;
mod lazy;
mod private_key;
pub mod rules;
mod secret_key;
#[cfg(test)]
mod tests;
mod tokens;
mod triggers;
mod url_credentials;

/// What replaces a secret.
pub(crate) const REDACTED: &str = "[REDACTED]";

/// The most passes of the built-in rules over one message (see `Builtin::redact`).
const MAX_PASSES: usize = 4;

/// A user-supplied regular expression (redaction, include or exclude) that does not compile.
#[derive(Debug, thiserror::Error)]
#[error("invalid regular expression {pattern:?}: {source}")]
pub struct PatternError {
    pub pattern: String,
    #[source]
    pub source: regex::Error,
}

/// Compiles user-supplied patterns, naming the first one that is invalid.
pub(crate) fn compile_patterns(patterns: &[String]) -> Result<Vec<Regex>, PatternError> {
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

/// Names a JSON field holds a secret under (matched case-insensitively, anywhere in the name;
/// ASCII, as every name in it is).
const SENSITIVE_KEY_RULE: &str =
    r"(?i-u)password|passwd|secret|token|authorization|credential|api[_-]?key|apikey";

/// A set of rules, one bit each: what a trigger word enables.
type Rules = u16;

// The rules matched by hand where their trigger words are, in one pass.
const JSON_FIELD: Rules = 1;
const TOKEN: Rules = 1 << 6;
const PRIVATE_KEY: Rules = 1 << 7;
const URL_CREDENTIALS: Rules = 1 << 8;
const COOKIE: Rules = 1 << 9;
const SPAN_RULES: Rules = JSON_FIELD | TOKEN | PRIVATE_KEY | URL_CREDENTIALS | COOKIE;
// The keyword rules, regular expressions run in this order after them.
const BASIC: Rules = 1 << 1;
const BEARER: Rules = 1 << 2;
const PAIR: Rules = 1 << 3;
const ACCESS_KEY_ID: Rules = 1 << 4;
const JWT: Rules = 1 << 5;

/// Words (any case) without which a rule cannot match, and the rules each one enables; the
/// trigger words of [`tokens::FAMILIES`] enable [`TOKEN`]. Each is 4 bytes or more, which keeps
/// the scan fast (see `triggers`): `pwd` is looked for as `pwd=`, `pwd:` and `pwd `; JWTs by the
/// `.eyJ` before their payload; URLs by the last letter of the usual schemes and `://`.
const TRIGGERS: &[(&str, Rules)] = &[
    ("password", JSON_FIELD | PAIR),
    ("passwd", JSON_FIELD | PAIR),
    ("pwd=", PAIR),
    ("pwd:", PAIR),
    ("pwd ", PAIR),
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
    (".eyj", JWT),
    ("-----begin", PRIVATE_KEY),
    // http, https, ftp, sftp, amqp, ldap, smtp; redis, rediss, postgres, nats, ws, wss; mysql,
    // postgresql, mssql. Others (mongodb's `b://`) are left out: each word costs scan time.
    ("p://", URL_CREDENTIALS),
    ("s://", URL_CREDENTIALS),
    ("l://", URL_CREDENTIALS),
    ("cookie", COOKIE),
];

/// The built-in rules switched on, compiled once.
#[derive(Debug, Clone)]
struct Builtin {
    rules: RuleSet,
    /// The rule bits of the rules switched on: the others' trigger words call for nothing.
    enabled: Rules,
    triggers: Triggers,
    tokens: Tokens,
    urls: UrlCredentials,
    private_key_header: LazyRegex,
    /// Applied in order when a trigger word of their bit occurs; `$pre` is kept, the rest of
    /// the match replaced.
    keyword_rules: Vec<(Rules, LazyRegex)>,
    /// The names of sensitive JSON fields, when `json-field` is on.
    sensitive_key: Option<LazyRegex>,
}

/// The trigger words found in a message: most have a few, kept without an allocation.
type Hits = SmallVec<[(Range<usize>, Rules); 8]>;
/// The matches of the rules matched by hand in a message (an access log line has one or two: its
/// URLs), kept without an allocation.
type Spans = SmallVec<[Span; 4]>;

/// A match of a rule matched by hand, as byte offsets: `start..value` is kept (a JSON key and
/// its separator), `value..end` is the secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Span {
    start: usize,
    value: usize,
    end: usize,
}

/// The rule bits of `rules`.
fn enabled_bits(rules: RuleSet) -> Rules {
    let bits = [
        (Rule::JsonField, JSON_FIELD),
        (Rule::KeyValue, PAIR),
        (Rule::BasicAuth, BASIC),
        (Rule::BearerToken, BEARER),
        (Rule::AwsAccessKeyId, ACCESS_KEY_ID),
        (Rule::Jwt, JWT),
        (Rule::PrivateKey, PRIVATE_KEY),
        (Rule::UrlPassword, URL_CREDENTIALS),
        (Rule::SlackWebhook, URL_CREDENTIALS),
        (Rule::Cookie, COOKIE),
    ];
    let token = tokens::FAMILIES.iter().any(|family| rules.contains(family.rule));
    bits.iter()
        .filter(|(rule, _)| rules.contains(*rule))
        .fold(if token { TOKEN } else { 0 }, |mask, (_, bit)| mask | bit)
}

impl Builtin {
    fn new(on: RuleSet) -> Self {
        // JSON string or number fields, tokens, private keys, URL passwords and cookies are
        // matched by hand where their trigger words are (`json_field_at`, whose regular
        // expression is `JSON_FIELD_RULE`, and the modules named so); the other rules, each
        // with its bit. Each is compiled when a message first calls for it ([`LazyRegex`]).
        // Those whose classes are all ASCII say so (`-u`): `\s` and `\b` are then ASCII, as
        // in gitleaks' Go expressions, and compiling costs a tenth of the memory.
        let rules = [
            // Authorization headers with basic credentials.
            (
                BASIC,
                r"(?i-u)(?P<pre>authorization\s*[=:]\s*basic\s+)[A-Za-z0-9+/=]+",
            ),
            // Bearer tokens (RFC 6750 `b64token`).
            (BEARER, r"(?i-u)(?P<pre>\bbearer\s+)[A-Za-z0-9\-._~+/]+=*"),
            // key=value and key: value pairs. Inside a JSON string the value may be quoted with
            // escaped quotes (`password=\"x\"`) or hold escapes: both are taken whole, so neither
            // the secret nor a broken escape is left behind. Unicode: a value's characters are
            // any but a few.
            (
                PAIR,
                r#"(?i)(?P<pre>\b[a-z0-9_.-]*(?:password|passwd|pwd|secret|token|api[_-]?key|apikey)[a-z0-9_.-]*\s*[=:]\s*)(?:\\"(?:[^"\\]|\\[^"])*\\"|"[^"]*"|'[^']*'|(?:[^\s,;&"'}\]\[<>\\]|\\[^"\s])+)"#,
            ),
            // AWS access key ids, kept in CloudTrail's and GuardDuty's fields (`access_key_id`).
            (ACCESS_KEY_ID, access_key_id::PATTERN),
            // JWTs: base64url header and payload, both JSON objects (`eyJ` is `{"`).
            (
                JWT,
                r"(?-u)(?P<pre>)\beyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*",
            ),
        ];
        let enabled = enabled_bits(on);
        Builtin {
            rules: on,
            enabled,
            triggers: Triggers::new(),
            tokens: Tokens::new(on),
            urls: UrlCredentials {
                password: on.contains(Rule::UrlPassword),
                slack_webhook: on.contains(Rule::SlackWebhook),
            },
            private_key_header: LazyRegex::new(private_key::HEADER),
            keyword_rules: rules
                .iter()
                .filter(|(bit, _)| enabled & bit != 0)
                .map(|(bit, rule)| (*bit, LazyRegex::new(rule)))
                .collect(),
            sensitive_key: on
                .contains(Rule::JsonField)
                .then(|| LazyRegex::new(SENSITIVE_KEY_RULE)),
        }
    }

    /// The text with the built-in rules applied, and whether it has a sensitive JSON field
    /// whose value is an object or array (which only the structural pass can redact).
    ///
    /// A replacement can change how the text after it reads: a quoted value taken whole may take
    /// the quote that opened the next JSON key, after which a field that was not one is (found by
    /// the `redact` fuzz target). So when a pass replaced something, passes repeat until one
    /// replaces nothing more, [`MAX_PASSES`] at most: a message without a secret costs one pass,
    /// one with a secret usually two.
    fn redact<'a>(&self, text: Cow<'a, str>) -> (Cow<'a, str>, bool) {
        let (mut text, mut structural) = self.redact_pass(text);
        if let Cow::Owned(_) = text {
            for _ in 1..MAX_PASSES {
                match self.redact_pass(Cow::Borrowed(text.as_ref())) {
                    (Cow::Owned(again), nested) if again != *text => {
                        structural |= nested;
                        text = Cow::Owned(again);
                    }
                    _ => break,
                }
            }
        }
        (text, structural)
    }

    /// One pass of the built-in rules over `text`.
    fn redact_pass<'a>(&self, text: Cow<'a, str>) -> (Cow<'a, str>, bool) {
        let mut text = text;
        let mut hits = Hits::new();
        self.triggers
            .scan(text.as_ref(), |range, rules| hits.push((range, rules)));
        let mut needed = hits.iter().fold(0, |mask, (_, rules)| mask | rules) & self.enabled;
        let mut structural = false;
        if needed & SPAN_RULES != 0 {
            let mut spans = Spans::new();
            if needed & JSON_FIELD != 0 {
                // The most frequent rule: several times faster by hand than its regular
                // expression, `JSON_FIELD_RULE`, which the tests hold it to.
                let fields = json_fields(&text, &hits);
                structural = fields.iter().any(|field| field.nested && !field.escaped);
                spans.extend(fields.iter().filter(|field| !field.nested).map(|field| Span {
                    start: field.start,
                    value: field.value,
                    end: field.end,
                }));
            }
            if needed & (TOKEN | PRIVATE_KEY | URL_CREDENTIALS | COOKIE) != 0 {
                self.spans_at_hits(&text, &hits, &mut spans);
            }
            if let Some(replaced) = replace_spans(&text, &mut spans) {
                // Words inside the replaced values are gone: their rules need not run.
                needed = hits
                    .iter()
                    .filter(|(hit, _)| {
                        !spans
                            .iter()
                            .any(|span| span.value <= hit.start && hit.end <= span.end)
                    })
                    .fold(0, |mask, (_, rules)| mask | rules)
                    & self.enabled;
                text = Cow::Owned(replaced);
            }
        }
        for (bit, rule) in &self.keyword_rules {
            if needed & bit == 0 {
                continue;
            }
            let rule = rule.get();
            let replaced = match *bit {
                ACCESS_KEY_ID => redact_key_ids(rule, &text).map_or(Cow::Borrowed(text.as_ref()), Cow::Owned),
                _ => rule.replace_all(&text, |caps: &Captures<'_>| {
                    let pre = caps.name("pre").map_or("", |m| m.as_str());
                    replacement(pre, &caps[0][pre.len()..])
                }),
            };
            if let Cow::Owned(replaced) = replaced {
                text = Cow::Owned(replaced);
                needed = self.triggers.rules_needed(&text) & self.enabled;
            }
        }
        if self.rules.contains(Rule::AwsSecretAccessKey)
            && let Some(replaced) = redact_secret_keys(&text)
        {
            text = Cow::Owned(replaced);
        }
        (text, structural)
    }

    /// Pushes the matches of the rules matched by hand, other than JSON fields, at their
    /// trigger words.
    fn spans_at_hits(&self, text: &str, hits: &[(Range<usize>, Rules)], spans: &mut Spans) {
        let bytes = text.as_bytes();
        for (hit, rules) in hits {
            // A word of a rule switched off calls for nothing, whatever other words called for.
            let rules = rules & self.enabled;
            if rules & TOKEN != 0 {
                spans.extend(self.tokens.at(text, hit));
            } else if rules & PRIVATE_KEY != 0 {
                spans.extend(private_key_at(self.private_key_header.get(), text, hit));
            } else if rules & URL_CREDENTIALS != 0 {
                spans.extend(url_credential_at(bytes, hit, self.urls));
            } else if rules & COOKIE != 0 {
                cookie_values_at(bytes, hit, spans);
            }
        }
    }
}

/// `text` with each span's value replaced (see [`replacement`]), or `None` without spans. Spans
/// that overlap an earlier one (a token inside a redacted JSON field) are dropped from `spans`,
/// which is left sorted.
fn replace_spans(text: &str, spans: &mut Spans) -> Option<String> {
    if spans.is_empty() {
        return None;
    }
    spans.sort_unstable_by_key(|span| (span.start, std::cmp::Reverse(span.end)));
    let mut copied = 0;
    spans.retain(|span| {
        // A dropped span does not move the end: one that starts inside a kept span and runs
        // past it must not hide the next one (found by the `redact` target).
        let keep = span.start >= copied;
        if keep {
            copied = span.end;
        }
        keep
    });
    let mut out = String::with_capacity(text.len());
    copied = 0;
    for span in spans.iter() {
        out.push_str(&text[copied..span.start]);
        out.push_str(&replacement(
            &text[span.start..span.value],
            &text[span.value..span.end],
        ));
        copied = span.end;
    }
    out.push_str(&text[copied..]);
    Some(out)
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

/// Replaces secrets in log text with [`REDACTED`]. A clone shares the compiled rules and their
/// match caches (a `Regex` cloned on its own starts caches of its own, which the document shapes'
/// copies would warm a second time).
#[derive(Debug, Clone)]
pub struct Redactor {
    builtin: Option<Arc<Builtin>>,
    custom: Arc<[Regex]>,
}

impl Default for Redactor {
    /// The built-in rules and no custom ones (`REDACT_BUILTIN=true`, `REDACT_PATTERNS` empty).
    fn default() -> Self {
        Redactor {
            builtin: Some(Arc::new(Builtin::new(RuleSet::ALL))),
            custom: Arc::from([]),
        }
    }
}

impl Redactor {
    /// A redactor with the built-in `rules` switched on (`true` for all of them, `false` for
    /// none), plus `custom` regular expressions.
    pub fn new(rules: impl Into<RuleSet>, custom: &[String]) -> Result<Redactor, PatternError> {
        let rules = rules.into();
        Ok(Redactor {
            builtin: (!rules.is_empty()).then(|| Arc::new(Builtin::new(rules))),
            custom: compile_patterns(custom)?.into(),
        })
    }

    /// A redactor that changes nothing.
    pub fn none() -> Redactor {
        Redactor {
            builtin: None,
            custom: Arc::from([]),
        }
    }

    /// The text with every secret replaced; borrowed when there was nothing to replace.
    pub fn redact<'a>(&self, text: &'a str) -> Cow<'a, str> {
        self.redact_message(text).0
    }

    /// [`Redactor::redact`], and whether the result has a sensitive JSON field whose value is an
    /// object or array, which the text rules cannot reach: the caller then parses the JSON and
    /// calls [`Redactor::redact_value`]. One scan for trigger words serves both.
    pub(crate) fn redact_message<'a>(&self, text: &'a str) -> (Cow<'a, str>, bool) {
        let mut text = Cow::Borrowed(text);
        let mut structural = false;
        if let Some(builtin) = &self.builtin {
            (text, structural) = builtin.redact(text);
        }
        (self.redact_custom(text), structural)
    }

    /// The text with the custom rules applied.
    fn redact_custom<'a>(&self, mut text: Cow<'a, str>) -> Cow<'a, str> {
        for rule in self.custom.iter() {
            if let Cow::Owned(replaced) = rule.replace_all(&text, REDACTED) {
                text = Cow::Owned(replaced);
            }
        }
        text
    }

    /// Redacts a parsed JSON value: sensitive fields become [`REDACTED`] whatever their value,
    /// and every string goes through [`Redactor::redact`], but for the key ids of CloudTrail's
    /// and GuardDuty's own fields ([`access_key_id`]), which only the custom rules see.
    pub(crate) fn redact_value(&self, value: &mut serde_json::Value) {
        self.redact_value_in(value, None);
    }

    /// [`Redactor::redact_value`] for a value of the field `parent` holds, if any.
    fn redact_value_in(&self, value: &mut serde_json::Value, parent: Option<&str>) {
        use serde_json::Value;
        match value {
            Value::String(text) => {
                if let Cow::Owned(replaced) = self.redact(text) {
                    *text = replaced;
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|item| self.redact_value_in(item, None)),
            Value::Object(fields) => {
                let sensitive = (self.builtin.as_ref())
                    .and_then(|b| b.sensitive_key.as_ref())
                    .map(LazyRegex::get);
                let keeps_key_id = parent.is_some_and(|p| access_key_id::STRUCTURED_PARENTS.contains(&p));
                for (key, field) in fields.iter_mut() {
                    match field {
                        _ if sensitive.is_some_and(|rule| rule.is_match(key)) => {
                            *field = Value::String(REDACTED.to_owned());
                        }
                        Value::String(text)
                            if keeps_key_id
                                && key == access_key_id::FIELD
                                && access_key_id::is_key_id(text) =>
                        {
                            if let Cow::Owned(replaced) = self.redact_custom(Cow::Borrowed(text)) {
                                *text = replaced;
                            }
                        }
                        _ => self.redact_value_in(field, Some(key)),
                    }
                }
            }
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
        }
    }
}
