//! Which log groups Sluice may subscribe: include and exclude globs (exclude wins), and the groups
//! it always leaves alone whatever the globs say.

use std::collections::BTreeMap;

use crate::config::{Config, DestinationKind, SubscriptionScope, TagRule};

/// Log group classes that take no subscription filter: `DELIVERY` groups only deliver Lambda logs
/// to S3 or Firehose, and `INFREQUENT_ACCESS` groups offer a subset of features without
/// subscription filters (CloudWatch Logs "Log classes" page). Unknown future classes are tried.
pub const UNSUPPORTED_CLASSES: [&str; 2] = ["DELIVERY", "INFREQUENT_ACCESS"];

/// What the rules say about one log group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// Sluice subscribes it.
    Selected,
    /// Left alone by the patterns or by a rule; the reason says which.
    Excluded(String),
    /// Its class takes no subscription filter.
    Unsupported(String),
}

/// The compiled rules.
#[derive(Debug, Clone)]
pub struct Rules {
    include: Vec<glob::Pattern>,
    exclude: Vec<glob::Pattern>,
    include_tags: Vec<TagRule>,
    exclude_tags: Vec<TagRule>,
    scope: SubscriptionScope,
    /// Groups always left alone, with why.
    left_alone: Vec<(String, String)>,
}

impl Rules {
    /// The rules of a validated configuration.
    pub fn new(config: &Config) -> Rules {
        let mut left_alone = Vec::new();
        if let Some(DestinationKind::LambdaFunction { function }) =
            config.destination.as_ref().map(|destination| &destination.kind)
        {
            left_alone.push((
                format!("/aws/lambda/{function}"),
                "the forwarder's own log group (it would ship its own logs in a loop)".to_string(),
            ));
        }
        if let Some(own) = &config.own_function {
            left_alone.push((
                format!("/aws/lambda/{}", own.name),
                format!(
                    "the subscriber's own log group (function {}, {})",
                    own.name, own.from
                ),
            ));
        }
        Rules {
            include: config.include.clone(),
            exclude: config.exclude.clone(),
            include_tags: config.include_tags.clone(),
            exclude_tags: config.exclude_tags.clone(),
            scope: config.scope,
            left_alone,
        }
    }

