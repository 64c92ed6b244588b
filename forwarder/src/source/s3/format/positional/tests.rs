//! The positional reader's own tests: fields, plainness, keys.

use std::borrow::Cow;

use super::line::{Field, Fields};
use super::*;

fn texts(fields: &[Field<'_>]) -> Vec<String> {
    fields.iter().map(|field| field.text.to_string()).collect()
}

#[test]
fn fields_are_read_one_at_a_time_borrowing_from_the_line() {
    let line = r#"a  "b c" "d \"e\" \\ \x" - "" f"#;
    let fields: Vec<Field<'_>> = Fields::new(line, true).map(Result::unwrap).collect();
    assert_eq!(texts(&fields), ["a", "b c", r#"d "e" \ \x"#, "-", "", "f"]);
    assert!(matches!(fields[1].text, Cow::Borrowed(_)));
    assert!(matches!(fields[2].text, Cow::Owned(_)));
    // Without quoting, a quote is an ordinary character (the NLB's ALPN list).
    let unquoted: Vec<Field<'_>> = Fields::new(r#"h2 "h2","http/1.1""#, false)
        .map(Result::unwrap)
        .collect();
    assert_eq!(texts(&unquoted), ["h2", r#""h2","http/1.1""#]);
}

/// A field is plain (written without escaping) only when it holds no quote, backslash or
/// control byte; the check is the line's, so a backslash anywhere makes every field be
/// escaped, and every field's text is what JSON escaping would leave as it is.
#[test]
fn fields_are_plain_only_when_nothing_in_them_needs_escaping() {
    let cases: [(&str, bool, &[bool]); 6] = [
        (r#"a "b c" d-e "-""#, true, &[true, true, true, true]),
        (r#"a b"c "d" e"#, true, &[true, false, true, true]),
        (r#"h2 "h2","http/1.1""#, false, &[true, false]),
        (r#"a "b \"c\"" d"#, true, &[false, false, false]),
        ("a\tb c", true, &[false, false]),
        ("a é \u{7f}", true, &[true, true, true]),
    ];
    for (line, quoted, expected) in cases {
        let fields: Vec<Field<'_>> = Fields::new(line, quoted).map(Result::unwrap).collect();
        let plain: Vec<bool> = fields.iter().map(|field| field.plain).collect();
        assert_eq!(plain, expected, "{line:?}");
        for field in fields.iter().filter(|field| field.plain) {
            assert!(crate::json::is_plain(&field.text), "{line:?}: {field:?}");
        }
    }
}

/// Keys are written without a check ([`FieldWriter::after_known_keys`]): every name a
/// layout can write needs no escaping.
#[test]
fn every_layout_writes_plain_keys() {
    use crate::json::is_plain;
    for layout in [
        &super::super::alb::ACCESS,
        &super::super::alb::CONNECTION,
        &super::super::nlb::LAYOUT,
        &super::super::elb::LAYOUT,
    ] {
        for column in layout.columns {
            let names: Vec<&str> = match column.kind {
                Kind::Address { ip, port } => vec![ip, port],
                Kind::Validity {
                    not_before,
                    not_after,
                } => vec![column.name, not_before, not_after],
                Kind::Request => vec!["request_method", "request_url", "request_protocol"],
                _ => vec![column.name],
            };
            for name in names {
                assert!(is_plain(name), "{}: {name:?}", layout.what);
            }
        }
    }
    assert!(is_plain("extra_fields"));
}
