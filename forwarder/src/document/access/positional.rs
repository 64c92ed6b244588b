//! The reader of positional lines: fields in a documented order, separated by spaces, a field
//! in `"quotes"` holding spaces (`\"` inside is a quote), `-` for "no value". The Elastic Load
//! Balancing logs (ALB access and connection logs, NLB, Classic) are read with it: each declares
//! its columns as a [`Layout`], and a line is read one field at a time, borrowed from the line
//! and written straight into the [`FieldWriter`].

use std::borrow::Cow;

use super::{AccessRecord, FieldWriter, Parsed, Shared, is_ip, push_whole, split_address, whole_number};
use crate::document::write::{push_str, push_text, push_u64};
use crate::source::s3::format::rfc3339_ms;

/// A log whose lines are fields in a fixed order (the Elastic Load Balancing logs).
#[derive(Debug)]
pub(super) struct Layout {
    /// What a line is, for messages: "an ALB access log line".
    pub what: &'static str,
    /// Whether a field may be `"quoted"`; otherwise fields are split on spaces alone.
    pub quoted: bool,
    /// How many fields a line needs at least: the format as AWS first shipped it.
    pub required: usize,
    pub columns: &'static [Column],
}

/// One field of a [`Layout`]: AWS's name (in messages, and the key unless the kind says
/// otherwise), how to read it, and which shared field it fills.
#[derive(Debug, Clone, Copy)]
pub(super) struct Column {
    pub name: &'static str,
    pub kind: Kind,
    pub share: Option<Share>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// A string, as written.
    Text,
    /// The record's own time: `@timestamp`, not a field.
    Time,
    /// `address:port`, into an IP address field and a port field.
    Address {
        ip: &'static str,
        port: &'static str,
    },
    /// An IP address.
    Ip,
    Whole,
    Decimal,
    /// A time kept as a date field.
    Date,
    /// `METHOD URL PROTOCOL`, into `request_method`, `request_url` and `request_protocol`.
    Request,
    /// The shared `user_agent`, nothing under the format's object.
    UserAgent,
    /// A list of strings split on the character (quotes around an item removed).
    List(char),
    /// A list of whole numbers split on the character.
    WholeList(char),
    /// A certificate's `NotBefore=…;NotAfter=…`: kept, and read into two dates.
    Validity {
        not_before: &'static str,
        not_after: &'static str,
    },
}

/// The shared field a column fills.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Share {
    /// `client.ip` and `client.port`, from an address column.
    Client,
    ClientIp,
    ClientPort,
    StatusCode,
    Bytes,
}

impl Column {
    pub const fn new(name: &'static str, kind: Kind) -> Column {
        Column {
            name,
            kind,
            share: None,
        }
    }

    pub const fn shared(self, share: Share) -> Column {
        Column {
            share: Some(share),
            ..self
        }
    }
}

pub(super) const fn text(name: &'static str) -> Column {
    Column::new(name, Kind::Text)
}
pub(super) const fn time(name: &'static str) -> Column {
    Column::new(name, Kind::Time)
}
pub(super) const fn address(name: &'static str, ip: &'static str, port: &'static str) -> Column {
    Column::new(name, Kind::Address { ip, port })
}
pub(super) const fn ip(name: &'static str) -> Column {
    Column::new(name, Kind::Ip)
}
pub(super) const fn whole(name: &'static str) -> Column {
    Column::new(name, Kind::Whole)
}
pub(super) const fn decimal(name: &'static str) -> Column {
    Column::new(name, Kind::Decimal)
}
pub(super) const fn date(name: &'static str) -> Column {
    Column::new(name, Kind::Date)
}
pub(super) const fn request(name: &'static str) -> Column {
    Column::new(name, Kind::Request)
}
pub(super) const fn user_agent(name: &'static str) -> Column {
    Column::new(name, Kind::UserAgent)
}
pub(super) const fn list(name: &'static str, separator: char) -> Column {
    Column::new(name, Kind::List(separator))
}
pub(super) const fn whole_list(name: &'static str, separator: char) -> Column {
    Column::new(name, Kind::WholeList(separator))
}

