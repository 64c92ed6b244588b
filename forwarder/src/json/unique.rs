//! Every object written with each key once: OpenSearch refuses a document that repeats a key.

use std::fmt::Write as _;

use smallvec::SmallVec;

use super::push_raw_json;

/// Appends a JSON text known to be valid, on one line ([`push_raw_json`]), with every object's
/// keys unique at any depth: OpenSearch refuses a document that repeats a key (Network
/// Firewall's TLS alerts write `subject` and `issuerdn` twice). Where a key repeats, the last
/// value wins, as in serde_json's maps, JavaScript's `JSON.parse` and Elasticsearch's `json`
/// processor with `allow_duplicate_keys`; the text is then rewritten from a `Value`, whose maps
/// keep one entry per key. Text without a repeated key, nearly all, is copied as it is.
pub(crate) fn push_json_unique(out: &mut String, json: &str) {
    if may_repeat_keys(json)
        && let Ok(value) = serde_json::from_str::<serde_json::Value>(json)
    {
        let _ = write!(out, "{value}");
        return;
    }
    push_raw_json(out, json);
}

/// Whether some object of `json` (valid JSON text) may hold a key twice, at any depth. Exact for
/// keys without escapes; a key with one (`"\u0061"` is `"a"`) counts as a possible repeat, which
/// costs only the rewrite. One pass, strings skipped eight bytes at a time, no allocation below
/// 32 keys open at once (the keys are slices of `json`): in a release build it takes less time
/// than serde_json takes to validate the same text.
fn may_repeat_keys(json: &str) -> bool {
    scan_keys(json, false)
}

/// Whether some object of a document (valid JSON text, its keys without escapes) holds a key
/// twice: what tests of the document writers check.
#[cfg(test)]
pub(crate) fn repeats_a_key(json: &str) -> bool {
    may_repeat_keys(json)
}

/// [`may_repeat_keys`] for the members of an object without its braces (what the access log
/// parsers write under their format's object): whether a member's name repeats, or a key does
/// inside one.
fn may_repeat_members(members: &str) -> bool {
    scan_keys(members, true)
}

/// `members` with every name once at any depth, the last value kept ([`push_json_unique`]):
/// as it is when no name repeats.
pub(crate) fn unique_members(members: String) -> String {
    if !may_repeat_members(&members) {
        return members;
    }
    let Ok(value) = serde_json::from_str::<serde_json::Value>(&format!("{{{members}}}")) else {
        return members;
    };
    let object = value.to_string();
    object[1..object.len() - 1].to_owned()
}

/// An open container: an object, with where its keys start in the keys of the open objects and
/// a mark for each key's hash seen in it (64 marks, so a key is compared only when its mark was
/// seen); or `None`, an array.
type Open = Option<(usize, u64)>;

/// The scan of [`may_repeat_keys`]; `members` starts it inside an object.
fn scan_keys(json: &str, members: bool) -> bool {
    let bytes = json.as_bytes();
    let mut keys: SmallVec<[&[u8]; 32]> = SmallVec::new();
    let mut open: SmallVec<[Open; 16]> = SmallVec::new();
    if members {
        open.push(Some((0, 0)));
    }
    let mut key_next = members;
    let mut at = 0;
    while let Some(&byte) = bytes.get(at) {
        match byte {
            b'"' => {
                let start = at + 1;
                let mut end = start;
                loop {
                    match quote_or_backslash(&bytes[end..]) {
                        Some(i) if bytes[end + i] == b'"' => {
                            end += i;
                            break;
                        }
                        Some(_) if key_next => return true,
                        Some(i) => end += i + 2,
                        None => return false,
                    }
                }
                if key_next {
                    let key = &bytes[start..end];
                    if let Some(Some((first, seen))) = open.last_mut() {
                        let mark = 1u64 << (hash(key) >> 58);
                        if *seen & mark != 0 && keys[*first..].contains(&key) {
                            return true;
                        }
                        *seen |= mark;
                    }
                    keys.push(key);
                    key_next = false;
                }
                at = end;
            }
            b'{' => {
                open.push(Some((keys.len(), 0)));
                key_next = true;
            }
            b'[' => open.push(None),
            b',' => key_next = matches!(open.last(), Some(Some(_))),
            b'}' | b']' => {
                key_next = false;
                if let Some(Some((first, _))) = open.pop() {
                    keys.truncate(first);
                }
            }
            _ => {}
        }
        at += 1;
    }
    false
}

