//! Which log groups Sluice may subscribe: include and exclude globs (exclude wins), and the groups
//! it always leaves alone whatever the globs say.

use crate::config::{Config, DestinationKind};

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
    /// Groups always left alone, with why.
    left_alone: Vec<(String, &'static str)>,
}

impl Rules {
    /// The rules of a validated configuration.
    pub fn new(config: &Config) -> Rules {
        let mut left_alone = Vec::new();
        if let DestinationKind::LambdaFunction { function } = &config.destination.kind {
            left_alone.push((
                format!("/aws/lambda/{function}"),
                "the forwarder's own log group (it would ship its own logs in a loop)",
            ));
        }
        if let Some(own) = &config.own_function_name {
            left_alone.push((format!("/aws/lambda/{own}"), "the subscriber's own log group"));
        }
        Rules {
            include: config.include.clone(),
            exclude: config.exclude.clone(),
            left_alone,
        }
    }

    /// Decides for the group `name` of class `class` (`None`: the API did not say, i.e. STANDARD).
    pub fn select(&self, name: &str, class: Option<&str>) -> Selection {
        if let Some((_, why)) = self.left_alone.iter().find(|(group, _)| group == name) {
            return Selection::Excluded((*why).to_string());
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
