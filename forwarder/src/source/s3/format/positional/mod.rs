//! The reader of positional lines: fields in a documented order, separated by spaces, a field
//! in `"quotes"` holding spaces (`\"` inside is a quote), `-` for "no value". The Elastic Load
//! Balancing logs (ALB access and connection logs, NLB, Classic) are read with it: each declares
//! its columns as a [`Layout`], and a line is read one field at a time, borrowed from the line
//! and written straight into the [`FieldWriter`].

#[cfg(test)]
pub(super) mod check;
mod line;
mod reader;
#[cfg(test)]
mod tests;

use self::line::{Field, Fields};
use self::reader::Reader;
use super::fields::FieldWriter;
use super::{AccessRecord, EventKind, Parsed, RecordError};

/// A log whose lines are fields in a fixed order (the Elastic Load Balancing logs).
#[derive(Debug)]
pub(super) struct Layout {
    /// What a line is, for messages: "an ALB access log line".
    pub what: &'static str,
    /// Whether a field may be `"quoted"`; otherwise fields are split on spaces alone.
    pub quoted: bool,
    /// How many fields a line needs at least: the format as AWS first shipped it.
    pub required: usize,
    /// What its lines are: `event.category` and `event.type`.
    pub event: EventKind,
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

/// The shared field ([`super::Shared`]) a column fills.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Share {
    /// The client's address and port (`source.*`), from an address column.
    Client,
    ClientIp,
    ClientPort,
    /// The target's address and port (`destination.*`), from an address column.
    Target,
    StatusCode,
    /// Bytes from the client.
    RequestBytes,
    /// Bytes to the client.
    Bytes,
    TlsCipher,
    TlsProtocol,
    TraceId,
    /// A part of `event.duration`, in seconds.
    Seconds,
    /// A part of `event.duration`, in milliseconds.
    Millis,
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
    pub fn parse<'l>(&self, line: &'l str) -> Result<AccessRecord<'l>, RecordError> {
        let mut fields = String::with_capacity(line.len() + 768);
        let parsed = self.parse_into(line, &mut fields)?;
        Ok(AccessRecord {
            time_ms: parsed.time_ms,
            fields,
            shared: parsed.shared,
        })
    }

    /// [`Layout::parse`], writing the fields at the end of `out` (see [`super::Typed::parse`]).
    pub(crate) fn parse_into<'l>(&self, line: &'l str, out: &mut String) -> Result<Parsed<'l>, RecordError> {
        if line.trim().is_empty() {
            return Err(RecordError::Empty);
        }
        let mut reader = Reader::new(self, FieldWriter::after_known_keys(std::mem::take(out)));
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
            return Err(RecordError::TooFewFields {
                count,
                what: self.what,
                required: self.required,
                first: self.columns[0].name,
                last: self.columns[self.required - 1].name,
            });
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
