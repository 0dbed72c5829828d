//! Events and their text form `head,class,type,obid,datetime,timestamp,GUID,data…` (protocol.md §4).

use std::{fmt, str::FromStr};

use crate::ascii::AsciiWriter;
use crate::datetime;
use crate::guid::{Guid, GuidError, GuidFieldError};
use crate::number::{self, NumberError};

mod fast;

/// Most data bytes a Level II event carries.
pub const MAX_DATA: usize = 512;
/// Most data bytes a Level I (CAN) event carries.
pub const MAX_DATA_LEVEL1: usize = 8;
/// First class of "Level I events over Level II" (`512 + Level I class`).
pub const LEVEL1_OVER_LEVEL2: u16 = 512;

/// When an event happened, as its line said it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Stamp {
    /// Both datetime and timestamp empty: the server fills in the time.
    #[default]
    Unknown,
    /// Current form: empty datetime, absolute Unix time in nanoseconds.
    Unix(u64),
    /// Legacy form: a UTC datetime plus an optional free-running µs counter.
    DateTime {
        /// The datetime in nanoseconds since the epoch.
        ns: u64,
        /// The raw relative microsecond counter of the timestamp field, if given.
        counter_us: Option<u32>,
    },
}

impl Stamp {
    /// Nanoseconds since the Unix epoch, when known.
    #[must_use]
    pub fn unix_ns(&self) -> Option<u64> {
        match *self {
            Stamp::Unknown => None,
            Stamp::Unix(ns) | Stamp::DateTime { ns, .. } => Some(ns),
        }
    }
}

/// A Level II event (Level I events are the same with class < 512 and ≤ 8 data bytes).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Event {
    /// The 16-bit head: priority in bits 7–5, frame version in bits 9–8 (§7).
    pub head: u16,
    /// VSCP class.
    pub class: u16,
    /// VSCP type within the class.
    pub kind: u16,
    /// Object id; servers put the channel id here.
    pub obid: u32,
    /// Time of the event.
    pub stamp: Stamp,
    /// Origin GUID; all zeros means "the interface's GUID".
    pub guid: Guid,
    /// Data bytes, at most [`MAX_DATA`].
    pub data: Vec<u8>,
    /// Fields of a received line that could not be read, as the server wrote them (empty
    /// for events read whole or made here). See [`Event::read_received`].
    pub unread: Vec<Unread>,
    /// The line a received event came in, as the server wrote it.
    pub line: SourceLine,
}

/// The line an event was read from, exactly as the server sent it (only events read with
/// [`Event::read_received`] have one). It tells where the event came from and is no part of
/// the event: equality and hashing ignore it.
#[derive(Clone, Debug, Default)]
pub struct SourceLine(Option<Box<str>>);

impl SourceLine {
    /// The line, when the event was received.
    #[must_use]
    pub fn as_str(&self) -> Option<&str> {
        self.0.as_deref()
    }
}

impl PartialEq for SourceLine {
    fn eq(&self, _: &SourceLine) -> bool {
        true
    }
}

impl Eq for SourceLine {}

impl std::hash::Hash for SourceLine {
    fn hash<H: std::hash::Hasher>(&self, _: &mut H) {}
}

/// A field of a received event line that could not be read; the event was kept without it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Unread {
    /// Which field.
    pub field: Field,
    /// Its text as the server wrote it.
    pub text: String,
    /// Why it could not be read, in words.
    pub why: &'static str,
}

impl std::fmt::Display for Unread {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {:?}: {}", self.field, self.text, self.why)
    }
}

/// How a known time is written into an event line (servers differ in what they take).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum TimeForm {
    /// As the event holds it: a datetime with `Z` (vscpd's form), or a ns timestamp.
    #[default]
    AsHeld,
    /// `YYYY-MM-DDTHH:MM:SSZ` in the datetime field.
    DateTimeZ,
    /// The legacy `YYYY-MM-DDTHH:MM:SS` without `Z`.
    DateTimeLegacy,
    /// An empty datetime and the absolute time in ns in the timestamp field.
    UnixNs,
}

impl std::fmt::Display for TimeForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TimeForm::AsHeld => "as held",
            TimeForm::DateTimeZ => "date-time with Z",
            TimeForm::DateTimeLegacy => "legacy date-time without Z",
            TimeForm::UnixNs => "empty date-time with a ns timestamp",
        })
    }
}

