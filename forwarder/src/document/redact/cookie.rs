//! Cookie values in `Cookie` and `Set-Cookie` headers (RFC 6265): session ids are bearer
//! credentials, and the OWASP Logging Cheat Sheet lists them among what must not be logged. No
//! scanner's default rule set has a generic rule for them (gitleaks only `gitlab-session-cookie`).

use std::ops::Range;

use super::{Span, Spans};

/// Pushes the value of every cookie in the header whose name (`cookie`, any case) is at `hit`,
/// keeping the cookie names. The header is written `Cookie: a=b; c=d` or, in JSON, `"cookie":
/// "a=b"` (escaped or not); in `Set-Cookie` only the first pair is a cookie, the rest are
/// attributes (`Path=/`), kept. A `cookie` that is no header name (`the cookie: none`) adds nothing.
pub(super) fn cookie_values_at(bytes: &[u8], hit: &Range<usize>, spans: &mut Spans) {
    let set = hit.start >= 4 && bytes[hit.start - 4..hit.start].eq_ignore_ascii_case(b"set-");
    let name = if set { hit.start - 4 } else { hit.start };
    if name > 0 && (bytes[name - 1].is_ascii_alphanumeric() || bytes[name - 1] == b'_') {
        return;
    }
    let mut at = skip_quote(bytes, hit.end);
    at = skip_spaces(bytes, at);
    if bytes.get(at) != Some(&b':') {
        return;
    }
    at = skip_quote(bytes, skip_spaces(bytes, at + 1));
    loop {
        // cookie-pair = cookie-name "=" cookie-value, the value ending where cookie-octets end.
        let name = at;
        while bytes.get(at).is_some_and(|&b| octet(b) && b != b'=') {
            at += 1;
        }
        if at == name || bytes.get(at) != Some(&b'=') {
            return;
        }
        at += 1;
        let value = at;
        while bytes.get(at).is_some_and(|&b| octet(b)) {
            at += 1;
        }
        if at > value {
            spans.push(Span {
                start: value,
                value,
                end: at,
            });
        }
        if set || bytes.get(at) != Some(&b';') {
            return;
        }
        at = skip_spaces(bytes, at + 1);
    }
}

/// A byte of a cookie name or value: printable ASCII but for separators (RFC 6265 cookie-octet,
/// less the backslash that escapes a quote in a JSON string).
fn octet(byte: u8) -> bool {
    byte.is_ascii_graphic() && !matches!(byte, b'"' | b',' | b';' | b'\\' | b'\'')
}

fn skip_spaces(bytes: &[u8], mut at: usize) -> usize {
    while bytes.get(at) == Some(&b' ') {
        at += 1;
    }
    at
}

/// Past a quote around a JSON key or value: `"`, `\"` or `'`.
fn skip_quote(bytes: &[u8], at: usize) -> usize {
    match (bytes.get(at), bytes.get(at + 1)) {
        (Some(b'"' | b'\''), _) => at + 1,
        (Some(b'\\'), Some(b'"')) => at + 2,
        _ => at,
    }
}

#[cfg(test)]
mod tests {
    use super::super::Redactor;

    fn redact(text: &str) -> String {
        Redactor::default().redact(text).into_owned()
    }

    #[test]
    fn cookie_and_set_cookie_headers() {
        assert_eq!(
            redact("Cookie: session=abc123; theme=dark"),
            "Cookie: session=[REDACTED]; theme=[REDACTED]"
        );
        assert_eq!(
            redact("set-cookie: sid=s%3Aq1w2e3==; Path=/; Expires=Wed, 21 Oct 2026 07:28:00 GMT; HttpOnly"),
            "set-cookie: sid=[REDACTED]; Path=/; Expires=Wed, 21 Oct 2026 07:28:00 GMT; HttpOnly"
        );
    }

    #[test]
    fn cookie_headers_in_json_stay_valid_json() {
        let json = r#"{"headers":{"Cookie":"sid=abc; csrf=def","user-agent":"curl/8"}}"#;
        let value: serde_json::Value = serde_json::from_str(&redact(json)).expect("still JSON");
        assert_eq!(value["headers"]["Cookie"], "sid=[REDACTED]; csrf=[REDACTED]");
        assert_eq!(value["headers"]["user-agent"], "curl/8");
        let escaped = r#"{"msg":"{\"set-cookie\" : \"sid=abc; Path=/\"}"}"#;
        let value: serde_json::Value = serde_json::from_str(&redact(escaped)).expect("still JSON");
        assert_eq!(value["msg"], r#"{"set-cookie" : "sid=[REDACTED]; Path=/"}"#);
    }

    #[test]
    fn the_word_cookie_in_prose_passes_untouched() {
        for text in [
            "cookie consent banner shown",
            "the cookie: none was set",
            "fortune cookie: lucky numbers 4, 8",
            "cookies: 3 set, mycookie: a=b",
        ] {
            assert_eq!(redact(text), text);
        }
    }
}
