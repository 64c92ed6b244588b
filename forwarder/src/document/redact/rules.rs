//! The built-in rules by name: what `REDACT_BUILTIN` switches on and off, one rule at a time.
//! The names are stable, since settings hold them: a rule renamed would fail a deployment.

use std::fmt;

/// One built-in rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// JSON fields whose name says they hold a secret (`password`, `token`, …).
    JsonField,
    /// `key=value` and `key: value` pairs whose key says so.
    KeyValue,
    /// `Authorization: Basic …` credentials.
    BasicAuth,
    /// Bearer tokens.
    BearerToken,
    /// AWS access key ids (`AKIA…`, `ASIA…`) in free text; CloudTrail's and GuardDuty's own
    /// fields keep them (see `access_key_id`).
    AwsAccessKeyId,
    /// AWS secret access keys.
    AwsSecretAccessKey,
    /// JSON Web Tokens.
    Jwt,
    /// PEM private key blocks.
    PrivateKey,
    /// Passwords in URLs.
    UrlPassword,
    /// The secret path of Slack incoming webhooks.
    SlackWebhook,
    /// Cookie values in `Cookie` and `Set-Cookie` headers.
    Cookie,
    /// GitHub tokens.
    GithubToken,
    /// GitLab personal access tokens.
    GitlabToken,
    /// Slack tokens.
    SlackToken,
    /// Stripe live secret and restricted keys.
    StripeKey,
    /// Google API keys.
    GoogleApiKey,
    /// npm access tokens.
    NpmToken,
}

impl Rule {
    /// Every built-in rule, in the order the documentation lists them.
    pub const ALL: [Rule; 17] = [
        Rule::JsonField,
        Rule::KeyValue,
        Rule::BasicAuth,
        Rule::BearerToken,
        Rule::AwsAccessKeyId,
        Rule::AwsSecretAccessKey,
        Rule::Jwt,
        Rule::PrivateKey,
        Rule::UrlPassword,
        Rule::SlackWebhook,
        Rule::Cookie,
        Rule::GithubToken,
        Rule::GitlabToken,
        Rule::SlackToken,
        Rule::StripeKey,
        Rule::GoogleApiKey,
        Rule::NpmToken,
    ];