impl Layout {
    /// Reads a line field by field. A line with fewer than [`Layout::required`] fields is an
    /// error saying so; otherwise the first field that does not read is.
    pub fn parse<'l>(&self, line: &'l str) -> Result<AccessRecord<'l>, String> {
        let mut fields = String::with_capacity(line.len() + 768);
        let parsed = self.parse_into(line, &mut fields)?;
        Ok(AccessRecord {
            time_ms: parsed.time_ms,
            fields,
            shared: parsed.shared,
        })
    }

    /// [`Layout::parse`], writing the fields at the end of `out` (see [`super::parse_into`]).
    pub fn parse_into<'l>(&self, line: &'l str, out: &mut String) -> Result<Parsed<'l>, String> {
        if line.trim().is_empty() {
            return Err("an empty line".to_string());
        }
        let mut reader = Reader {
            layout: self,
            out: FieldWriter::after_known_keys(std::mem::take(out)),
            shared: Shared::default(),
            shared_plain: true,
            time_ms: None,
            extra: String::new(),
            extra_values: false,
        };
        let mut count = 0;
        let mut failed = None;
        let fields = Fields::new(line, self.quoted);
        let quotes_only = fields.plain;
        for field in fields {
            let (field, plain) = match field {
                Ok(Field { text, plain }) => (text, plain),
                Err(reason) => {
                    *out = reader.out.finish();
                    return Err(reason);
                }
            };
            if failed.is_none() {
                failed = reader.field(count, field, plain).err();
            }
            count += 1;
        }
        if count < self.required {
            *out = reader.out.finish();
            return Err(format!(
                "{count} field{s}, {what} has at least {required} ({first} to {last})",
                s = if count == 1 { "" } else { "s" },
                what = self.what,
                required = self.required,
                first = self.columns[0].name,
                last = self.columns[self.required - 1].name,
            ));
        }
        if let Some(reason) = failed {
            *out = reader.out.finish();
            return Err(reason);
        }
        let (fields, parsed) = reader.finish(quotes_only);
        *out = fields;
        Ok(parsed)
    }
}

/// The state of one line being read.
struct Reader<'a, 'l> {
    layout: &'a Layout,
    out: FieldWriter,
    /// Borrowed from the line `'l`.
    shared: Shared<'l>,
    /// Whether the shared texts need no escaping: the fields they come from need none.
    shared_plain: bool,
    time_ms: Option<i64>,
    /// The JSON array of the fields after the known ones.
    extra: String,
    /// Whether one of them is not `-`.
    extra_values: bool,
}

