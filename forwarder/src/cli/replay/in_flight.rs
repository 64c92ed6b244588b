//! Which events of a source a delivering replay has in flight: started, not yet counted. Events
//! are counted in the order they were read, so those in flight are the lines from the first not
//! yet counted to the last started, and that is what Ctrl-C names ("during stdin line 4 to 7").

use std::collections::VecDeque;

/// The lines in flight of one source, and the last one counted.
#[derive(Debug)]
pub(super) struct InFlight {
    source: String,
    started: VecDeque<usize>,
    counted: Option<usize>,
}

impl InFlight {
    pub(super) fn new(source: &str) -> InFlight {
        InFlight {
            source: source.to_string(),
            started: VecDeque::new(),
            counted: None,
        }
    }

    /// The event on `line` has started.
    pub(super) fn start(&mut self, line: usize) {
        self.started.push_back(line);
    }

    /// The first event in flight has been counted.
    pub(super) fn finish(&mut self) {
        self.counted = self.started.pop_front().or(self.counted);
    }

    /// Where the replay is, for [`super::ReplaySummary::position`]: "during" the events in
    /// flight, or "after" the last counted; `None` before the source's first event.
    pub(super) fn position(&self) -> Option<String> {
        let source = &self.source;
        match (self.started.front(), self.started.back(), self.counted) {
            (Some(first), Some(last), _) if first == last => Some(format!("during {source} line {first}")),
            (Some(first), Some(last), _) => Some(format!("during {source} line {first} to {last}")),
            (_, _, Some(counted)) => Some(format!("after {source} line {counted}")),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 25: with several events in flight, Ctrl-C names them all, as a range of lines; once
    /// none is, the last one counted.
    #[test]
    fn the_position_names_every_event_in_flight() {
        let mut in_flight = InFlight::new("stdin");
        assert_eq!(in_flight.position(), None);
        in_flight.start(1);
        assert_eq!(in_flight.position().as_deref(), Some("during stdin line 1"));
        in_flight.finish();
        assert_eq!(in_flight.position().as_deref(), Some("after stdin line 1"));
        for line in [4, 5, 7] {
            in_flight.start(line);
        }
        assert_eq!(in_flight.position().as_deref(), Some("during stdin line 4 to 7"));
        in_flight.finish();
        assert_eq!(in_flight.position().as_deref(), Some("during stdin line 5 to 7"));
        in_flight.finish();
        in_flight.finish();
        assert_eq!(in_flight.position().as_deref(), Some("after stdin line 7"));
        in_flight.finish();
        assert_eq!(in_flight.position().as_deref(), Some("after stdin line 7"));
    }
}
