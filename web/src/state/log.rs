//! The event log: rows, the capped ring that holds them, the client-side filter and the
//! window of rows a scrolled list shows.

use std::collections::VecDeque;

use vscp_core::{Event, Guid};

use crate::format::{class_label, hex, type_label};

/// Events kept in the log (oldest dropped first).
pub const LOG_CAPACITY: usize = 100_000;

/// One row of the event log.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// Sequence number in this console (1, 2, …).
    pub seq: u64,
    /// Receive time (ms since the epoch, from the browser clock).
    pub received_ms: u64,
    /// The event.
    pub event: Event,
    /// Decoded measurement text (`21.5 °C`), if any.
    pub decoded: Option<String>,
}

impl Row {
    /// The event's line as the server sent it, or as the console writes it for events that
    /// came in another form.
    #[must_use]
    pub fn line(&self) -> std::borrow::Cow<'_, str> {
        match self.event.line.as_str() {
            Some(line) => line.into(),
            None => self.event.to_string().into(),
        }
    }
}

/// Client-side filter: empty fields match everything.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ViewFilter {
    /// Class number.
    pub class: Option<u16>,
    /// Type number.
    pub kind: Option<u16>,
    /// Any of these (class, type) (a type named without its class); empty: any.
    pub any_of: Vec<(u16, u16)>,
    /// The node the events come from.
    pub node: Option<NodeMatch>,
    /// Highest priority number shown (0 = only highest).
    pub max_priority: Option<u8>,
    /// Case-insensitive text found anywhere in the row.
    pub text: String,
}

impl ViewFilter {
    /// Does the row pass?
    #[must_use]
    pub fn matches(&self, row: &Row) -> bool {
        let e = &row.event;
        self.class.is_none_or(|c| c == e.class)
            && self.kind.is_none_or(|t| t == e.kind)
            && (self.any_of.is_empty() || self.any_of.contains(&(e.class, e.kind)))
            && self.node.is_none_or(|n| n.matches(&e.guid))
            && self.max_priority.is_none_or(|p| e.priority() <= p)
            && (self.text.is_empty()
                || row_text(row)
                    .to_lowercase()
                    .contains(&self.text.to_lowercase()))
    }

    /// Is anything set?
    #[must_use]
    pub fn is_active(&self) -> bool {
        *self != ViewFilter::default()
    }
}

/// Everything searchable about a row, in one line.
#[must_use]
fn row_text(row: &Row) -> String {
    let e = &row.event;
    format!(
        "{} {} {} {} {} {}",
        class_label(e.class),
        type_label(e.class, e.kind),
        e.guid,
        hex(&e.data),
        row.decoded.as_deref().unwrap_or_default(),
        e
    )
}

/// Which node a filter passes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeMatch {
    /// Any node with this nickname (GUID byte 15).
    Nickname(u8),
    /// This node.
    Guid(Guid),
}

impl NodeMatch {
    /// Does an event from `guid` pass?
    #[must_use]
    pub fn matches(&self, guid: &Guid) -> bool {
        match self {
            NodeMatch::Nickname(n) => guid.nickname() == *n,
            NodeMatch::Guid(g) => guid == g,
        }
    }
}

/// The event log: a capped ring with counters.
#[derive(Clone, Debug, Default)]
pub struct EventLog {
    /// Rows, oldest first.
    pub rows: VecDeque<Row>,
    /// Events received since the start.
    pub total: u64,
    /// Rows pushed out by the cap.
    pub evicted: u64,
    /// Events received while paused (not shown).
    pub paused_skipped: u64,
    /// Receive times of the last second's events, for events/s.
    recent: VecDeque<u64>,
}

impl EventLog {
    /// Appends a row, evicting the oldest beyond [`LOG_CAPACITY`].
    pub fn push(&mut self, row: Row) {
        self.recent.push_back(row.received_ms);
        while self
            .recent
            .front()
            .is_some_and(|t| *t + 1_000 < row.received_ms)
        {
            self.recent.pop_front();
        }
        if self.rows.len() >= LOG_CAPACITY {
            self.rows.pop_front();
            self.evicted += 1;
        }
        self.rows.push_back(row);
    }

    /// Events per second over the last second (as of `now_ms`).
    #[must_use]
    pub fn rate(&self, now_ms: u64) -> usize {
        self.recent.iter().filter(|t| **t + 1_000 >= now_ms).count()
    }