impl<'l> Reader<'_, 'l> {
    /// Reads the field at `index` (from 0) of the line; `plain` when it is known to need no
    /// escaping, and so every part of it.
    fn field(&mut self, index: usize, field: Cow<'l, str>, plain: bool) -> Result<(), String> {
        let value: &str = &field;
        let Some(column) = self.layout.columns.get(index) else {
            self.extra.push(if self.extra.is_empty() { '[' } else { ',' });
            push_str(&mut self.extra, value);
            self.extra_values |= present(value).is_some();
            return Ok(());
        };
        let name = column.name;
        let wrong = |what: &str| format!("field {} ({name}) is not {what}: {value:?}", index + 1);
        if column.share.is_some() || matches!(column.kind, Kind::Request | Kind::UserAgent) {
            self.shared_plain &= plain;
        }
        match column.kind {
            Kind::Text => self.out.text(name, value, plain),
            Kind::Time => self.time_ms = Some(time_ms(value).ok_or_else(|| wrong("an ISO 8601 time"))?),
            Kind::Date => {
                if present(value).is_some() {
                    if !is_date(value) {
                        return Err(wrong("an ISO 8601 time"));
                    }
                    self.out.text(name, value, plain);
                }
            }
            Kind::Address { ip, port } => {
                let Some((address, number)) = split_address(value) else {
                    return Ok(());
                };
                if !is_ip(address) {
                    return Err(wrong("an IP address and port"));
                }
                self.out.text(ip, address, plain);
                if let Some(number) = number {
                    push_u64(self.out.raw_key(port), u64::from(number));
                }
                if column.share == Some(Share::Client) {
                    self.shared.client_ip = Some(part_of(&field, address));
                    self.shared.client_port = number;
                }
            }
            Kind::Ip => {
                if let Some(address) = present(value) {
                    if !is_ip(address) {
                        return Err(wrong("an IP address"));
                    }
                    self.out.text(name, address, plain);
                    if column.share == Some(Share::ClientIp) {
                        self.shared.client_ip = Some(part_of(&field, address));
                    }
                }
            }
            Kind::Whole => {
                let number = self.out.int(name, value).map_err(|_| wrong("a whole number"))?;
                if let Some(number) = number {
                    match column.share {
                        Some(Share::ClientPort) => self.shared.client_port = u16::try_from(number).ok(),
                        Some(Share::StatusCode) => self.shared.http_status_code = u16::try_from(number).ok(),
                        Some(Share::Bytes) => self.shared.bytes = u64::try_from(number).ok(),
                        _ => {}
                    }
                }
            }
            Kind::Decimal => {
                self.out.float(name, value).map_err(|_| wrong("a number"))?;
            }
            Kind::Request => {
                let (method, url, protocol) = request_parts(value);
                if let Some(method) = method {
                    self.out.text("request_method", method, plain);
                    self.shared.http_method = Some(part_of(&field, method));
                }
                if let Some(url) = url {
                    self.out.text("request_url", url, plain);
                    self.shared.url_original = Some(part_of(&field, url));
                }
                if let Some(protocol) = protocol {
                    self.out.text("request_protocol", protocol, plain);
                }
            }
            Kind::UserAgent => self.shared.user_agent = present(value).map(|agent| part_of(&field, agent)),
            Kind::List(separator) | Kind::WholeList(separator) => {
                let numbers = matches!(column.kind, Kind::WholeList(_));
                self.list(name, value, separator, numbers, plain)
                    .map_err(|()| wrong("a list of whole numbers"))?;
            }
            Kind::Validity {
                not_before,
                not_after,
            } => {
                self.out.text(name, value, plain);
                let dates = value
                    .strip_prefix("NotBefore=")
                    .and_then(|rest| rest.split_once(";NotAfter="))
                    .filter(|(before, after)| is_date(before) && is_date(after));
                if let Some((before, after)) = dates {
                    self.out.text(not_before, before, plain);
                    self.out.text(not_after, after, plain);
                }
            }
        }
        Ok(())
    }

    /// Writes a list as a JSON array (nothing for an empty one); `Err` for an item that is not a
    /// whole number when `numbers`. `plain` when the list needs no escaping.
    fn list(
        &mut self,
        name: &str,
        value: &str,
        separator: char,
        numbers: bool,
        plain: bool,
    ) -> Result<(), ()> {
        let items = value
            .split(separator)
            .map(|item| item.trim_ascii().trim_matches(|c| c == '"'))
            .filter_map(present);
        let mut open = false;
        for item in items {
            let number = match numbers {
                true => Some(whole_number(item).ok_or(())?),
                false => None,
            };
            let out = if open {
                let out = self.out.raw();
                out.push(',');
                out
            } else {
                open = true;
                let out = self.out.raw_key(name);
                out.push('[');
                out
            };
            match number {
                Some(read) => push_whole(out, item, read),
                None => push_text(out, item, plain),
            }
        }
        if open {
            self.out.raw().push(']');
        }
        Ok(())
    }

    /// The fields written, and what the line gave besides; `quotes_only` as [`Parsed`] says.
    fn finish(mut self, quotes_only: bool) -> (String, Parsed<'l>) {
        if self.extra_values {
            self.extra.push(']');
            self.out.raw_json("extra_fields", &self.extra);
        }
        let parsed = Parsed {
            time_ms: self.time_ms,
            shared: self.shared,
            shared_plain: self.shared_plain,
            quotes_only,
        };
        (self.out.finish(), parsed)
    }
}

