//! User agents parsed by woothee (<https://github.com/woothee/woothee>, its dataset compiled into
//! the crate), its answer put into ECS's `user_agent.*` names, and a cache of the members each
//! distinct string makes.
//!
//! woothee names some things its own way; Elastic's user-agent processor (uap-core) is the
//! reference for what ECS documents usually hold, so: `Windows 10` is the OS `Windows` version
//! `10`; `Mac OSX` is `Mac OS X`; an `iPhone`, `iPad` or `iPod` is a device whose OS is `iOS`; a
//! crawler's device is `Spider`; an HTTP library (curl, Wget, Java) is named by itself.

use std::collections::HashMap;

use woothee::parser::{Parser, WootheeResult};

use crate::json::{push_key, push_str};

/// Distinct strings a cache holds before it starts over: a batch or an object rarely has more,
/// and each entry is a few hundred bytes.
pub(super) const CACHE_ENTRIES: usize = 1024;

/// What woothee answers for a value it does not know.
const UNKNOWN: &str = "UNKNOWN";

/// The members each distinct user agent made (empty for one the parser does not know), for one
/// batch or object: one parse per distinct string, at most [`CACHE_ENTRIES`] kept.
#[derive(Debug, Default)]
pub(super) struct UserAgentCache {
    /// Each string seen and where its members are in `members`.
    seen: HashMap<Box<str>, usize>,
    members: Vec<Box<str>>,
}

impl UserAgentCache {
    /// The members of `original`, parsed on first sight.
    pub(super) fn members(&mut self, parser: &Parser, original: &str) -> &str {
        if let Some(&at) = self.seen.get(original) {
            return &self.members[at];
        }
        if self.members.len() >= CACHE_ENTRIES {
            self.seen.clear();
            self.members.clear();
        }
        let mut members = String::new();
        let parsed = parser.parse(original);
        if let Some(agent) = parsed.as_ref().and_then(Agent::from_woothee) {
            agent.push(&mut members);
        }
        self.seen.insert(original.into(), self.members.len());
        self.members.push(members.into());
        &self.members[self.members.len() - 1]
    }

    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.members.len()
    }
}

/// A user agent in ECS's terms.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Agent<'a> {
    pub(super) name: Option<&'a str>,
    pub(super) version: Option<&'a str>,
    pub(super) os_name: Option<&'a str>,
    pub(super) os_version: Option<&'a str>,
    pub(super) device: Option<&'a str>,
}

impl<'a> Agent<'a> {
    /// woothee's answer in ECS's terms; `None` when it knows neither the agent nor its OS.
    pub(super) fn from_woothee(parsed: &'a WootheeResult<'a>) -> Option<Agent<'a>> {
        let known = |value: &'a str| Some(value).filter(|value| !value.is_empty() && *value != UNKNOWN);
        let mut agent = Agent {
            name: known(parsed.name),
            version: known(parsed.version),
            os_name: known(parsed.os),
            os_version: known(&parsed.os_version),
            device: None,
        };
        if agent.name == Some("HTTP Library") {
            // woothee puts the library's name where its version goes.
            (agent.name, agent.version) = (agent.version, None);
        }
        match agent.os_name {
            Some(device @ ("iPhone" | "iPad" | "iPod")) => {
                (agent.os_name, agent.device) = (Some("iOS"), Some(device));
            }
            Some("Mac OSX") => agent.os_name = Some("Mac OS X"),
            Some(windows) => {
                if let Some(version) = windows.strip_prefix("Windows ").filter(|version| {
                    version.starts_with(|c: char| c.is_ascii_digit())
                        || ["XP", "Vista", "Me"].contains(version)
                }) {
                    (agent.os_name, agent.os_version) = (Some("Windows"), Some(version));
                }
            }
            None => {}
        }
        if parsed.category == "crawler" {
            agent.device = Some("Spider");
        }
        (agent.name.is_some() || agent.os_name.is_some()).then_some(agent)
    }

    /// Appends the members known, each after a comma.
    fn push(&self, out: &mut String) {
        for (key, value) in [("name", self.name), ("version", self.version)] {
            if let Some(value) = value {
                out.push(',');
                push_key(out, key);
                push_str(out, value);
            }
        }
        if let Some(name) = self.os_name {
            out.push_str(",\"os\":{\"name\":");
            push_str(out, name);
            if let Some(version) = self.os_version {
                out.push_str(",\"version\":");
                push_str(out, version);
            }
            out.push('}');
        }
        if let Some(device) = self.device {
            out.push_str(",\"device\":{\"name\":");
            push_str(out, device);
            out.push('}');
        }
    }
}
