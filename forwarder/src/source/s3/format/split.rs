//! Splitting the parts of a log line: quoted fields, `address:port`, request lines, and telling
//! an IP address.

use std::borrow::Cow;

use super::RecordError;

/// Splits a line of space-separated fields where a field may be `"quoted"` (with `\"` inside);
/// quotes are removed and `\"` unescaped.
pub fn split_quoted(line: &str) -> Result<Vec<Cow<'_, str>>, RecordError> {
    let bytes = line.as_bytes();
    let mut fields = Vec::with_capacity(32);
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b' ' => i += 1,
            b'"' => {
                let start = i + 1;
                let mut end = start;
                let mut escaped = false;
                loop {
                    match bytes.get(end) {
                        None => return Err(RecordError::QuotedFieldNeverEnds { at: i }),
                        Some(b'\\') => {
                            escaped = true;
                            end += 2;
                        }
                        Some(b'"') => break,
                        Some(_) => end += 1,
                    }
                }
                let end = end.min(bytes.len());
                let inner = &line[start..end];
                fields.push(match escaped {
                    true => Cow::Owned(inner.replace("\\\"", "\"").replace("\\\\", "\\")),
                    false => Cow::Borrowed(inner),
                });
                i = end + 1;
            }
            _ => {
                let start = i;
                while i < bytes.len() && bytes[i] != b' ' {
                    i += 1;
                }
                fields.push(Cow::Borrowed(&line[start..i]));
            }
        }
    }
    Ok(fields)
}

/// Splits `address:port` (IPv4 `10.0.0.1:443`, IPv6 `2001:db8::1:443` or `[2001:db8::1]:443`)
/// into its address and port; `None` for `-`.
pub fn split_address(value: &str) -> Option<(&str, Option<u16>)> {
    if value == "-" || value.is_empty() {
        return None;
    }
    if let Some(rest) = value.strip_prefix('[') {
        let (address, port) = rest.split_once("]:").unwrap_or((rest.trim_end_matches(']'), ""));
        return Some((address, port.parse().ok()));
    }
    match value.rsplit_once(':') {
        Some((address, port)) if port.bytes().all(|b| b.is_ascii_digit()) && !port.is_empty() => {
            Some((address, port.parse().ok()))
        }
        _ => Some((value, None)),
    }
}

/// Whether `text` is an IP address as `IpAddr`'s parser reads one. A dotted IPv4 address, most of
/// an access log's, is checked by hand first (four parts of 0 to 255, without a leading zero, as
/// std reads them); anything else is left to std.
pub(super) fn is_ip(text: &str) -> bool {
    is_dotted_ipv4(text) || text.parse::<std::net::IpAddr>().is_ok()
}

fn is_dotted_ipv4(text: &str) -> bool {
    let mut parts = 0;
    for part in text.as_bytes().split(|&byte| byte == b'.') {
        parts += 1;
        let octet = match part {
            [digit] => digit.is_ascii_digit(),
            [b'1'..=b'9', digit] => digit.is_ascii_digit(),
            [b'1', tens, units] => tens.is_ascii_digit() && units.is_ascii_digit(),
            [b'2', b'0'..=b'4', units] => units.is_ascii_digit(),
            [b'2', b'5', b'0'..=b'5'] => true,
            _ => false,
        };
        if !octet || parts > 4 {
            return false;
        }
    }
    parts == 4
}

/// Splits a request line `GET https://example.com:443/path?q=1 HTTP/1.1` into method, URL and
/// protocol; a part that is missing is `None`.
pub fn split_request(request: &str) -> (Option<&str>, Option<&str>, Option<&str>) {
    let mut parts = request.splitn(3, ' ').map(str::trim);
    let mut next = || parts.next().filter(|part| !part.is_empty() && *part != "-");
    let method = next();
    let url = next();
    let protocol = next();
    (method, url, protocol)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_fields_keep_their_spaces_and_quotes() {
        let fields = split_quoted(r#"a "b c" "d \"e\"" - "" f"#).unwrap();
        let fields: Vec<&str> = fields.iter().map(|f| f.as_ref()).collect();
        assert_eq!(fields, ["a", "b c", "d \"e\"", "-", "", "f"]);
        assert!(split_quoted(r#"a "never ends"#).is_err());
    }

    #[test]
    fn addresses_split_into_ip_and_port() {
        assert_eq!(
            split_address("192.168.131.39:2817"),
            Some(("192.168.131.39", Some(2817)))
        );
        assert_eq!(split_address("2001:db8::1:443"), Some(("2001:db8::1", Some(443))));
        assert_eq!(
            split_address("[2001:db8::1]:443"),
            Some(("2001:db8::1", Some(443)))
        );
        assert_eq!(split_address("10.0.0.1"), Some(("10.0.0.1", None)));
        assert_eq!(split_address("-"), None);
    }

    #[test]
    fn requests_split_into_method_url_and_protocol() {
        assert_eq!(
            split_request("GET http://www.example.com:80/ HTTP/1.1"),
            (Some("GET"), Some("http://www.example.com:80/"), Some("HTTP/1.1"))
        );
        assert_eq!(split_request("- - - "), (None, None, None));
    }

    #[test]
    fn addresses_are_ips_exactly_when_std_reads_them() {
        let mut texts: Vec<String> = [
            "",
            ".",
            "1.2.3",
            "1.2.3.4.5",
            "1.2.3.4",
            "0.0.0.0",
            "255.255.255.255",
            "256.1.1.1",
            "01.2.3.4",
            "1.2.3.04",
            "1.2.3.00",
            "1..3.4",
            "1.2.3.",
            ".1.2.3",
            "1.2.3.4 ",
            "+1.2.3.4",
            "2001:db8::1",
            "::ffff:1.2.3.4",
            "1.2.3.a",
            "１.2.3.4",
            "199.249.10.255",
            "249.250.251.252",
        ]
        .map(str::to_owned)
        .to_vec();
        for octet in 0..1000 {
            texts.push(format!("10.{octet}.1.2"));
            texts.push(format!("10.1.2.{octet:03}"));
        }
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..20_000 {
            let mut text = String::new();
            for _ in 0..(seed % 16) {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                text.push(b"0125.9:a"[(seed % 8) as usize] as char);
            }
            texts.push(text);
        }
        for text in &texts {
            assert_eq!(is_ip(text), text.parse::<std::net::IpAddr>().is_ok(), "{text:?}");
        }
    }
}
