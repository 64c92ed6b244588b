//! Times as logs write them: RFC 3339 text (read fast in the shape nearly every AWS log uses),
//! or numbers since the epoch.

use serde_json::Value;

use crate::civil::{days_from_civil, days_in_month};

/// A time as JSON holds it: RFC 3339 text, or a number of seconds, milliseconds, microseconds
/// or nanoseconds since the epoch (told apart by size).
pub fn time_of(value: &Value) -> Option<i64> {
    match value {
        Value::String(text) => rfc3339_ms(text).or_else(|| text.parse::<f64>().ok().and_then(epoch_ms)),
        Value::Number(number) => number.as_f64().and_then(epoch_ms),
        _ => None,
    }
}

/// RFC 3339 text (`2026-11-29T10:00:00.123Z`, or with a space for `T`) in milliseconds; the
/// offset may also be ISO 8601's basic one, `+0000`, `+0530`, `-0800` (Network Firewall's
/// `event.timestamp` is `2026-11-28T23:41:40.637611+0000`).
pub fn rfc3339_ms(text: &str) -> Option<i64> {
    let text = text.trim();
    if text.len() < 20 || !text.as_bytes()[0].is_ascii_digit() {
        return None;
    }
    let chrono_ms = |text: &str| {
        chrono::DateTime::parse_from_rfc3339(text)
            .ok()
            .map(|time| time.timestamp_millis())
    };
    utc_ms(text.as_bytes())
        .or_else(|| chrono_ms(text))
        .or_else(|| extended_offset(text).and_then(|text| chrono_ms(&text)))
}

/// `text` with a basic offset at its end (`±HHMM`, after a digit of the seconds or of their
/// fraction) written as RFC 3339's extended one (`±HH:MM`); `None` for any other ending.
fn extended_offset(text: &str) -> Option<String> {
    let at = text
        .len()
        .checked_sub(5)
        .filter(|&at| text.is_char_boundary(at))?;
    let (time, offset) = text.split_at(at);
    let bytes = offset.as_bytes();
    let signed = matches!(bytes[0], b'+' | b'-');
    let digits = bytes[1..].iter().all(u8::is_ascii_digit);
    let after_seconds = time.as_bytes().last().is_some_and(u8::is_ascii_digit);
    (signed && digits && after_seconds).then(|| format!("{time}{}:{}", &offset[..3], &offset[3..]))
}

/// The shape nearly every AWS log writes its times in, `YYYY-MM-DDTHH:MM:SS[.fraction]Z`, read
/// without chrono's general parser (it runs twice on every ALB line). `None` for any other shape
/// or an impossible date, which [`rfc3339_ms`] then hands to chrono, so both read a time alike.
fn utc_ms(text: &[u8]) -> Option<i64> {
    let (head, rest) = text.split_first_chunk::<19>()?;
    let number = |range: std::ops::Range<usize>| {
        head[range].iter().try_fold(0u32, |value, &byte| {
            byte.is_ascii_digit().then(|| value * 10 + u32::from(byte - b'0'))
        })
    };
    let punctuated = [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':')]
        .iter()
        .all(|&(at, byte)| head[at] == byte);
    if !punctuated {
        return None;
    }
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let (hour, minute, second) = (number(11..13)?, number(14..16)?, number(17..19)?);
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let millis = match rest {
        [b'Z'] => 0,
        [b'.', fraction @ .., b'Z'] if (1..=9).contains(&fraction.len()) => {
            let mut millis = 0;
            for (i, &byte) in fraction.iter().enumerate() {
                if !byte.is_ascii_digit() {
                    return None;
                }
                if i < 3 {
                    millis = millis * 10 + u32::from(byte - b'0');
                }
            }
            millis * 10u32.pow(3u32.saturating_sub(fraction.len() as u32))
        }
        _ => return None,
    };
    let days = days_from_civil(i64::from(year), month, day);
    let seconds = days * 86_400 + i64::from(hour * 3600 + minute * 60 + second);
    Some(seconds * 1000 + i64::from(millis))
}

