//! Credentials that announce themselves with a fixed prefix (`ghp_`, `xoxb-`, `AIza`...): the
//! prefix is the trigger word, and the rule is a regular expression anchored where the prefix
//! starts, so it costs nothing on a message without the prefix and one short match on one with.
//!
//! The formats are those the default rule sets of two secret scanners ship, cited per family:
//! gitleaks (`cmd/generate/config/rules/*.go`, compiled into `config/gitleaks.toml`) and Yelp's
//! detect-secrets (`detect_secrets/plugins/*.py`).

use std::ops::Range;

use super::Span;
use super::lazy::LazyRegex;
use super::rules::{Rule, RuleSet};

/// One family of tokens: the trigger words that start them (matched in any case by the scan),
/// and the shape of a whole token, anchored at the start of the trigger word less `back` bytes.
/// The named group `secret`, when there is one, is the part replaced; otherwise the whole match.
/// A trailing `(?:[^…]|$)` stands for the scanners' end-of-token boundary (the `regex` crate has
/// no look-ahead); it is never replaced. Where that boundary is a word's (after a letter or a
/// digit, anything but those and `_`), it is written `\b` in an ASCII expression (`(?-u)`),
/// which matches the same and compiles in a tenth of the memory of a Unicode class. Where a scanner bounds a token's length from above
/// (`{36,255}`), the rule does not: a longer run is taken whole, and a bounded repetition
/// compiles to one state per count, which cost 3.9 MB of resident memory (mimalloc keeps the
/// pages the compiler's temporaries touched) for rules that rarely run.
pub(super) struct Family {
    /// The rule that switches the family on or off (`REDACT_BUILTIN`).
    pub(super) rule: Rule,
    pub(super) triggers: &'static [&'static str],
    back: usize,
    pattern: &'static str,
}

/// The token families, in no particular order (their trigger words differ).
pub(super) const FAMILIES: &[Family] = &[
    // GitHub personal, OAuth, user-to-server, server-to-server (Actions' GITHUB_TOKEN) and
    // refresh tokens: gitleaks `github-pat`, `github-oauth`, `github-app-token`,
    // `github-refresh-token` (rules/github.go); detect-secrets `GitHubTokenDetector`
    // (plugins/github_token.py). Both take 36 characters; a longer run is taken whole.
    Family {
        rule: Rule::GithubToken,
        triggers: &["ghp_", "gho_", "ghu_", "ghs_", "ghr_"],
        back: 0,
        pattern: r"(?-u)^(?P<secret>gh[pousr]_[0-9A-Za-z]{36,})\b",
    },
    // GitHub fine-grained personal access tokens: gitleaks `github-fine-grained-pat`
    // (`github_pat_\w{82}`, rules/github.go).
    Family {
        rule: Rule::GithubToken,
        triggers: &["github_pat_"],
        back: 0,
        pattern: r"(?-u)^(?P<secret>github_pat_[0-9A-Za-z_]{82,})\b",
    },
    // GitLab personal access tokens, plain and routable: gitleaks `gitlab-pat`,
    // `gitlab-pat-routable` (rules/gitlab.go); detect-secrets `GitLabTokenDetector`.
    Family {
        rule: Rule::GitlabToken,
        triggers: &["glpat-"],
        back: 0,
        pattern: r"^(?P<secret>glpat-[0-9A-Za-z_-]{20,}(?:\.[0-9a-z]{9})?)(?:[^0-9A-Za-z_.-]|$)",
    },
    // Slack bot, user, workspace, refresh and configuration tokens (`xoxb-`, `xoxp-`, `xoxa-`,
    // `xoxe-`, `xoxe.xoxp-`): detect-secrets `SlackDetector`
    // (`xox(?:a|b|p|o|s|r)-(?:\d+-)+[a-z0-9]+`, plugins/slack.py), widened to gitleaks'
    // `slack-bot-token`, `slack-user-token`, `slack-legacy-workspace-token`,
    // `slack-config-*-token` (rules/slack.go). At least one numeric segment and eight characters
    // after it. The legacy `xoxr-`, `xoxs-` and `xoxo-` tokens are left out (one trigger word each).
    Family {
        rule: Rule::SlackToken,
        triggers: &["xoxb", "xoxp", "xoxa", "xoxe"],
        back: 0,
        pattern: r"(?-u)^(?P<secret>xox[abep](?:\.xox[bp])?-(?:[0-9]+-)+[0-9A-Za-z]{8,}[0-9A-Za-z-]*)",
    },
    // Stripe live secret and restricted keys: detect-secrets `StripeDetector`
    // (`(?:r|s)k_live_[0-9a-zA-Z]{24}`, plugins/stripe.py); gitleaks `stripe-access-token`
    // allows 10 to 99 characters; a longer run is taken whole. The trigger skips the first letter (one word for both).
    // Test-mode keys (`sk_test_`) are left alone, as detect-secrets does: they cannot move money.
    Family {
        rule: Rule::StripeKey,
        triggers: &["k_live_"],
        back: 1,
        pattern: r"(?-u)^(?P<secret>[rs]k_live_[0-9A-Za-z]{10,})\b",
    },
    // Google API keys: gitleaks `gcp-api-key` (`AIza[\w-]{35}` as a whole token, rules/gcp.go).
    Family {
        rule: Rule::GoogleApiKey,
        triggers: &["aiza"],
        back: 0,
        pattern: r"^(?P<secret>AIza[0-9A-Za-z_-]{35})(?:[^0-9A-Za-z_-]|$)",
    },
    // npm access tokens: gitleaks `npm-access-token` (`npm_[a-z0-9]{36}`, any case, rules/npm.go);
    // detect-secrets `NpmDetector` (plugins/npm.py).
    Family {
        rule: Rule::NpmToken,
        triggers: &["npm_"],
        back: 0,
        pattern: r"(?-u)^(?P<secret>npm_[0-9A-Za-z]{36})\b",
    },
];

