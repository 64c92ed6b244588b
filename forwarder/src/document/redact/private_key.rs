//! PEM private key blocks, which span lines: gitleaks `private-key`
//! (`-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY-----`, cmd/generate/config/rules/privatekey.go) and
//! detect-secrets `PrivateKeyDetector` (RSA, DSA, EC, OPENSSH, PGP, SSH2 ENCRYPTED;
//! detect_secrets/plugins/private_key.py).

use std::ops::Range;

use memchr::{memchr, memmem};
use regex::Regex;

use super::Span;

/// The header line, anchored at the trigger word `-----begin`. PGP's ends in `KEY BLOCK-----`.
pub(super) const HEADER: &str = r"(?i-u)^-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----";

/// The private key block whose header is at `hit`: up to the end of its `-----END … -----` line.
/// Without an END line (a key cut across log events) it runs to the end of the message, or to the
/// first quote: a PEM block holds none, so a quote means the key's text has ended, as when the
/// key is a JSON string (`"-----BEGIN…\n…"`, or `\"…\"` escaped), whose JSON then stays valid.
pub(super) fn private_key_at(header: &Regex, text: &str, hit: &Range<usize>) -> Option<Span> {
    let header = header.find(&text[hit.start..])?;
    let bytes = text.as_bytes();
    let body = hit.start + header.end();
    let stop = match memchr(b'"', &bytes[body..]) {
        Some(quote) if bytes[body + quote - 1] == b'\\' => body + quote - 1,
        Some(quote) => body + quote,
        None => bytes.len(),
    };
    let end = memmem::find(&bytes[body..stop], b"-----END")
        .map(|end| body + end + "-----END".len())
        .map_or(stop, |after| {
            memmem::find(&bytes[after..stop], b"-----").map_or(stop, |dashes| after + dashes + 5)
        });
    Some(Span {
        start: hit.start,
        value: hit.start,
        end,
    })
}

#[cfg(test)]
mod tests {
    use super::super::Redactor;

    fn redact(text: &str) -> String {
        Redactor::default().redact(text).into_owned()
    }

    /// A fake PEM block of `kind` ("RSA PRIVATE KEY"), lines joined by `newline`.
    fn pem(kind: &str, newline: &str) -> String {
        let body = ["MIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu"; 3].join(newline);
        format!("-----BEGIN {kind}-----{newline}{body}{newline}-----END {kind}-----")
    }

    #[test]
    fn private_key_blocks_are_replaced_whole() {
        for kind in [
            "PRIVATE KEY",
            "RSA PRIVATE KEY",
            "EC PRIVATE KEY",
            "OPENSSH PRIVATE KEY",
            "ENCRYPTED PRIVATE KEY",
            "PGP PRIVATE KEY BLOCK",
        ] {
            let line = format!("loaded {}\nnext line", pem(kind, "\n"));
            assert_eq!(redact(&line), "loaded [REDACTED]\nnext line", "{kind}");
        }
    }

    #[test]
    fn a_key_cut_across_events_is_redacted_to_the_end_of_the_message() {
        let pem = pem("RSA PRIVATE KEY", "\n");
        let cut = &pem[..pem.len() / 2];
        assert_eq!(redact(&format!("key: {cut}")), "key: [REDACTED]");
    }

    #[test]
    fn a_key_in_a_json_string_leaves_the_json_valid() {
        // A Google service account key file, logged as JSON: newlines escaped.
        let key = pem("PRIVATE KEY", "\\n");
        let json = format!(r#"{{"type":"service_account","private_key":"{key}\n","client_id":"1"}}"#);
        let redacted = redact(&json);
        let value: serde_json::Value = serde_json::from_str(&redacted).expect("still JSON");
        assert_eq!(value["private_key"], "[REDACTED]\n");
        assert_eq!(value["client_id"], "1");
        // Cut before its END line, and inside an escaped JSON string.
        let cut = &key[..key.len() / 2];
        let nested = format!(r#"{{"msg":"{{\"key\":\"{cut}\",\"n\":1}}"}}"#);
        let redacted = redact(&nested);
        let value: serde_json::Value = serde_json::from_str(&redacted).expect("still JSON");
        assert_eq!(value["msg"], r#"{"key":"[REDACTED]","n":1}"#);
    }

    #[test]
    fn certificates_and_public_keys_are_no_secret() {
        for kind in ["CERTIFICATE", "PUBLIC KEY", "RSA PUBLIC KEY"] {
            let text = format!("trusting {}", pem(kind, "\n"));
            assert_eq!(redact(&text), text);
        }
    }
}
