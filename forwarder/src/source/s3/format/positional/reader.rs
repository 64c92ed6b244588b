//! One line of a [`Layout`] being read: each field checked against its column's kind and
//! written, the shared fields kept.

use std::borrow::Cow;

use super::super::fields::{FieldWriter, push_whole, whole_number};
use super::super::split::{is_ip, split_address};
use super::super::time::rfc3339_ms;
use super::super::{Parsed, RecordError, Shared};
use super::{Kind, Layout, Share};
use crate::json::{push_str, push_text, push_u64};

/// The state of one line being read.
pub(super) struct Reader<'a, 'l> {
    layout: &'a Layout,
    pub(super) out: FieldWriter,
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

impl<'a, 'l> Reader<'a, 'l> {
    pub(super) fn new(layout: &'a Layout, out: FieldWriter) -> Self {
        Reader {
            layout,
            out,
            shared: Shared {
                kind: Some(layout.event),
                ..Shared::default()
            },
            shared_plain: true,
            time_ms: None,
            extra: String::new(),
            extra_values: false,
        }
    }

    /// Reads the field at `index` (from 0) of the line; `plain` when it is known to need no
    /// escaping, and so every part of it.
    pub(super) fn field(
        &mut self,
        index: usize,
        field: Cow<'l, str>,
        plain: bool,
    ) -> Result<(), RecordError> {
        let value: &str = &field;
        let Some(column) = self.layout.columns.get(index) else {
            self.extra.push(if self.extra.is_empty() { '[' } else { ',' });
            push_str(&mut self.extra, value);
            self.extra_values |= present(value).is_some();
            return Ok(());
        };
        let name = column.name;
        let wrong =
            |what: &'static str| RecordError::value(format!("field {} ({name})", index + 1), what, value);
        if column.share.is_some() || matches!(column.kind, Kind::Request | Kind::UserAgent) {
            self.shared_plain &= plain;
        }
        match column.kind {
            Kind::Text => {
                self.out.text(name, value, plain);
                self.share_text(column.share, &field);
            }
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
                self.address(column.share, (ip, port), &field, plain)
                    .map_err(|()| wrong("an IP address and port"))?;
            }
            Kind::Ip => self
                .ip(column, &field, plain)
                .map_err(|()| wrong("an IP address"))?,
            Kind::Whole => {
                let number = self.out.int(name, value).map_err(|_| wrong("a whole number"))?;
                self.share_number(column.share, number);
            }
            Kind::Decimal => {
                let written = self.out.float(name, value).map_err(|_| wrong("a number"))?;
                self.share_duration(column.share, value, written);
            }
            Kind::Request => self.request(&field, plain),
            Kind::UserAgent => self.shared.user_agent = present(value).map(|agent| part_of(&field, agent)),
            Kind::List(separator) | Kind::WholeList(separator) => {
                let numbers = matches!(column.kind, Kind::WholeList(_));
                self.list(name, value, separator, numbers, plain)
                    .map_err(|()| wrong("a list of whole numbers"))?;
            }
            Kind::Validity {
                not_before,
                not_after,
            } => self.validity(name, (not_before, not_after), value, plain),
        }
        Ok(())
    }

    /// `address:port` into its two fields (and the client's, when `share` says); `Err` for an
    /// address that is not an IP address.
    #[expect(
        clippy::ptr_arg,
        reason = "the Cow says whether a part can borrow from the line"
    )]
    fn address(
        &mut self,
        share: Option<Share>,
        (ip, port): (&str, &str),
        field: &Cow<'l, str>,
        plain: bool,
    ) -> Result<(), ()> {
        let Some((address, number)) = split_address(field) else {
            return Ok(());
        };
        if !is_ip(address) {
            return Err(());
        }
        self.out.text(ip, address, plain);
        if let Some(number) = number {
            push_u64(self.out.raw_key(port), u64::from(number));
        }
        match share {
            Some(Share::Client) => {
                self.shared.client_ip = Some(part_of(field, address));
                self.shared.client_port = number;
            }
            Some(Share::Target) => {
                self.shared.target_ip = Some(part_of(field, address));
                self.shared.target_port = number;
            }
            _ => {}
        }
        Ok(())
    }

    /// The shared text a text column fills, if any.
    #[expect(
        clippy::ptr_arg,
        reason = "the Cow says whether a part can borrow from the line"
    )]
    fn share_text(&mut self, share: Option<Share>, field: &Cow<'l, str>) {
        let Some(share) = share else {
            return;
        };
        let Some(value) = present(field).map(|value| part_of(field, value)) else {
            return;
        };
        match share {
            Share::TlsCipher => self.shared.tls_cipher = Some(value),
            Share::TlsProtocol => self.shared.tls_protocol = Some(value),
            Share::TraceId => self.shared.trace_id = Some(value),
            _ => {}
        }
    }

    /// The part of `event.duration` a decimal column gives, if it gives one.
    fn share_duration(&mut self, share: Option<Share>, value: &str, written: bool) {
        let scale = match share {
            Some(Share::Seconds) => 1.0,
            Some(Share::Millis) => 1e-3,
            _ => return,
        };
        if let (true, Ok(number)) = (written, value.parse::<f64>()) {
            self.shared.duration.add_seconds(number * scale);
        }
    }

    /// An IP address field; `Err` for one that is not.
    #[expect(
        clippy::ptr_arg,
        reason = "the Cow says whether a part can borrow from the line"
    )]
    fn ip(&mut self, column: &super::Column, field: &Cow<'l, str>, plain: bool) -> Result<(), ()> {
        if let Some(address) = present(field) {
            if !is_ip(address) {
                return Err(());
            }
            self.out.text(column.name, address, plain);
            if column.share == Some(Share::ClientIp) {
                self.shared.client_ip = Some(part_of(field, address));
            }
        }
        Ok(())
    }

    /// The shared field a whole number fills, if any.
    fn share_number(&mut self, share: Option<Share>, number: Option<i64>) {
        let Some(number) = number else {
            return;
        };
        match share {
            Some(Share::ClientPort) => self.shared.client_port = u16::try_from(number).ok(),
            Some(Share::StatusCode) => self.shared.http_status_code = u16::try_from(number).ok(),
            Some(Share::Bytes) => self.shared.bytes = u64::try_from(number).ok(),
            Some(Share::RequestBytes) => self.shared.request_bytes = u64::try_from(number).ok(),
            _ => {}
        }
    }

    /// `METHOD URL PROTOCOL` into its three fields, the method and URL shared.
    #[expect(
        clippy::ptr_arg,
        reason = "the Cow says whether a part can borrow from the line"
    )]
    fn request(&mut self, field: &Cow<'l, str>, plain: bool) {
        let (method, url, protocol) = request_parts(field);
        if let Some(method) = method {
            self.out.text("request_method", method, plain);
            self.shared.http_method = Some(part_of(field, method));
        }
        if let Some(url) = url {
            self.out.text("request_url", url, plain);
            self.shared.url_original = Some(part_of(field, url));
        }
        if let Some(protocol) = protocol {
            self.out.text("request_protocol", protocol, plain);
        }
    }

    /// A certificate's `NotBefore=…;NotAfter=…`, kept, and its two dates when both read.
    fn validity(&mut self, name: &str, (not_before, not_after): (&str, &str), value: &str, plain: bool) {
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
    pub(super) fn finish(mut self, quotes_only: bool) -> (String, Parsed<'l>) {
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
