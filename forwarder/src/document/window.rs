//! The window of times documents are indexed by (`INDEX_TIME_WINDOW_DAYS`). A record's time far
//! from its read time is nearly always a mistake (a flow log's `start` of `164000066` is 1975),
//! and, indexed by that time, one bad line would create an index of its own. A document whose
//! time lies outside the window is indexed and stamped at its read time instead, its own time
//! kept in [`ORIGINAL_TIME_FIELD`] and counted (`out_of_window`).

use std::fmt::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

const DAY_MS: i64 = 86_400_000;

/// The field that keeps, in milliseconds since the epoch, the time of a document that lay
/// outside the window (a number, which no year can make a mapping conflict of).
pub const ORIGINAL_TIME_FIELD: &str = "original_timestamp_ms";

/// How far before and after its read time a document's own time may lie and still name its
/// index: by default ten years back and one day ahead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeWindow {
    back_ms: i64,
    ahead_ms: i64,
    /// The read time, when fixed rather than the clock's.
    read_at_ms: Option<i64>,
}

impl Default for TimeWindow {
    fn default() -> Self {
        let (back, ahead) = TimeWindow::DEFAULT_DAYS;
        TimeWindow::days(back, ahead)
    }
}

impl TimeWindow {
    /// `INDEX_TIME_WINDOW_DAYS` when unset: ten years back, one day ahead.
    pub const DEFAULT_DAYS: (u32, u32) = (3650, 1);

    /// A window of `back` days before the read time and `ahead` days after it.
    pub fn days(back: u32, ahead: u32) -> Self {
        TimeWindow {
            back_ms: i64::from(back) * DAY_MS,
            ahead_ms: i64::from(ahead) * DAY_MS,
            read_at_ms: None,
        }
    }

    /// The same window, reading every document at `ms` rather than at the clock's time.
    pub fn read_at(self, ms: i64) -> Self {
        TimeWindow {
            read_at_ms: Some(ms),
            ..self
        }
    }

    /// The read time: now, in milliseconds since the epoch, unless fixed.
    pub(crate) fn read_time(&self) -> i64 {
        self.read_at_ms.unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |since| since.as_millis() as i64)
        })
    }

    /// The time a document of `time_ms`, read at `read_ms`, is indexed and stamped by.
    pub(crate) fn place(&self, time_ms: i64, read_ms: i64) -> Placed {
        let window = read_ms.saturating_sub(self.back_ms)..=read_ms.saturating_add(self.ahead_ms);
        match window.contains(&time_ms) {
            true => Placed {
                time_ms,
                original_ms: None,
            },
            false => Placed {
                time_ms: read_ms,
                original_ms: Some(time_ms),
            },
        }
    }
}

/// A document's time as the window placed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Placed {
    /// The time its `@timestamp` and its index are of.
    pub time_ms: i64,
    /// Its own time, when that lay outside the window and was replaced by the read time.
    pub original_ms: Option<i64>,
}

impl Placed {
    /// Appends `,"original_timestamp_ms":N` when the time was replaced.
    pub(crate) fn push_original(&self, out: &mut String) {
        if let Some(ms) = self.original_ms {
            let _ = write!(out, ",\"{ORIGINAL_TIME_FIELD}\":{ms}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-11-29T10:00:00Z.
    const READ: i64 = 1_795_946_400_000;

    #[test]
    fn a_time_outside_the_window_is_replaced_by_the_read_time() {
        let window = TimeWindow::default();
        for inside in [READ, READ - 3650 * DAY_MS, READ + DAY_MS, 1_640_000_066_000] {
            let placed = window.place(inside, READ);
            assert_eq!((placed.time_ms, placed.original_ms), (inside, None), "{inside}");
        }
        // A flow log's start of 164000066 (1975), a day and a millisecond ahead, year 50000.
        for outside in [
            164_000_066_000,
            READ + DAY_MS + 1,
            READ - 3650 * DAY_MS - 1,
            1_515_683_846_400_000,
        ] {
            let placed = window.place(outside, READ);
            assert_eq!((placed.time_ms, placed.original_ms), (READ, Some(outside)));
        }
        let mut out = String::new();
        window.place(-1, READ).push_original(&mut out);
        assert_eq!(out, ",\"original_timestamp_ms\":-1");
        assert_eq!(TimeWindow::days(1, 0).place(READ + 1, READ).time_ms, READ);
        assert_eq!(window.read_at(READ).read_time(), READ);
    }
}