/// Which unreadable fields a reader keeps the event without (the rest refuse the line).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Keep {
    /// None: every field must read.
    Nothing,
    /// Datetime and timestamp (a SEND: the server stamps the event itself).
    Time,
    /// Head, obid, datetime and timestamp (a received line).
    AllButIdentity,
}

/// Which field of an event line was wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Field {
    /// Head (field 1).
    Head,
    /// Class (field 2).
    Class,
    /// Type (field 3).
    Type,
    /// Object id (field 4).
    Obid,
    /// Datetime (field 5).
    DateTime,
    /// Timestamp (field 6).
    Timestamp,
    /// Data byte with this index.
    Data(usize),
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Field::Head => f.write_str("head"),
            Field::Class => f.write_str("class"),
            Field::Type => f.write_str("type"),
            Field::Obid => f.write_str("obid"),
            Field::DateTime => f.write_str("datetime"),
            Field::Timestamp => f.write_str("timestamp"),
            Field::Data(i) => write!(f, "data byte {i}"),
        }
    }
}

/// Why an event line could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EventParseError {
    /// Fewer than the 7 fields up to the GUID.
    #[error(
        "event has {got} fields, needs at least 7 (head,class,type,obid,datetime,timestamp,GUID)"
    )]
    TooFewFields {
        /// Fields found.
        got: usize,
    },
    /// A field that is not a number.
    #[error("{field}: {got:?} is not a number (decimal, 0x hex or 0b binary)")]
    BadNumber {
        /// Which field.
        field: Field,
        /// The text found.
        got: String,
    },
    /// A number too large for its field.
    #[error("{field}: {got:?} is out of range")]
    ValueOutOfRange {
        /// Which field.
        field: Field,
        /// The text found.
        got: String,
    },
    /// An empty data byte (`1,,2` or a trailing comma).
    #[error("data byte {index} is empty")]
    EmptyDataByte {
        /// Index of the empty byte.
        index: usize,
    },
    /// More than [`MAX_DATA`] data bytes.
    #[error("more than {MAX_DATA} data bytes")]
    TooMuchData,
    /// Short GUID form without braces inside an event line.
    #[error("short GUID forms must be braced inside an event line, e.g. {{::1}}")]
    AmbiguousGuid,
    /// The GUID field could not be read.
    #[error(transparent)]
    BadGuid(#[from] GuidError),
    /// A datetime or timestamp that cannot be a time.
    #[error("bad datetime/timestamp {0:?}")]
    BadTimestamp(String),
}

fn num<T: TryFrom<u64> + number::Bounded>(text: &str, field: Field) -> Result<T, EventParseError> {
    number::parse(text).map_err(|e| match (e, field) {
        (NumberError::OutOfRange, _) => EventParseError::ValueOutOfRange {
            field,
            got: text.to_string(),
        },
        (NumberError::Empty, Field::Data(index)) => EventParseError::EmptyDataByte { index },
        _ => EventParseError::BadNumber {
            field,
            got: text.to_string(),
        },
    })
}

impl Event {
    /// A new event with no data, unknown time and the interface GUID placeholder.
    #[must_use]
    pub fn new(class: u16, kind: u16) -> Event {
        Event {
            class,
            kind,
            ..Event::default()
        }
    }

    /// Priority 0 (highest) … 7 (lowest), from head bits 7–5.
    #[must_use]
    pub fn priority(&self) -> u8 {
        ((self.head >> 5) & 7) as u8
    }

    /// Sets the priority bits of the head.
    pub fn set_priority(&mut self, priority: u8) {
        self.head = (self.head & !0xE0) | (u16::from(priority & 7) << 5);
    }

    /// Is this a Level I event (class < 512)?
    #[must_use]
    pub fn is_level1(&self) -> bool {
        self.class < LEVEL1_OVER_LEVEL2
    }

    /// True when a Level I event fits a CAN frame: type ≤ 255 and ≤ 8 data bytes.
    #[must_use]
    pub fn fits_level1(&self) -> bool {
        self.is_level1() && self.kind <= 255 && self.data.len() <= MAX_DATA_LEVEL1
    }

