//! The built-in rules' regular expressions, each compiled when a message first calls for it. A
//! function whose logs never hold a rule's trigger word never compiles it: compiling is the
//! costliest thing a rule does, in time at a cold start and in memory (the compiler's
//! temporaries for a Unicode class take about 2 MB, which the allocator then keeps), while
//! most functions' logs call for two or three rules of the fifteen.

use std::sync::OnceLock;

use regex::Regex;

/// A regular expression of the built-in rules, compiled on first use and then shared by every
/// clone of the redactor.
#[derive(Debug, Clone)]
pub(super) struct LazyRegex {
    pattern: &'static str,
    regex: OnceLock<Regex>,
}

impl LazyRegex {
    pub(super) const fn new(pattern: &'static str) -> LazyRegex {
        LazyRegex {
            pattern,
            regex: OnceLock::new(),
        }
    }

    /// The compiled expression.
    pub(super) fn get(&self) -> &Regex {
        self.regex
            .get_or_init(|| Regex::new(self.pattern).expect("built-in rule compiles"))
    }

    /// Whether it was compiled.
    #[cfg(test)]
    pub(super) fn compiled(&self) -> bool {
        self.regex.get().is_some()
    }
}