/// The token families with their rules compiled.
#[derive(Debug, Clone)]
pub(super) struct Tokens {
    rules: Vec<(&'static [&'static str], usize, LazyRegex)>,
}

impl Tokens {
    /// The families whose rule is in `on`.
    pub(super) fn new(on: RuleSet) -> Tokens {
        Tokens {
            rules: FAMILIES
                .iter()
                .filter(|family| on.contains(family.rule))
                .map(|family| (family.triggers, family.back, LazyRegex::new(family.pattern)))
                .collect(),
        }
    }

    /// Compiles every family's rule (a test that each compiles).
    #[cfg(test)]
    pub(super) fn compile_all(&self) {
        for (_, _, rule) in &self.rules {
            rule.get();
        }
    }

    /// The token that starts with the trigger word at `hit`, if the text there is one.
    pub(super) fn at(&self, text: &str, hit: &Range<usize>) -> Option<Span> {
        let word = text.get(hit.clone())?;
        let (_, back, rule) = self
            .rules
            .iter()
            .find(|(triggers, _, _)| triggers.iter().any(|trigger| trigger.eq_ignore_ascii_case(word)))?;
        let start = hit.start.checked_sub(*back)?;
        let bytes = text.as_bytes();
        // Tokens start at a word boundary: `mysk_live_…` or `msg.` are no tokens.
        if !text.is_char_boundary(start)
            || start > 0 && (bytes[start - 1].is_ascii_alphanumeric() || bytes[start - 1] == b'_')
        {
            return None;
        }
        let caps = rule.get().captures(&text[start..])?;
        let secret = caps.name("secret").or_else(|| caps.get(0))?;
        Some(Span {
            start: start + secret.start(),
            value: start + secret.start(),
            end: start + secret.end(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::Redactor;

    fn redact(text: &str) -> String {
        Redactor::default().redact(text).into_owned()
    }

    /// `n` characters of a fake token (never a real one): letters of both cases and digits.
    pub(in super::super) fn fake(n: usize) -> String {
        "aB3dE5fG7hJ9kL2mN4pQ6rS8tU0vW1xY"
            .chars()
            .cycle()
            .take(n)
            .collect()
    }

    #[test]
    fn github_tokens() {
        for prefix in ["ghp_", "gho_", "ghu_", "ghs_", "ghr_"] {
            let token = format!("{prefix}{}", fake(36));
            assert_eq!(redact(&format!("token {token} used")), "token [REDACTED] used");
        }
        let fine_grained = format!("github_pat_{}_{}", fake(22), fake(59));
        assert_eq!(redact(&format!("GH={fine_grained};")), "GH=[REDACTED];");
        for text in [
            "ghp_ is the prefix of a personal access token".to_owned(),
            format!("ghp_{}", fake(20)),
            format!("xghp_{}", fake(36)),
        ] {
            assert_eq!(redact(&text), text);
        }
        // Longer than the scanners' bound (255): still a token, taken whole.
        let long = format!("ghp_{}", fake(300));
        assert_eq!(redact(&format!("token {long} used")), "token [REDACTED] used");
    }

    #[test]
    fn gitlab_personal_access_tokens() {
        let plain = format!("glpat-{}", fake(20));
        let routable = format!("glpat-{}.01{}", fake(27), "abc1234");
        assert_eq!(
            redact(&format!("PRIVATE-TOKEN: {plain}, {routable}")),
            "PRIVATE-TOKEN: [REDACTED], [REDACTED]"
        );
        let short = "glpat-XXXXXXX in the docs";
        assert_eq!(redact(short), short);
    }

    #[test]
    fn slack_tokens() {
        let bot = format!("xoxb-781236542736-2364535789652-{}", fake(24));
        let user = format!("xoxp-41684372915-1320496754-45609968301-{}", fake(32));
        let config = format!("xoxe.xoxp-1-{}", fake(163));
        let refresh = format!("xoxe-1-{}", fake(146));
        for token in [bot, user, config, refresh] {
            assert_eq!(redact(&format!("slack {token} ok")), "slack [REDACTED] ok");
        }
        // gitleaks' own false positives for Slack, and prose.
        for text in [
            "xoxb-12345-abcd234",
            "xoxb-Slack_BOT_TOKEN",
            "hugs and xoxo from the team, XOXB-2026",
        ] {
            assert_eq!(redact(text), text);
        }
    }

    #[test]
    fn stripe_live_keys_but_not_test_or_publishable_ones() {
        let secret = format!("sk_live_{}", fake(24));
        let restricted = format!("rk_live_{}", fake(99));
        assert_eq!(
            redact(&format!("stripe {secret} {restricted}")),
            "stripe [REDACTED] [REDACTED]"
        );
        for text in [
            format!("stripe sk_test_{}", fake(24)),
            format!("stripe pk_live_{}", fake(24)),
            "task_live_view rendered in 3 ms".to_owned(),
        ] {
            assert_eq!(redact(&text), text);
        }
    }

    #[test]
    fn google_api_keys() {
        let key = format!("AIza{}", fake(35));
        assert_eq!(
            redact(&format!("GET /maps?key={key}&q=x")),
            "GET /maps?key=[REDACTED]&q=x"
        );
        // gitleaks' false positives: too long a run, and prose.
        for text in [format!("AIza{}", fake(40)), "Zaizai AIzawa".to_owned()] {
            assert_eq!(redact(&text), text);
        }
    }

    #[test]
    fn npm_tokens() {
        let npm = format!("npm publish as npm_{}.", fake(36));
        assert_eq!(redact(&npm), "npm publish as [REDACTED].");
        let text = "npm_config_cache=/tmp/.npm npm_lifecycle_event=build";
        assert_eq!(redact(text), text);
    }
}