    /// Wraps a Level I event for a node behind an interface: class + 512, data = the
    /// destination GUID (interface GUID with the nickname in byte 15) + the Level I data.
    #[must_use]
    pub fn level1_over_level2(&self, interface: Guid, nickname: u8) -> Event {
        let mut data = Vec::with_capacity(16 + self.data.len());
        data.extend_from_slice(&interface.with_nickname(nickname).0);
        data.extend_from_slice(&self.data);
        data.truncate(MAX_DATA);
        Event {
            class: self.class.saturating_add(LEVEL1_OVER_LEVEL2),
            data,
            ..self.clone()
        }
    }

    /// Unwraps a class 512–1023 event: (destination GUID, the Level I event).
    #[must_use]
    pub fn level1_from_level2(&self) -> Option<(Guid, Event)> {
        if !(LEVEL1_OVER_LEVEL2..2 * LEVEL1_OVER_LEVEL2).contains(&self.class) {
            return None;
        }
        let (dest, payload) = self.data.split_first_chunk::<16>()?;
        let inner = Event {
            class: self.class - LEVEL1_OVER_LEVEL2,
            data: payload.to_vec(),
            ..self.clone()
        };
        Some((Guid(*dest), inner))
    }

    /// The Level I view of this event: itself for class < 512, unwrapped for 512–1023.
    #[must_use]
    pub fn as_level1(&self) -> Option<std::borrow::Cow<'_, Event>> {
        if self.is_level1() {
            Some(std::borrow::Cow::Borrowed(self))
        } else {
            self.level1_from_level2()
                .map(|(_, e)| std::borrow::Cow::Owned(e))
        }
    }

    /// Appends the canonical line (decimal numbers, `-` for a zero GUID, no CRLF) to `out`.
    pub fn write_to(&self, out: &mut String) {
        self.write_with(out, TimeForm::AsHeld);
    }

    /// Reads a line a server sent: like [`str::parse`], but an unreadable head, obid,
    /// datetime or timestamp does not lose the event. Such a field reads as 0 (the time as
    /// unknown, or from the timestamp when that holds an absolute time) and its text is kept
    /// in [`Event::unread`]. Only unreadable class, type, GUID or data refuse the line.
    /// The event keeps `line` itself in [`Event::line`].
    pub fn read_received(line: &str) -> Result<Event, EventParseError> {
        let mut event = read(line, Keep::AllButIdentity)?;
        event.line = SourceLine(Some(line.into()));
        Ok(event)
    }

    /// Reads the argument of a `SEND`: an unreadable datetime or timestamp is kept in
    /// [`Event::unread`] with the time unknown (the server stamps it); other fields refuse.
    pub(crate) fn read_sent(line: &str) -> Result<Event, EventParseError> {
        read(line, Keep::Time)
    }

    /// The kept text of an unreadable field.
    #[must_use]
    pub fn unread(&self, field: Field) -> Option<&Unread> {
        self.unread.iter().find(|u| u.field == field)
    }

    /// Appends the line with a known time written in `form`. An event whose datetime could
    /// not be read (and no other time was known) gets the server's text back.
    pub fn write_with(&self, out: &mut String, form: TimeForm) {
        out.reserve(64 + 4 * self.data.len());
        let mut w = AsciiWriter::new(out);
        w.u64(u64::from(self.head));
        w.comma_u64(u64::from(self.class));
        w.comma_u64(u64::from(self.kind));
        w.comma_u64(u64::from(self.obid));
        w.byte(b',');
        let counter = match self.stamp {
            Stamp::DateTime { counter_us, .. } => counter_us,
            _ => None,
        };
        match (self.stamp, form) {
            (Stamp::Unknown, _) => {
                if let Some(raw) = self.unread(Field::DateTime) {
                    w.string().push_str(&raw.text);
                }
                w.byte(b',');
            }
            (Stamp::Unix(ns), TimeForm::AsHeld)
            | (Stamp::Unix(ns) | Stamp::DateTime { ns, .. }, TimeForm::UnixNs) => w.comma_u64(ns),
            (Stamp::Unix(ns) | Stamp::DateTime { ns, .. }, form) => {
                datetime::write_ns_form(w.string(), ns, form != TimeForm::DateTimeLegacy);
                w.byte(b',');
                if let Some(us) = counter {
                    w.u64(u64::from(us));
                }
            }
        }
        w.byte(b',');
        if self.guid.is_zero() {
            w.byte(b'-');
        } else {
            w.guid(&self.guid);
        }
        w.comma_bytes(&self.data);
    }
}

impl FromStr for Event {
    type Err = EventParseError;

    fn from_str(line: &str) -> Result<Self, Self::Err> {
        read(line, Keep::Nothing)
    }
}

