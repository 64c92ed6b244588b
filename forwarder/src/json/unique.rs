//! Every object written with each key once: OpenSearch refuses a document that repeats a key.

use std::fmt::Write as _;

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
/// costs only the rewrite. One pass, strings skipped by memchr, no allocation below 32 keys open
/// at once: the keys are slices of `json`.
fn may_repeat_keys(json: &str) -> bool {
    scan_keys(json, false)
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

/// The scan of [`may_repeat_keys`]; `members` starts it inside an object.
fn scan_keys(json: &str, members: bool) -> bool {
    /// Marks an open array among the open containers (an object is marked by where its keys
    /// start in `keys`).
    const ARRAY: usize = usize::MAX;
    let bytes = json.as_bytes();
    let mut keys: smallvec::SmallVec<[&[u8]; 32]> = smallvec::SmallVec::new();
    let mut open: smallvec::SmallVec<[usize; 16]> = smallvec::SmallVec::new();
    let mut key_next = members;
    if members {
        open.push(0);
    }
    let mut at = 0;
    while let Some(&byte) = bytes.get(at) {
        match byte {
            b'"' => {
                let start = at + 1;
                let mut end = start;
                loop {
                    match memchr::memchr2(b'"', b'\\', &bytes[end..]) {
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
                    keys.push(&bytes[start..end]);
                    key_next = false;
                }
                at = end;
            }
            b'{' => {
                open.push(keys.len());
                key_next = true;
            }
            b'[' => open.push(ARRAY),
            b',' => key_next = open.last().is_some_and(|&start| start != ARRAY),
            b'}' | b']' => {
                key_next = false;
                if let Some(start) = open.pop().filter(|&start| start != ARRAY) {
                    if repeats(&mut keys[start..]) {
                        return true;
                    }
                    keys.truncate(start);
                }
            }
            _ => {}
        }
        at += 1;
    }
    members && repeats(&mut keys)
}

/// Whether one object's `keys` hold one twice: compared pairwise when they are few, sorted in
/// place when they are many.
fn repeats(keys: &mut [&[u8]]) -> bool {
    if keys.len() <= 12 {
        return (1..keys.len()).any(|i| keys[..i].contains(&keys[i]));
    }
    keys.sort_unstable();
    keys.windows(2).any(|pair| pair[0] == pair[1])
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
        ] {
            assert_eq!(may_repeat_keys(json), repeats, "{json}");
        }
        let many: Vec<String> = (0..40).map(|i| format!("\"k{i}\":{i}")).collect();
        let many = format!("{{{}}}", many.join(","));
        assert!(!may_repeat_keys(&many));
        assert!(may_repeat_keys(&many.replace("\"k39\"", "\"k7\"")));

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
