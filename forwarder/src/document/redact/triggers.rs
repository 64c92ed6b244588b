//! The scan for trigger words: the words (any case) without which a keyword rule cannot match.
//! It runs on every message, so it is the redactor's hottest loop: the text is lowercased a
//! block at a time into a stack buffer, and the lowercase words are found with a SIMD "Teddy"
//! searcher (`aho_corasick::packed`), several times faster than a case-insensitive automaton
//! stepping byte by byte. Where no SIMD searcher is available it falls back to that automaton.
//! Teddy tells candidates by the words' first bytes, up to four: every word is four bytes or
//! longer, so that the words' many first letters do not make nearly every position a candidate
//! (with 3-byte words the scan took twice as long). Teddy takes 64 words at most.

use std::ops::Range;

use aho_corasick::packed;
use aho_corasick::{AhoCorasick, AhoCorasickKind};

use super::tokens::FAMILIES;
use super::{Rules, TOKEN, TRIGGERS};

/// Bytes lowercased and searched at a time.
const BLOCK: usize = 4096;
/// Messages up to this long are lowercased into a buffer of this size, which costs less to zero
/// than a whole block.
const SHORT: usize = 1024;

/// Every trigger word and the rules it enables: [`TRIGGERS`], then the tokens' prefixes.
pub(super) fn words() -> Vec<(&'static str, Rules)> {
    let tokens = FAMILIES
        .iter()
        .flat_map(|family| family.triggers.iter().map(|word| (*word, TOKEN)));
    TRIGGERS.iter().copied().chain(tokens).collect()
}

/// The scanner of the trigger [`words`].
#[derive(Debug, Clone)]
pub(super) struct Triggers {
    search: Search,
    /// The rules of each word, by pattern id.
    rules: Vec<Rules>,
}

#[derive(Debug, Clone)]
enum Search {
    Packed {
        searcher: packed::Searcher,
        longest: usize,
    },
    Automaton(AhoCorasick),
}

impl Triggers {
    pub(super) fn new() -> Triggers {
        let words = words();
        let rules = words.iter().map(|(_, rules)| *rules).collect();
        let mut builder = packed::Config::new()
            .match_kind(packed::MatchKind::LeftmostFirst)
            .builder();
        for (word, _) in &words {
            builder.add(word.to_ascii_lowercase());
        }
        if let Some(searcher) = builder.build() {
            let longest = words.iter().map(|(word, _)| word.len()).max().unwrap_or(1);
            let search = Search::Packed { searcher, longest };
            return Triggers { search, rules };
        }
        Triggers {
            search: Search::Automaton(automaton(&words)),
            rules,
        }
    }

    /// Calls `hit` with the range and rule bits of every trigger word in `text`, in order and not
    /// overlapping. Trigger words that overlap one another enable the same rules, so
    /// non-overlapping matches suffice.
    pub(super) fn scan(&self, text: &str, mut hit: impl FnMut(Range<usize>, Rules)) {
        let (searcher, longest) = match &self.search {
            Search::Automaton(automaton) => {
                for m in automaton.find_iter(text) {
                    hit(m.range(), self.rules[m.pattern().as_usize()]);
                }
                return;
            }
            Search::Packed { searcher, longest } => (searcher, *longest),
        };
        let bytes = text.as_bytes();
        // Most messages are short: a small buffer to zero for them, not a whole block.
        if bytes.len() <= SHORT {
            scan_blocks(searcher, longest, bytes, &mut [0u8; SHORT], |range, id| {
                hit(range, self.rules[id]);
            });
        } else {
            scan_blocks(searcher, longest, bytes, &mut [0u8; BLOCK], |range, id| {
                hit(range, self.rules[id]);
            });
        }
    }

    /// The rules the trigger words of `text` call for, as a mask of rule bits.
    pub(super) fn rules_needed(&self, text: &str) -> Rules {
        let mut mask = 0;
        self.scan(text, |_, rules| mask |= rules);
        mask
    }
}

/// The matches of `searcher` in `bytes` lowercased, a block of `lower.len()` bytes at a time:
/// each match's range and pattern id, in order and not overlapping.
fn scan_blocks(
    searcher: &packed::Searcher,
    longest: usize,
    bytes: &[u8],
    lower: &mut [u8],
    mut hit: impl FnMut(Range<usize>, usize),
) {
    let mut offset = 0;
    // Matches are reported once: the blocks overlap by `longest - 1` bytes.
    let mut reported = 0;
    loop {
        let end = (offset + lower.len()).min(bytes.len());
        let block = &mut lower[..end - offset];
        for (low, byte) in block.iter_mut().zip(&bytes[offset..end]) {
            *low = byte.to_ascii_lowercase();
        }
        let last = end == bytes.len();
        // A word starting this close to the end of the block may be cut: the next block,
        // which starts here, sees it whole.
        let limit = if last {
            block.len()
        } else {
            block.len() - (longest - 1)
        };
        for m in searcher.find_iter(&block[..]) {
            if m.start() >= limit {
                break;
            }
            let start = offset + m.start();
            if start >= reported {
                hit(start..offset + m.end(), m.pattern().as_usize());
                reported = offset + m.end();
            }
        }
        if last {
            return;
        }
        offset += limit;
    }
}

/// The case-insensitive automaton of `words`, where no SIMD searcher is available.
fn automaton(words: &[(&str, Rules)]) -> AhoCorasick {
    AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .kind(Some(AhoCorasickKind::DFA))
        .build(words.iter().map(|(word, _)| word))
        .expect("the trigger words are valid")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hits(triggers: &Triggers, text: &str) -> Vec<(Range<usize>, Rules)> {
        let mut hits = Vec::new();
        triggers.scan(text, |range, rules| hits.push((range, rules)));
        hits
    }

    #[test]
    fn the_packed_scan_finds_what_the_automaton_finds_across_blocks() {
        let packed = Triggers::new();
        assert!(
            matches!(packed.search, Search::Packed { .. }),
            "SIMD is available on CI's machines"
        );
        let automaton = Triggers {
            search: Search::Automaton(automaton(&words())),
            rules: packed.rules.clone(),
        };
        // Words at every offset around the block boundaries, in mixed case.
        let mut texts = vec![
            String::new(),
            "pwd=".to_owned(),
            "PassWord=1 Bearer x eyJ a.eyJ AKIA".to_owned(),
            "GHP_x -----Begin https://u:p@h Set-Cookie: a=b sk_live_ AIza".to_owned(),
            "no trigger here at all".to_owned(),
        ];
        for shift in 0..20 {
            let mut text = "x".repeat(BLOCK - 10 + shift);
            text.push_str("AuthoRization: Basic abc token ");
            text.push_str(&"y".repeat(BLOCK + shift));
            text.push_str("api_key secret mysql://x");
            texts.push(text);
        }
        for text in &texts {
            assert_eq!(hits(&packed, text), hits(&automaton, text), "{}", text.len());
        }
        assert_eq!(hits(&packed, &texts[3]).len(), 6);
        assert_eq!(hits(&packed, &texts[6]).len(), 6);
    }

    #[test]
    fn the_words_are_four_bytes_or_longer_and_differ() {
        let words = words();
        assert!(words.len() <= 64, "{} trigger words: no Teddy", words.len());
        for (i, (word, _)) in words.iter().enumerate() {
            assert!(word.len() >= 4, "{word}: Teddy's candidates grow tenfold");
            assert!(
                !words[..i]
                    .iter()
                    .any(|(other, _)| other.eq_ignore_ascii_case(word)),
                "{word} twice"
            );
        }
    }
}