fn epoch_ms(number: f64) -> Option<i64> {
    let ms = match number.abs() {
        n if n < 1e11 => number * 1e3,
        n if n < 1e14 => number,
        n if n < 1e17 => number / 1e3,
        _ => number / 1e6,
    };
    ms.is_finite().then_some(ms as i64)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn utc_times_read_as_chrono_reads_them() {
        use chrono::Datelike as _;
        let chrono_ms = |text: &str| {
            chrono::DateTime::parse_from_rfc3339(text)
                .ok()
                .map(|time| time.timestamp_millis())
        };
        let mut day = chrono::NaiveDate::from_ymd_opt(1969, 12, 30).unwrap();
        let mut checked = 0;
        while day.year() < 2102 {
            let fraction = ["", ".1", ".18", ".186", ".1866", ".186641", ".186641123"][checked % 7];
            let seconds = (checked * 7919) % 86_400;
            let text = format!(
                "{day}T{:02}:{:02}:{:02}{fraction}Z",
                seconds / 3600,
                seconds / 60 % 60,
                seconds % 60
            );
            assert_eq!(utc_ms(text.as_bytes()), chrono_ms(&text), "{text}");
            assert!(utc_ms(text.as_bytes()).is_some(), "{text}");
            day = day.succ_opt().unwrap();
            checked += 1;
        }
        // What the fast path leaves to chrono: impossible dates, other shapes, offsets.
        for text in [
            "2025-02-29T00:00:00Z",
            "2026-04-31T00:00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-11-29T24:00:00Z",
            "2016-12-31T23:59:60Z",
            "2026-11-29T10:00:00.Z",
            "2026-11-29T10:00:00.1234567890Z",
            "2026-11-29t10:00:00Z",
            "2026-11-29 10:00:00Z",
            "2026-11-29T10:00:00+01:00",
            "2026-11-29T10:00:00",
            "2026-11-29T1a:00:00Z",
        ] {
            assert_eq!(utc_ms(text.as_bytes()), None, "{text}");
        }
        assert_eq!(rfc3339_ms("2026-11-29T10:00:00+01:00"), Some(1_795_942_800_000));
        assert_eq!(rfc3339_ms("2026-11-29 10:00:00.5Z"), Some(1_795_946_400_500));
        assert_eq!(rfc3339_ms("2026-02-30T10:00:00Z"), None);
    }

    /// ISO 8601's basic offsets read as the extended ones and `Z` do; a shape neither is stays
    /// unread.
    #[test]
    fn basic_offsets_read_as_extended_ones_do() {
        let utc = rfc3339_ms("2026-11-28T23:41:40.637Z");
        assert_eq!(utc, Some(1_795_909_300_637));
        for (basic, extended) in [
            (
                "2026-11-28T23:41:40.637611+0000",
                "2026-11-28T23:41:40.637611+00:00",
            ),
            ("2026-11-29T05:11:40.637+0530", "2026-11-29T05:11:40.637+05:30"),
            ("2026-11-28T15:41:40.637-0800", "2026-11-28T15:41:40.637-08:00"),
            ("2026-11-28 15:41:40.637-0800", "2026-11-28T15:41:40.637-08:00"),
        ] {
            assert_eq!(rfc3339_ms(basic), rfc3339_ms(extended), "{basic}");
            assert_eq!(rfc3339_ms(basic), utc, "{basic}");
        }
        for text in [
            "2026-11-28T23:41:40.637611+000",
            "2026-11-28T23:41:40.637611+00000",
            "2026-11-28T23:41:40.637611 0000",
            "2026-11-28T23:41:40.637611+2500",
            "2026-11-28T23:41:40+00a0",
        ] {
            assert_eq!(rfc3339_ms(text), None, "{text}");
        }
    }

    #[test]
    fn epoch_numbers_are_told_apart_by_size() {
        let ms = 1_795_946_400_000_i64;
        for value in [
            json!(1_795_946_400),
            json!(1_795_946_400_000_i64),
            json!(1_795_946_400_000_000_i64),
            json!(1_795_946_400_000_000_000_i64),
            json!("1795946400"),
        ] {
            assert_eq!(time_of(&value), Some(ms), "{value}");
        }
        assert_eq!(time_of(&json!("yesterday")), None);
    }
}