/// `part`, a slice of `field`, borrowed from the line as `field` is, or a copy of it when `field`
/// is not the line's own text (a quoted field that had escapes).
fn part_of<'l>(field: &Cow<'l, str>, part: &str) -> Cow<'l, str> {
    match field {
        Cow::Borrowed(whole) => {
            let start = (part.as_ptr() as usize).wrapping_sub(whole.as_ptr() as usize);
            let inner = start
                .checked_add(part.len())
                .and_then(|end| whole.get(start..end))
                .filter(|inner| inner.as_ptr() == part.as_ptr());
            inner.map_or_else(|| Cow::Owned(part.to_owned()), Cow::Borrowed)
        }
        Cow::Owned(_) => Cow::Owned(part.to_owned()),
    }
}

/// The value, unless it is AWS's `-` (no value) or empty.
fn present(value: &str) -> Option<&str> {
    (value != "-" && !value.is_empty()).then_some(value)
}

/// An ISO 8601 time in milliseconds since the epoch: RFC 3339 (`2018-07-02T22:23:00.186641Z`), or
/// without a zone, read as UTC (the NLB's `2018-12-20T02:59:40`).
fn time_ms(text: &str) -> Option<i64> {
    rfc3339_ms(text).or_else(|| {
        chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
            .ok()
            .map(|time| time.and_utc().timestamp_millis())
    })
}

/// Whether a date field's text is a time OpenSearch reads as its default date format does
/// (`T` between date and time, which RFC 3339 leaves optional).
fn is_date(text: &str) -> bool {
    text.as_bytes().get(10) == Some(&b'T') && time_ms(text).is_some()
}

/// Splits a request line into method (before the first space), URL and protocol (after the
/// last space); `-` parts are `None`.
fn request_parts(request: &str) -> (Option<&str>, Option<&str>, Option<&str>) {
    let request = request.trim();
    let Some((method, rest)) = request.split_once(' ') else {
        return (present(request), None, None);
    };
    match rest.trim().rsplit_once(' ') {
        Some((url, protocol)) => (present(method), present(url.trim()), present(protocol)),
        None => (present(method), present(rest.trim()), None),
    }
}

/// The fields of a line, one at a time. Fields are separated by spaces; with `quoted`, a field
/// that starts with `"` runs to the next `"` that is not escaped, its quotes removed and `\"` and
/// `\\` unescaped. A field borrows from the line unless it had escapes.
struct Fields<'a> {
    line: &'a str,
    at: usize,
    quoted: bool,
    /// Whether the line has no backslash and no control byte: then a field without a quote
    /// needs no JSON escaping, and neither does any part of it.
    plain: bool,
}

/// One field of a line, and whether it needs no JSON escaping (most do not: that saves looking
/// at each one again as it is written).
#[derive(Debug, PartialEq)]
struct Field<'a> {
    text: Cow<'a, str>,
    plain: bool,
}

