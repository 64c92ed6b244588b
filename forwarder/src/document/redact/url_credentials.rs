//! Credentials in URLs. Passwords (`scheme://user:password@host`, RFC 3986 section 3.2.1
//! userinfo, which the RFC itself deprecates): detect-secrets `BasicAuthDetector`
//! (`://[^:]+:([^@]+)@`, detect_secrets/plugins/basic_auth.py); gitleaks has no default rule for
//! them. Slack incoming webhooks, whose path is the credential: gitleaks `slack-webhook-url`
//! (cmd/generate/config/rules/slack.go), detect-secrets `SlackDetector` (plugins/slack.py).

use std::ops::Range;

use super::Span;

/// Which of the two credentials of URLs are redacted: the rules `url-password` and
/// `slack-webhook`.
#[derive(Debug, Clone, Copy)]
pub(super) struct UrlCredentials {
    pub(super) password: bool,
    pub(super) slack_webhook: bool,
}

/// The credential of the URL whose scheme ends at `hit` (its last letter and `://`): the
/// password of its userinfo, or the path of a Slack webhook, each when `on` says so. The
/// userinfo ends at the first `@` of the authority, its password after the first `:`. The
/// authority ends at `/ ? #` (RFC 3986) or at a byte no URL holds unescaped (space, quote, `<`,
/// `>`, backslash), so `https://host/a@b` has no password. The scheme, user and host are kept.
pub(super) fn url_credential_at(bytes: &[u8], hit: &Range<usize>, on: UrlCredentials) -> Option<Span> {
    let mut colon = None;
    let mut at = hit.end;
    loop {
        match bytes.get(at) {
            Some(b'@') => break,
            Some(b':') if colon.is_none() => colon = Some(at),
            Some(b'/') if on.slack_webhook => return slack_webhook_path(bytes, &bytes[hit.end..at], at),
            Some(b'/') => return None,
            Some(&byte) if byte.is_ascii_graphic() && !b"?#\"'`<>\\".contains(&byte) => {}
            _ => return None,
        }
        at += 1;
    }
    let value = colon? + 1;
    (on.password && value < at).then_some(Span {
        start: value,
        value,
        end: at,
    })
}

/// The secret path of a Slack webhook (`/services/T…/B…/…`) whose host is `host`, the path
/// starting at `at`; the first segment is kept.
fn slack_webhook_path(bytes: &[u8], host: &[u8], at: usize) -> Option<Span> {
    if !host.eq_ignore_ascii_case(b"hooks.slack.com") {
        return None;
    }
    let path = &bytes[at..];
    let kept = ["/services/", "/workflows/", "/triggers/"]
        .iter()
        .find(|segment| path.starts_with(segment.as_bytes()))?
        .len();
    let secret = path[kept..]
        .iter()
        .take_while(|&&b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'+' | b'/' | b'-'))
        .count();
    (secret >= 20).then_some(Span {
        start: at + kept,
        value: at + kept,
        end: at + kept + secret,
    })
}

#[cfg(test)]
mod tests {
    use super::super::Redactor;

    fn redact(text: &str) -> String {
        Redactor::default().redact(text).into_owned()
    }

    #[test]
    fn url_passwords() {
        assert_eq!(
            redact("connecting to postgres://app:s3cr3t!@db.internal:5432/orders"),
            "connecting to postgres://app:[REDACTED]@db.internal:5432/orders"
        );
        // Redis URLs often have a password and no user.
        assert_eq!(
            redact("REDIS_URL=redis://:hunter2@cache:6379/0"),
            "REDIS_URL=redis://:[REDACTED]@cache:6379/0"
        );
        let json = r#"{"upstream":"https://deploy:pa%40ss@git.example.com/r.git","ok":true}"#;
        let value: serde_json::Value = serde_json::from_str(&redact(json)).expect("still JSON");
        assert_eq!(
            value["upstream"],
            "https://deploy:[REDACTED]@git.example.com/r.git"
        );
    }

    #[test]
    fn slack_webhook_paths() {
        let path = "T0AAAAAAA/B0BBBBBBB/cCcCcCcCcCcCcCcCcCcCcCcC";
        assert_eq!(
            redact(&format!("POST https://hooks.slack.com/services/{path} 200")),
            "POST https://hooks.slack.com/services/[REDACTED] 200"
        );
    }

    #[test]
    fn urls_without_a_password_pass_untouched() {
        for text in [
            "GET https://example.com/a@b?x=1:2 200",
            "see https://hooks.slack.com/ and https://hooks.slack.com/services/short",
            "cloning ssh://git@github.com/org/repo.git",
            "at Runtime.handleOnceNonStreaming (file:///var/runtime/index.mjs:1173:29)",
            "mail to mailto:bob@example.com or http://host:8080/path",
            "ratio http://4 and https://b c@d",
        ] {
            assert_eq!(redact(text), text);
        }
    }
}