    /// A short, stable digest of what selects a group (the patterns and the groups always left
    /// alone): when it differs from the one recorded after the last complete pass, the rules
    /// changed and a sweep must look at excluded groups too. FNV-1a, stable across builds.
    pub fn fingerprint(&self) -> String {
        let mut text = String::new();
        for (label, globs) in [("include", &self.include), ("exclude", &self.exclude)] {
            text.push_str(label);
            for glob in globs {
                text.push('\n');
                text.push_str(glob.as_str());
            }
            text.push('\0');
        }
        for (label, rules) in [
            ("include_tags", &self.include_tags),
            ("exclude_tags", &self.exclude_tags),
        ] {
            text.push_str(label);
            for rule in rules {
                text.push('\n');
                text.push_str(&rule.to_string());
            }
            text.push('\0');
        }
        for (group, _) in &self.left_alone {
            text.push_str(group);
            text.push('\0');
        }
        // Switching scopes moves Sluice's filters, so it counts as a change of the rules.
        text.push_str(match self.scope {
            SubscriptionScope::LogGroup => "scope log-group",
            SubscriptionScope::Account => "scope account",
        });
        let hash = text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
        });
        format!("{hash:016x}")
    }

    /// The groups always left alone (the forwarder's and the subscriber's own), by exact name.
    pub fn left_alone_names(&self) -> impl Iterator<Item = &str> {
        self.left_alone.iter().map(|(group, _)| group.as_str())
    }

    /// The groups always left alone, each with why.
    pub fn left_alone(&self) -> &[(String, String)] {
        &self.left_alone
    }

    /// Whether any tag rule is set: only then are a group's tags read.
    pub fn has_tag_rules(&self) -> bool {
        !self.include_tags.is_empty() || !self.exclude_tags.is_empty()
    }

    /// Decides by the tag rules for a group the name rules select (exclude wins).
    pub fn select_tags(&self, tags: &BTreeMap<String, String>) -> Selection {
        if let Some(rule) = self.exclude_tags.iter().find(|rule| rule.matches(tags)) {
            return Selection::Excluded(format!("matches EXCLUDE_TAGS {rule}"));
        }
        if !self.include_tags.is_empty() && !self.include_tags.iter().any(|rule| rule.matches(tags)) {
            return Selection::Excluded("matches no INCLUDE_TAGS".to_string());
        }
        Selection::Selected
    }

    /// Decides for the group `name` of class `class` (`None`: the API did not say, i.e. STANDARD).
    pub fn select(&self, name: &str, class: Option<&str>) -> Selection {
        if let Some((_, why)) = self.left_alone.iter().find(|(group, _)| group == name) {
            return Selection::Excluded(why.clone());
        }
        if let Some(class) = class.filter(|class| UNSUPPORTED_CLASSES.contains(class)) {
            return Selection::Unsupported(format!("class {class} takes no subscription filter"));
        }
        if let Some(glob) = self.exclude.iter().find(|glob| glob.matches(name)) {
            return Selection::Excluded(format!("matches EXCLUDE_PATTERNS {}", glob.as_str()));
        }
        if !self.include.iter().any(|glob| glob.matches(name)) {
            return Selection::Excluded("matches no INCLUDE_PATTERNS".to_string());
        }
        Selection::Selected
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::RawConfig;

    fn rules(include: &str, exclude: &str) -> Rules {
        let raw = RawConfig {
            destination_arn: Some("arn:aws:lambda:us-east-1:123456789012:function:fwd".into()),
            include_patterns: Some(include.into()),
            exclude_patterns: Some(exclude.into()),
            own_function_name: Some("sub".into()),
            ..RawConfig::default()
        };
        Rules::new(&raw.validate().expect("valid"))
    }

    #[test]
    fn include_and_exclude_with_exclude_winning() {
        let rules = rules("/aws/lambda/*,API-Gateway-Execution-Logs_*", "/aws/lambda/test-*");
        assert_eq!(rules.select("/aws/lambda/checkout", None), Selection::Selected);
        assert_eq!(
            rules.select("API-Gateway-Execution-Logs_abc/prod", None),
            Selection::Selected
        );
        assert_eq!(
            rules.select("/aws/lambda/test-checkout", None),
            Selection::Excluded("matches EXCLUDE_PATTERNS /aws/lambda/test-*".into())
        );
        assert_eq!(
            rules.select("/ecs/web", None),
            Selection::Excluded("matches no INCLUDE_PATTERNS".into())
        );
    }

    #[test]
    fn tag_rules_combine_with_the_name_rules_and_exclude_wins() {
        let raw = RawConfig {
            destination_arn: Some("arn:aws:lambda:us-east-1:123456789012:function:fwd".into()),
            include_tags: Some("team=pay*,team=search".into()),
            exclude_tags: Some("sluice=off".into()),
            ..RawConfig::default()
        };
        let rules = Rules::new(&raw.validate().expect("valid"));
        assert!(rules.has_tag_rules());
        let tags = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        assert_eq!(
            rules.select_tags(&tags(&[("team", "payments")])),
            Selection::Selected
        );
        assert_eq!(
            rules.select_tags(&tags(&[("team", "search")])),
            Selection::Selected
        );
        assert_eq!(
            rules.select_tags(&tags(&[("team", "payments"), ("sluice", "off")])),
            Selection::Excluded("matches EXCLUDE_TAGS sluice=off".into())
        );
        assert_eq!(
            rules.select_tags(&tags(&[("team", "ads")])),
            Selection::Excluded("matches no INCLUDE_TAGS".into())
        );
        assert_eq!(
            rules.select_tags(&tags(&[])),
            Selection::Excluded("matches no INCLUDE_TAGS".into())
        );
        assert!(!self::rules("*", "").has_tag_rules());
        assert_ne!(rules.fingerprint(), self::rules("*", "").fingerprint());
    }

    #[test]
    fn the_fingerprint_changes_with_the_rules_and_only_with_them() {
        let base = rules("/aws/lambda/*", "/aws/lambda/test-*");
        assert_eq!(
            base.fingerprint(),
            rules("/aws/lambda/*", "/aws/lambda/test-*").fingerprint()
        );
        assert_eq!(base.fingerprint().len(), 16);
        for other in [
            rules("/aws/lambda/*", ""),
            rules("/aws/lambda/*,/ecs/*", "/aws/lambda/test-*"),
            rules("/aws/lambda/test-*", "/aws/lambda/*"),
        ] {
            assert_ne!(base.fingerprint(), other.fingerprint());
        }
    }

    #[test]
    fn own_groups_and_unsupported_classes_are_left_alone_whatever_the_globs() {
        let rules = rules("*", "");
        assert!(
            matches!(rules.select("/aws/lambda/fwd", None), Selection::Excluded(why) if why.contains("forwarder"))
        );
        assert!(
            matches!(rules.select("/aws/lambda/sub", None), Selection::Excluded(why) if why.contains("subscriber"))
        );
        assert!(matches!(
            rules.select("/aws/lambda/fwd-2", None),
            Selection::Selected
        ));
        for class in UNSUPPORTED_CLASSES {
            assert!(matches!(
                rules.select("/aws/lambda/a", Some(class)),
                Selection::Unsupported(_)
            ));
        }
        assert_eq!(
            rules.select("/aws/lambda/a", Some("STANDARD")),
            Selection::Selected
        );
    }
}