/// The common shape in one pass; anything else (and every error) by the general reader.
fn read(line: &str, keep: Keep) -> Result<Event, EventParseError> {
    match fast::parse(line.as_bytes()) {
        Some(event) => Ok(event),
        None => parse_general(line, keep),
    }
}

/// Why a six-field line (no datetime field) is marked.
const MISSING_DATETIME: &str = "missing: the server wrote six fields before the data, \
     not seven (no datetime field, as vscpd 16 does); the time is read from its ns timestamp";

/// An absolute time in ns is at least this (1973); a legacy µs counter is at most `u32::MAX`.
const PLAUSIBLE_UNIX_NS: u64 = 100_000_000_000_000_000;

/// Reads every form of event line the reference allows, and explains what is wrong.
/// Fields that `keep` allows to be unreadable are kept in `unread` instead. A line that
/// reads as vscpd 16's six-field form (no datetime field) is read so; when that reading
/// fails it is read as the reference's seven fields.
fn parse_general(line: &str, keep: Keep) -> Result<Event, EventParseError> {
    // one scan for the (up to) seven commas that end the header fields
    let mut cuts = [0usize; 7];
    let mut found = 0;
    for (i, c) in line.bytes().enumerate() {
        if c == b',' {
            if let Some(slot) = cuts.get_mut(found) {
                *slot = i;
            }
            found += 1;
            if found == cuts.len() {
                break;
            }
        }
    }
    let fields = Fields { line, cuts, found };
    if keep != Keep::Nothing
        && fields.six_field_form()
        && let Ok(event) = fields.read(keep, true)
    {
        return Ok(event);
    }
    if found < 6 {
        return Err(EventParseError::TooFewFields { got: found + 1 });
    }
    fields.read(keep, false)
}

/// A line cut at the commas of its header fields.
struct Fields<'a> {
    line: &'a str,
    cuts: [usize; 7],
    found: usize,
}