    /// The name settings give the rule.
    pub fn name(self) -> &'static str {
        match self {
            Rule::JsonField => "json-field",
            Rule::KeyValue => "key-value",
            Rule::BasicAuth => "basic-auth",
            Rule::BearerToken => "bearer-token",
            Rule::AwsAccessKeyId => "aws-access-key-id",
            Rule::AwsSecretAccessKey => "aws-secret-access-key",
            Rule::Jwt => "jwt",
            Rule::PrivateKey => "private-key",
            Rule::UrlPassword => "url-password",
            Rule::SlackWebhook => "slack-webhook",
            Rule::Cookie => "cookie",
            Rule::GithubToken => "github-token",
            Rule::GitlabToken => "gitlab-token",
            Rule::SlackToken => "slack-token",
            Rule::StripeKey => "stripe-key",
            Rule::GoogleApiKey => "google-api-key",
            Rule::NpmToken => "npm-token",
        }
    }

    fn bit(self) -> u32 {
        1 << self as u32
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The built-in rules switched on: `REDACT_BUILTIN`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleSet(u32);

impl RuleSet {
    /// Every rule (`REDACT_BUILTIN=true`, the default).
    pub const ALL: RuleSet = RuleSet((1 << Rule::ALL.len()) - 1);
    /// None (`REDACT_BUILTIN=false`).
    pub const NONE: RuleSet = RuleSet(0);

    pub fn contains(self, rule: Rule) -> bool {
        self.0 & rule.bit() != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The set with `rule` switched on.
    pub fn with(self, rule: Rule) -> RuleSet {
        RuleSet(self.0 | rule.bit())
    }

    /// The set with `rule` switched off.
    pub fn without(self, rule: Rule) -> RuleSet {
        RuleSet(self.0 & !rule.bit())
    }

    /// Reads `REDACT_BUILTIN`: `true` or `false`, or a comma-separated list of rule names and
    /// `all`, applied in order, where `-name` switches a rule off (`all,-aws-access-key-id`,
    /// `cookie,private-key`). A list that starts with `-name` starts from every rule.
    pub fn parse(text: &str) -> Result<RuleSet, UnknownRule> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("true") {
            return Ok(RuleSet::ALL);
        }
        if text.eq_ignore_ascii_case("false") {
            return Ok(RuleSet::NONE);
        }
        let items: Vec<&str> = text
            .split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .collect();
        let start = match items.first() {
            Some(first) if first.starts_with('-') => RuleSet::ALL,
            _ => RuleSet::NONE,
        };
        items.iter().try_fold(start, |set, item| {
            let (off, name) = match item.strip_prefix('-') {
                Some(name) => (true, name.trim()),
                None => (false, *item),
            };
            let rules = match name.to_ascii_lowercase().as_str() {
                "all" => RuleSet::ALL,
                lower => RuleSet::NONE.with(rule_named(lower).ok_or_else(|| UnknownRule {
                    name: name.to_string(),
                })?),
            };
            Ok(if off {
                RuleSet(set.0 & !rules.0)
            } else {
                RuleSet(set.0 | rules.0)
            })
        })
    }
}

impl From<bool> for RuleSet {
    /// `true` is every rule, `false` none: `REDACT_BUILTIN`'s two words.
    fn from(on: bool) -> RuleSet {
        if on { RuleSet::ALL } else { RuleSet::NONE }
    }
}

fn rule_named(name: &str) -> Option<Rule> {
    Rule::ALL.into_iter().find(|rule| rule.name() == name)
}

/// A name in `REDACT_BUILTIN` that is no rule's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown rule {name:?}: expected true, false, or a comma-separated list of all and rule names, \
     each may be -name to switch it off; the rules are {}",
    names().join(", ")
)]
pub struct UnknownRule {
    pub name: String,
}

/// Every rule's name, in order.
pub fn names() -> Vec<&'static str> {
    Rule::ALL.iter().map(|rule| rule.name()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn true_and_false_still_switch_every_rule() {
        assert_eq!(RuleSet::parse("true"), Ok(RuleSet::ALL));
        assert_eq!(RuleSet::parse(" FALSE "), Ok(RuleSet::NONE));
        assert_eq!(RuleSet::from(true), RuleSet::ALL);
        assert!(Rule::ALL.iter().all(|rule| RuleSet::ALL.contains(*rule)));
    }

    #[test]
    fn lists_switch_rules_one_at_a_time() {
        let set = RuleSet::parse("all,-aws-access-key-id").expect("valid");
        assert_eq!(set, RuleSet::ALL.without(Rule::AwsAccessKeyId));
        assert_eq!(
            RuleSet::parse("-aws-access-key-id, -cookie"),
            Ok(set.without(Rule::Cookie))
        );
        let two = RuleSet::parse("cookie,private-key").expect("valid");
        assert_eq!(two, RuleSet::NONE.with(Rule::Cookie).with(Rule::PrivateKey));
        assert_eq!(
            RuleSet::parse("jwt,-all,npm-token"),
            Ok(RuleSet::NONE.with(Rule::NpmToken))
        );
    }

    #[test]
    fn every_rule_has_a_kebab_case_name_of_its_own() {
        for (i, rule) in Rule::ALL.iter().enumerate() {
            let name = rule.name();
            assert!(
                name.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            );
            assert_eq!(rule_named(name), Some(*rule));
            assert_eq!(Rule::ALL[i] as usize, i, "ALL is in declaration order");
        }
    }

    #[test]
    fn an_unknown_name_is_named_with_the_valid_ones() {
        let err = RuleSet::parse("all,-aws-key-id").expect_err("no such rule");
        assert_eq!(err.name, "aws-key-id");
        let text = err.to_string();
        assert!(text.contains("\"aws-key-id\""), "{text}");
        for name in names() {
            assert!(text.contains(name), "{name} missing: {text}");
        }
    }
}