impl<'a> Fields<'a> {
    fn new(line: &'a str, quoted: bool) -> Self {
        let bytes = line.as_bytes();
        // The smallest byte, without stopping early, so that the loop runs many bytes at a time.
        let lowest = bytes.iter().fold(u8::MAX, |lowest, &byte| lowest.min(byte));
        let plain = lowest >= 0x20 && memchr::memchr(b'\\', bytes).is_none();
        Fields {
            line,
            at: 0,
            quoted,
            plain,
        }
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = Result<Field<'a>, String>;

    fn next(&mut self) -> Option<Self::Item> {
        let bytes = self.line.as_bytes();
        while bytes.get(self.at) == Some(&b' ') {
            self.at += 1;
        }
        let start = self.at;
        if start >= bytes.len() {
            return None;
        }
        if !(self.quoted && bytes[start] == b'"') {
            let rest = &bytes[start..];
            let (end, quote) = match memchr::memchr2(b' ', b'"', rest) {
                Some(at) if rest[at] == b'"' => (memchr::memchr(b' ', &rest[at..]).map(|end| at + end), true),
                found => (found, false),
            };
            let end = end.map_or(bytes.len(), |end| start + end);
            self.at = end;
            return Some(Ok(Field {
                text: Cow::Borrowed(&self.line[start..end]),
                plain: self.plain && !quote,
            }));
        }
        let mut end = start + 1;
        let mut escaped = false;
        loop {
            let Some(found) = bytes
                .get(end..)
                .and_then(|rest| memchr::memchr2(b'"', b'\\', rest))
            else {
                self.at = bytes.len();
                return Some(Err(format!("the quoted field at byte {start} never ends")));
            };
            end += found;
            if bytes[end] == b'"' {
                break;
            }
            escaped = true;
            end += 2;
        }
        self.at = end + 1;
        let inner = &self.line[start + 1..end];
        Some(Ok(match escaped {
            true => Field {
                text: Cow::Owned(unescape(inner)),
                plain: false,
            },
            // Without a backslash the field ends at the first quote: none is left inside it.
            false => Field {
                text: Cow::Borrowed(inner),
                plain: self.plain,
            },
        }))
    }
}

/// `\"` becomes `"` and `\\` becomes `\`; any other backslash is kept.
fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some(next @ ('"' | '\\')) => out.push(next),
            Some(next) => {
                out.push('\\');
                out.push(next);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// Test helpers the NLB and Classic Load Balancer tests share.
#[cfg(test)]
pub(super) mod check {
    use serde_json::Value;

    use super::super::FieldType;
    use super::{Kind, Layout};

    /// The fields of a record as a JSON object, checked against `table`
    /// ([`super::super::check::typed`]).
    pub fn typed(fields: &str, table: &[(&str, FieldType)]) -> Value {
        Value::Object(super::super::check::typed(fields, table))
    }

    /// Panics unless `table` lists exactly the keys `layout` can write, with the types their
    /// kinds give them.
    pub fn covers(layout: &Layout, table: &[(&str, FieldType)]) {
        let mut writable = vec![("extra_fields", FieldType::Keyword)];
        for column in layout.columns {
            let name = column.name;
            match column.kind {
                Kind::Time | Kind::UserAgent => {}
                Kind::Text | Kind::List(_) => writable.push((name, FieldType::Keyword)),
                Kind::Ip => writable.push((name, FieldType::Ip)),
                Kind::Whole | Kind::WholeList(_) => writable.push((name, FieldType::Long)),
                Kind::Decimal => writable.push((name, FieldType::Double)),
                Kind::Date => writable.push((name, FieldType::Date)),
                Kind::Address { ip, port } => writable.extend([(ip, FieldType::Ip), (port, FieldType::Long)]),
                Kind::Request => writable.extend(
                    ["request_method", "request_url", "request_protocol"]
                        .map(|key| (key, FieldType::Keyword)),
                ),
                Kind::Validity {
                    not_before,
                    not_after,
                } => writable.extend([
                    (name, FieldType::Keyword),
                    (not_before, FieldType::Date),
                    (not_after, FieldType::Date),
                ]),
            }
        }
        let mut listed = table.to_vec();
        listed.sort_by_key(|(name, _)| *name);
        writable.sort_by_key(|(name, _)| *name);
        assert_eq!(listed, writable, "FIELDS of {}", layout.what);
    }
}

#[cfg(test)]
mod tests {
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
                assert!(
                    crate::document::write::is_plain(&field.text),
                    "{line:?}: {field:?}"
                );
            }
        }
    }

    /// Keys are written without a check ([`FieldWriter::after_known_keys`]): every name a
    /// layout can write needs no escaping.
    #[test]
    fn every_layout_writes_plain_keys() {
        use crate::document::write::is_plain;
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
}