impl<'a> Fields<'a> {
    /// Field `k` (0-based); the last one found runs to the end of the line.
    fn get(&self, k: usize) -> &'a str {
        let start = if k == 0 {
            0
        } else {
            self.cuts.get(k - 1).map_or(0, |c| c + 1)
        };
        let end = if k < self.found {
            self.cuts.get(k).copied().unwrap_or(self.line.len())
        } else {
            self.line.len()
        };
        self.line.get(start..end).unwrap_or_default()
    }

    /// The text after comma `k` (0-based), when there is one.
    fn after(&self, k: usize) -> Option<&'a str> {
        (self.found > k).then(|| {
            let cut = self.cuts.get(k).map_or(self.line.len(), |c| c + 1);
            self.line.get(cut..).unwrap_or_default()
        })
    }

    /// vscpd 16's form: field 5 all digits or empty (its ns timestamp), field 6 a GUID. In
    /// the reference's form field 5 is a date-time or empty, field 6 a number or empty.
    fn six_field_form(&self) -> bool {
        let (stamp, guid) = (self.get(4).trim_ascii(), self.get(5));
        self.found >= 5
            && stamp.bytes().all(|c| c.is_ascii_digit())
            && !guid.trim_ascii().is_empty()
            && Guid::parse_event_field(guid).is_ok()
    }

    /// Reads the fields as seven before the data, or as six (no datetime field).
    fn read(&self, keep: Keep, six: bool) -> Result<Event, EventParseError> {
        let field = |k| self.get(k);
        let (head, class, kind, obid) = (field(0), field(1), field(2), field(3));
        let mut unread = Vec::new();
        let (dt, ts, guid, rest) = if six {
            unread.push(Unread {
                field: Field::DateTime,
                text: String::new(),
                why: MISSING_DATETIME,
            });
            ("", field(4), field(5), self.after(5))
        } else {
            (field(4), field(5), field(6), self.after(6))
        };
        let mut kept =
            |r: Result<u64, EventParseError>, field: Field, text: &str, why: &'static str| {
                let allowed = match field {
                    Field::Head | Field::Obid => keep == Keep::AllButIdentity,
                    _ => keep != Keep::Nothing,
                };
                match r {
                    Err(_) if allowed && unread.len() < 4 => {
                        unread.push(Unread {
                            field,
                            text: text.to_string(),
                            why,
                        });
                        Ok(None)
                    }
                    Err(e) => Err(e),
                    Ok(v) => Ok(Some(v)),
                }
            };
        let head = kept(
            num::<u16>(head, Field::Head).map(u64::from),
            Field::Head,
            head,
            "not a number 0–65535",
        )?
        .unwrap_or(0) as u16;
        let class = num(class, Field::Class)?;
        let kind = num(kind, Field::Type)?;
        let obid = if obid.trim_ascii().is_empty() {
            0
        } else {
            kept(
                num::<u32>(obid, Field::Obid).map(u64::from),
                Field::Obid,
                obid,
                "not a number 0–4294967295",
            )?
            .unwrap_or(0) as u32
        };
        let ts = ts.trim_ascii();
        let stamp = if dt.trim_ascii().is_empty() {
            if ts.is_empty() {
                Stamp::Unknown
            } else {
                kept(
                    num(ts, Field::Timestamp),
                    Field::Timestamp,
                    ts,
                    "not a number of ns",
                )?
                .map_or(Stamp::Unknown, Stamp::Unix)
            }
        } else {
            match datetime::read_ns(dt) {
                Ok(ns) => {
                    let counter = if ts.is_empty() {
                        None
                    } else {
                        kept(
                            num::<u32>(ts, Field::Timestamp)
                                .map(u64::from)
                                .map_err(|_| EventParseError::BadTimestamp(ts.to_string())),
                            Field::Timestamp,
                            ts,
                            "not a µs counter 0–4294967295",
                        )?
                    };
                    Stamp::DateTime {
                        ns,
                        counter_us: counter.map(|c| c as u32),
                    }
                }
                Err(why) => {
                    kept(
                        Err(EventParseError::BadTimestamp(dt.to_string())),
                        Field::DateTime,
                        dt,
                        why,
                    )?;
                    // the timestamp field tells the time when it holds an absolute one
                    match number::parse::<u64>(ts) {
                        Ok(ns) if ns >= PLAUSIBLE_UNIX_NS => Stamp::Unix(ns),
                        _ => Stamp::Unknown,
                    }
                }
            }
        };
        let guid = Guid::parse_event_field(guid).map_err(|e| match e {
            GuidFieldError::Ambiguous => EventParseError::AmbiguousGuid,
            GuidFieldError::Bad(g) => EventParseError::BadGuid(g),
        })?;
        let data = match rest {
            Some(rest) => parse_data(rest)?,
            None => Vec::new(),
        };
        Ok(Event {
            head,
            class,
            kind,
            obid,
            stamp,
            guid,
            data,
            unread,
            line: SourceLine::default(),
        })
    }
}