    /// The rows a list scrolled to `top` px shows (plus a margin), of those `filter` passes.
    #[must_use]
    pub fn window(&self, filter: &ViewFilter, top: i32, geometry: Geometry) -> LogWindow {
        // without a filter the window is indexed directly: no pass over 100,000 rows per frame
        let filtered: Option<Vec<&Row>> = filter
            .is_active()
            .then(|| self.rows.iter().filter(|r| filter.matches(r)).collect());
        let shown = filtered.as_ref().map_or(self.rows.len(), Vec::len);
        let Geometry { row, height } = geometry;
        let top = top.clamp(0, (shown as i32 * row - height).max(0));
        let first = ((top / row - 5).max(0) as usize).min(shown);
        let last = (((top + height) / row + 5).max(0) as usize).min(shown);
        let rows = match &filtered {
            Some(rows) => rows
                .get(first..last)
                .unwrap_or_default()
                .iter()
                .map(|r| (*r).clone())
                .collect(),
            None => self.rows.range(first..last).cloned().collect(),
        };
        LogWindow {
            first,
            rows,
            shown,
            hidden: self.rows.len() - shown,
            geometry,
        }
    }
}

/// Sizes of the scrolled list, px.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Geometry {
    /// Height of one row.
    pub row: i32,
    /// Visible height.
    pub height: i32,
}

impl Geometry {
    /// One line a row on a wide screen.
    pub const WIDE: Geometry = Geometry {
        row: 24,
        height: 480,
    };
    /// Two lines a row (a card) on a phone; the CSS switches at the same width.
    pub const NARROW: Geometry = Geometry {
        row: 44,
        height: 440,
    };
    /// Below this viewport width rows are cards, px.
    pub const NARROW_BELOW: f64 = 700.0;

    /// The geometry for a viewport this wide.
    #[must_use]
    pub fn for_width(px: f64) -> Geometry {
        if px < Self::NARROW_BELOW {
            Self::NARROW
        } else {
            Self::WIDE
        }
    }

    /// Rows in one screen, less one (what PgUp/PgDn move).
    #[must_use]
    pub fn page(self) -> i64 {
        i64::from(self.height / self.row) - 1
    }
}

impl Default for Geometry {
    fn default() -> Geometry {
        Geometry::WIDE
    }
}

/// What the log list shows: a few rows around the scroll position and the counts.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LogWindow {
    /// Index (among shown rows) of the first row in `rows`.
    pub first: usize,
    /// The rows to render.
    pub rows: Vec<Row>,
    /// Rows that pass the filter.
    pub shown: usize,
    /// Rows the filter hides.
    pub hidden: usize,
    /// The sizes it was computed for.
    pub geometry: Geometry,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(i: u64, class: u16) -> Row {
        Row {
            seq: i,
            received_ms: i,
            event: Event::new(class, 3),
            decoded: None,
        }
    }

    #[test]
    fn log_is_capped() {
        let mut log = EventLog::default();
        for i in 0..(LOG_CAPACITY as u64 + 10) {
            log.push(row(i, 20));
        }
        assert_eq!((log.rows.len(), log.evicted), (LOG_CAPACITY, 10));
        assert_eq!(log.rate(LOG_CAPACITY as u64 + 9), 1_001);
    }

    #[test]
    fn window_follows_scroll_and_filter() {
        let mut log = EventLog::default();
        for i in 0..1_000 {
            log.push(row(i, if i % 2 == 0 { 20 } else { 10 }));
        }
        let g = Geometry {
            row: 10,
            height: 100,
        };
        let w = log.window(&ViewFilter::default(), 5_000, g);
        assert_eq!((w.first, w.shown, w.hidden), (495, 1_000, 0));
        assert_eq!(w.rows.first().map(|r| r.seq), Some(495));
        assert_eq!(w.rows.len(), 20);
        let only_20 = ViewFilter {
            class: Some(20),
            ..ViewFilter::default()
        };
        // past the end: clamped to the last screen of the 500 shown rows
        let w = log.window(&only_20, 1_000_000, g);
        assert_eq!((w.shown, w.hidden), (500, 500));
        assert_eq!(w.rows.last().map(|r| r.seq), Some(998));
    }
}