/// The position of the first quote or backslash of `bytes`, eight bytes at a time (strings are
/// mostly short: no call, no set-up), by the bit tricks `escape_marks` uses.
fn quote_or_backslash(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let has_zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGH;
    let mut at = 0;
    while let Some(chunk) = bytes.get(at..at + 8) {
        let word = u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
        let marks = has_zero(word ^ (ONES * u64::from(b'"'))) | has_zero(word ^ (ONES * u64::from(b'\\')));
        if marks != 0 {
            // The lowest mark is exact.
            return Some(at + (marks.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    (bytes[at..].iter().position(|&byte| byte == b'"' || byte == b'\\')).map(|i| at + i)
}

/// A quick hash of a key, from its length and four of its bytes (no loop, no copy): its top six
/// bits choose the key's mark.
fn hash(key: &[u8]) -> u64 {
    let len = key.len();
    let byte = |at: usize| u64::from(key.get(at).copied().unwrap_or(0));
    let mixed =
        (len as u64) | byte(0) << 8 | byte(1) << 16 | byte(len / 2) << 24 | byte(len.wrapping_sub(1)) << 32;
    mixed.wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_keys_are_found_at_any_depth_and_the_last_value_wins() {
        for (json, repeats) in [
            (r#"{"a":1,"b":{"a":2},"c":[{"a":3},{"a":4}]}"#, false),
            (r#"{"a":"x,\"a\":","b":["a","a"],"c":{}}"#, false),
            (r#"{"a":1,"b":2,"a":3}"#, true),
            (r#"[{"x":{"y":[{"k":1,"k":2}]}}]"#, true),
            (r#"{"\u0061":1,"b":2}"#, true),
            (r#"{ "a" : 1 , "b" : { } , "c" : [ ] }"#, false),
            (r#"{"a":"\\","b":"x\"","c":"\\\"","d":1}"#, false),
            (r#"{"a":"\\","b":{"a":[]},"a":2}"#, true),
            (
                r#"{"ab":1,"ba":2,"a":3,"b":4,"aa":5,"":6,"abcdefghij":7,"abcdefghik":8}"#,
                false,
            ),
            (r#"{"":1,"x":{},"":2}"#, true),
        ] {
            assert_eq!(may_repeat_keys(json), repeats, "{json}");
        }
        // More keys than marks: every key is then compared.
        let many: Vec<String> = (0..200).map(|i| format!("\"key{i}\":{i}")).collect();
        let many = format!("{{{}}}", many.join(","));
        assert!(!may_repeat_keys(&many));
        assert!(may_repeat_keys(&many.replace("\"key199\"", "\"key7\"")));

        let mut out = String::new();
        push_json_unique(
            &mut out,
            r#"{"tls":{"subject":"CN=a","issuerdn":"CN=b","subject":"CN=c"},"n":1}"#,
        );
        assert_eq!(out, r#"{"tls":{"subject":"CN=c","issuerdn":"CN=b"},"n":1}"#);
        assert!(may_repeat_members(r#""a":1,"b":{"c":2},"a":3"#));
        assert!(may_repeat_members(r#""a":1,"b":{"c":2,"c":3}"#));
        assert!(!may_repeat_members(r#""a":1,"b":{"a":2}"#));
        assert_eq!(
            unique_members(r#""a":1,"b":[{"a":2}],"a":3"#.into()),
            r#""a":3,"b":[{"a":2}]"#
        );
        out.clear();
        push_json_unique(&mut out, "{\"a\":\n1}");
        assert_eq!(out, "{\"a\": 1}", "copied as it is, on one line");
    }
}