/// Reads comma-separated data bytes (the part of an event line after the GUID) in one
/// pass: plain decimals inline, anything else (hex, binary, blanks, errors) through the
/// general number reader. At most [`MAX_DATA`] bytes.
pub fn parse_data(rest: &str) -> Result<Vec<u8>, EventParseError> {
    let bytes = rest.as_bytes();
    let mut data = Vec::with_capacity(MAX_DATA_LEVEL1.max(bytes.len() / 3).min(MAX_DATA));
    let mut i = 0;
    loop {
        if data.len() >= MAX_DATA {
            return Err(EventParseError::TooMuchData);
        }
        let start = i;
        let mut v: u32 = 0;
        while let Some(d) = bytes.get(i).filter(|c| c.is_ascii_digit() && i - start < 3) {
            v = v * 10 + u32::from(d - b'0');
            i += 1;
        }
        let at_end = bytes.get(i).is_none_or(|c| *c == b',');
        match u8::try_from(v) {
            Ok(b) if at_end && i > start => data.push(b),
            _ => {
                let end = bytes
                    .get(start..)
                    .and_then(|t| t.iter().position(|c| *c == b','))
                    .map_or(bytes.len(), |p| start + p);
                let token = rest.get(start..end).unwrap_or_default();
                data.push(num(token, Field::Data(data.len()))?);
                i = end;
            }
        }
        if i >= bytes.len() {
            return Ok(data);
        }
        i += 1; // the comma
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::with_capacity(64 + 4 * self.data.len());
        self.write_to(&mut s);
        f.write_str(&s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn level1_wrapping_round_trips() {
        let ev: Event = "0,20,3,,,,-,0,1,35".parse().unwrap();
        let iface: Guid = "FF:FF:FF:FF:FF:FF:FF:F5:00:04:00:00:00:00:00:00"
            .parse()
            .unwrap();
        let wrapped = ev.level1_over_level2(iface, 1);
        assert_eq!(wrapped.class, 532);
        assert_eq!(wrapped.data.len(), 19);
        let (dest, inner) = wrapped.level1_from_level2().unwrap();
        assert_eq!(dest.nickname(), 1);
        assert_eq!(inner, ev);
        assert_eq!(wrapped.as_level1().unwrap().into_owned(), ev);
    }

    #[test]
    fn priority_bits() {
        let mut ev = Event::new(20, 3);
        ev.head = 0x100;
        ev.set_priority(3);
        assert_eq!((ev.head, ev.priority()), (0x160, 3));
    }

    /// Lines made of the tokens both readers meet: valid, odd and wrong ones.
    #[cfg(not(target_arch = "wasm32"))]
    fn near_event_line() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let number = prop_oneof![
            1 => any::<u64>().prop_map(|v| v.to_string()),
            60 => (0u32..70_000).prop_map(|v| v.to_string()),
            1 => (0u32..300).prop_map(|v| format!("0{v}")),
            1 => (0u32..300).prop_map(|v| format!("0x{v:X}")),
            1 => Just(String::new()),
            1 => Just(" 7".to_string()),
            1 => Just("0b101".to_string()),
            1 => Just("99999999999999999999".to_string()),
            1 => Just("x".to_string()),
        ];
        let guid = prop_oneof![
            4 => any::<[u8; 16]>().prop_map(|g| Guid(g).to_string()),
            1 => any::<[u8; 16]>().prop_map(|g| Guid(g).to_string().to_lowercase()),
            2 => Just("-".to_string()),
            1 => Just(String::new()),
            1 => Just("{::1}".to_string()),
            1 => Just("::1".to_string()),
            1 => Just("FF:FF".to_string()),
        ];
        let good_data = prop_oneof![
            (0u32..256).prop_map(|v| v.to_string()),
            (0u32..256).prop_map(|v| format!("0x{v:02X}")),
            (0u32..16).prop_map(|v| format!("0X{v:x}")),
        ];
        let odd_data = prop_oneof![
            (256u32..10_000).prop_map(|v| v.to_string()),
            (256u32..300).prop_map(|v| format!("0x{v:X}")),
            Just(String::new()),
            Just("0x".to_string()),
            Just(" 1".to_string()),
            Just("0b11".to_string()),
            Just("007".to_string()),
            Just("1x".to_string()),
            Just("0xg".to_string()),
        ];
        // good bytes, sometimes with one odd token somewhere among them
        let data = (
            prop_oneof![
                proptest::collection::vec(good_data.clone(), 0..12),
                proptest::collection::vec(good_data, 500..520),
            ],
            proptest::option::of((odd_data, any::<prop::sample::Index>())),
        )
            .prop_map(|(mut data, odd)| {
                if let Some((token, at)) = odd {
                    let at = at.index(data.len() + 1);
                    data.insert(at, token);
                }
                data
            });
        (
            proptest::collection::vec(number, 6),
            prop_oneof![4 => Just(String::new()), 1 => Just("2026-11-25T14:54:29".to_string())],
            guid,
            data,
        )
            .prop_map(|(n, dt, guid, data)| {
                let mut line = format!("{},{},{},{},{dt},{},{guid}", n[0], n[1], n[2], n[3], n[4]);
                for d in data {
                    line.push(',');
                    line.push_str(&d);
                }
                line
            })
    }

    #[cfg(not(target_arch = "wasm32"))]
    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(1000))]
        /// The one-pass reader never accepts what the general reader refuses, nor reads
        /// anything differently.
        #[test]
        fn fast_reader_agrees_with_general_reader(line in near_event_line()) {
            if let Some(fast) = fast::parse(line.as_bytes()) {
                proptest::prop_assert_eq!(Ok(fast), parse_general(&line, Keep::Nothing));
            }
        }
    }

    #[test]
    fn legacy_stamp_is_written_back_in_utc() {
        // read with or without the `Z`; always written with it (vscpd's form)
        let line = "0,20,3,0,2026-11-25T14:54:29,16821259,-,15";
        let ev = line.parse::<Event>().unwrap();
        assert_eq!(
            ev.to_string(),
            "0,20,3,0,2026-11-25T14:54:29Z,16821259,-,15"
        );
        assert_eq!(ev.to_string().parse::<Event>(), Ok(ev));
    }
}
