//! The other written forms of an event, beside the link protocol's line: VSCP's JSON form,
//! its XML form (one `<event …/>` element), and MQTT topics
//! `{prefix}/{guid}/{class}/{type}/{nickname}[/{sensor-index}/{zone}/{subzone}]`.
//!
//! Two sets of keys are in use: the 2026 form of vscpd and the VSCP helper code (`head`,
//! `obid`, `datetime`, `timestamp`, `timestamp_ns` as a hex string, `class`, `type`, `guid`,
//! `data`, `note`), written by default, and the legacy form (`vscpHead`, `vscpObId`,
//! `vscpDateTime`, `vscpTimeStamp`, `vscpClass`, `vscpType`, `vscpGuid`, `vscpData`,
//! `vscpNote`). Readers take either, and "minimised" events (class, type and data only, the
//! GUID from the topic). A numeric measurement also gets a decoded `measurement` block.
//!
//! Time: the datetime carries the time (UTC, with its fraction); `timestamp` the legacy
//! microsecond counter (0 when there is none), `timestamp_ns` the time in ns. So an event read
//! back from either form equals the original, except that a legacy stamp without a counter
//! reads back as [`Stamp::Unix`] with the same time. A datetime that cannot be read does not
//! lose the event: it is kept in [`Event::unread`], as with event lines.

use std::fmt::Write;

use crate::{
    datetime,
    event::{Event, Field, MAX_DATA, Stamp, Unread},
    guid::Guid,
    measurement::{Measurement, Value},
};

/// Why a JSON or XML event or a topic was not read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FormError {
    /// Not JSON / XML of an event.
    #[error("not an event: {0}")]
    Syntax(String),
    /// A field is missing or has the wrong type or range.
    #[error("field {0}: {1}")]
    Field(&'static str, String),
}

fn field(name: &'static str, why: impl Into<String>) -> FormError {
    FormError::Field(name, why.into())
}

/// Which key names an event is written with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Keys {
    /// The 2026 keys: `head`, `obid`, `datetime`, `timestamp`, `timestamp_ns`, `class`, …
    #[default]
    Current,
    /// The legacy keys: `vscpHead`, `vscpObId`, `vscpDateTime`, … (for older subscribers).
    Legacy,
}

/// (current key, legacy key) of each field.
const HEAD: (&str, &str) = ("head", "vscpHead");
const OBID: (&str, &str) = ("obid", "vscpObId");
const DATETIME: (&str, &str) = ("datetime", "vscpDateTime");
const TIMESTAMP: (&str, &str) = ("timestamp", "vscpTimeStamp");
const CLASS: (&str, &str) = ("class", "vscpClass");
const TYPE: (&str, &str) = ("type", "vscpType");
const GUID: (&str, &str) = ("guid", "vscpGuid");
const DATA: (&str, &str) = ("data", "vscpData");
const SIZE: (&str, &str) = ("sizedata", "vscpSizeData");
/// The time in ns as a hex string (current form only).
const TIMESTAMP_NS: &str = "timestamp_ns";
/// The time in ns as pyvscp writes it (read only).
const TIMESTAMP_NS_PYVSCP: &str = "vscpTimestampns";

impl Keys {
    fn of(self, k: (&'static str, &'static str)) -> &'static str {
        match self {
            Keys::Current => k.0,
            Keys::Legacy => k.1,
        }
    }
}

fn stamp_fields(e: &Event) -> (String, u32, Option<u64>) {
    match e.stamp {
        Stamp::Unknown => (
            e.unread(Field::DateTime)
                .map(|u| u.text.clone())
                .unwrap_or_default(),
            0,
            None,
        ),
        Stamp::Unix(ns) => (datetime::utc_string(ns), 0, Some(ns)),
        Stamp::DateTime { ns, counter_us } => {
            (datetime::utc_string(ns), counter_us.unwrap_or(0), Some(ns))
        }
    }
}

/// The event in VSCP's JSON form with the 2026 keys (see [`to_json_with`]).
#[must_use]
pub fn to_json(e: &Event) -> serde_json::Value {
    to_json_with(e, Keys::Current)
}

/// The event in VSCP's JSON form with these keys (and a `measurement` block when it is a
/// numeric measurement).
#[must_use]
pub fn to_json_with(e: &Event, keys: Keys) -> serde_json::Value {
    let (dt, ts, ns) = stamp_fields(e);
    let mut obj = serde_json::Map::new();
    let mut put = |k, v: serde_json::Value| {
        obj.insert(keys.of(k).to_string(), v);
    };
    put(HEAD, e.head.into());
    put(OBID, e.obid.into());
    put(DATETIME, dt.into());
    put(TIMESTAMP, ts.into());
    put(CLASS, e.class.into());
    put(TYPE, e.kind.into());
    put(GUID, e.guid.to_string().into());
    put(DATA, e.data.clone().into());
    if let (Keys::Current, Some(ns)) = (keys, ns) {
        obj.insert(TIMESTAMP_NS.into(), format!("0x{ns:x}").into());
    }
    if let Ok(m) = Measurement::from_event(e)
        && let Value::Number(x) = m.value
    {
        let (zone, subzone) = m.zone.unwrap_or((0, 0));
        obj.insert(
            "measurement".into(),
            serde_json::json!({
                "value": x,
                "unit": m.unit,
                "symbol": m.unit_symbol().unwrap_or_default(),
                "sensorindex": m.sensor,
                "zone": zone,
                "subzone": subzone,
            }),
        );
    }
    serde_json::Value::Object(obj)
}

/// Reads an event in VSCP's JSON form, current or legacy keys (see [`from_json_with_guid`]).
pub fn from_json(text: &str) -> Result<Event, FormError> {
    from_json_with_guid(text, None)
}

/// Reads an event in VSCP's JSON form with either set of keys: data as an array or a comma
/// list, numbers or numeric strings (`0x` hex too); the `measurement` block, if any, is
/// ignored. A minimised event (no GUID) takes `guid` (from its MQTT topic), else all zeros.
pub fn from_json_with_guid(text: &str, guid: Option<Guid>) -> Result<Event, FormError> {
    let v: serde_json::Value =
        serde_json::from_str(text).map_err(|e| FormError::Syntax(e.to_string()))?;
    let obj = v
        .as_object()
        .ok_or_else(|| FormError::Syntax("not a JSON object".into()))?;
    from_map(obj, guid)
}

/// A decimal, `0x` hex or `0b` binary number.
fn unsigned(text: &str) -> Option<u64> {
    crate::number::parse(text.trim()).ok()
}

fn from_map(
    obj: &serde_json::Map<String, serde_json::Value>,
    topic_guid: Option<Guid>,
) -> Result<Event, FormError> {
    use serde_json::Value as J;
    let get = |k: (&'static str, &'static str)| {
        obj.get(k.0)
            .or_else(|| obj.get(k.1))
            .filter(|v| !v.is_null())
    };
    let num =
        |k: (&'static str, &'static str), max: u64, required: bool| -> Result<u64, FormError> {
            let n = match get(k) {
                None if !required => return Ok(0),
                None => return Err(field(k.0, "missing")),
                Some(J::Number(n)) => n.as_u64(),
                Some(J::String(s)) => unsigned(s),
                Some(_) => None,
            };
            n.filter(|n| *n <= max)
                .ok_or_else(|| field(k.0, format!("not a number 0–{max}")))
        };
    let data = match get(DATA) {
        None => Vec::new(),
        Some(J::Array(items)) => items
            .iter()
            .map(|b| match b {
                J::String(s) => unsigned(s),
                b => b.as_u64(),
            })
            .map(|b| b.and_then(|b| u8::try_from(b).ok()))
            .collect::<Option<Vec<u8>>>()
            .ok_or_else(|| field("data", "bytes 0–255"))?,
        Some(J::String(s)) => s
            .split(',')
            .filter(|x| !x.trim().is_empty())
            .map(|b| unsigned(b).and_then(|b| u8::try_from(b).ok()))
            .collect::<Option<Vec<u8>>>()
            .ok_or_else(|| field("data", "bytes 0–255"))?,
        Some(_) => return Err(field("data", "an array of bytes")),
    };
    if data.len() > MAX_DATA {
        return Err(field("data", format!("more than {MAX_DATA} bytes")));
    }
    let guid = match get(GUID).and_then(|g| g.as_str()) {
        None | Some("" | "-") => topic_guid.unwrap_or(Guid::ZERO),
        Some(g) => g.parse().map_err(|e| field("guid", format!("{e}")))?,
    };
    let mut unread = Vec::new();
    let dt = get(DATETIME)
        .and_then(|d| d.as_str())
        .unwrap_or_default()
        .trim();
    let counter = num(TIMESTAMP, u64::from(u32::MAX), false).unwrap_or(0) as u32;
    // `timestamp_ns` is a hex string; pyvscp (0.3.14) writes `vscpTimestampns`, a number
    let ns = |key, radix| {
        obj.get(key).and_then(|v| match v {
            J::String(s) => {
                let s = s.trim();
                match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
                    Some(hex) => u64::from_str_radix(hex, 16).ok(),
                    None => u64::from_str_radix(s, radix).ok(),
                }
            }
            J::Number(n) => n.as_u64(),
            _ => None,
        })
    };
    let ns_field = ns(TIMESTAMP_NS, 16).or_else(|| ns(TIMESTAMP_NS_PYVSCP, 10));
    let stamp = match (dt, datetime::read_ns(dt)) {
        ("", _) => ns_field.map_or(Stamp::Unknown, Stamp::Unix),
        (_, Ok(ns)) if counter == 0 => Stamp::Unix(ns),
        (_, Ok(ns)) => Stamp::DateTime {
            ns,
            counter_us: Some(counter),
        },
        (_, Err(why)) => {
            unread.push(Unread {
                field: Field::DateTime,
                text: dt.to_string(),
                why,
            });
            ns_field.map_or(Stamp::Unknown, Stamp::Unix)
        }
    };
    Ok(Event {
        head: num(HEAD, u64::from(u16::MAX), false)? as u16,
        class: num(CLASS, u64::from(u16::MAX), true)? as u16,
        kind: num(TYPE, u64::from(u16::MAX), true)? as u16,
        obid: num(OBID, u64::from(u32::MAX), false)? as u32,
        stamp,
        guid,
        data,
        unread,
        line: crate::event::SourceLine::default(),
    })
}

/// The event in VSCP's XML form with the 2026 keys: one `<event … />` element.
#[must_use]
pub fn to_xml(e: &Event) -> String {
    to_xml_with(e, Keys::Current)
}

/// The event in VSCP's XML form with these keys.
#[must_use]
pub fn to_xml_with(e: &Event, keys: Keys) -> String {
    let (dt, ts, _) = stamp_fields(e);
    let data: Vec<String> = e.data.iter().map(u8::to_string).collect();
    let mut s = String::with_capacity(200 + 4 * e.data.len());
    let k = |f| keys.of(f);
    let dt = dt
        .replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;");
    let _ = write!(
        s,
        "<event {}=\"{}\" {}=\"{}\" {}=\"{dt}\" {}=\"{ts}\" {}=\"{}\" {}=\"{}\" {}=\"{}\" \
         {}=\"{}\" {}=\"{}\" />",
        k(HEAD),
        e.head,
        k(OBID),
        e.obid,
        k(DATETIME),
        k(TIMESTAMP),
        k(CLASS),
        e.class,
        k(TYPE),
        e.kind,
        k(GUID),
        e.guid,
        k(SIZE),
        e.data.len(),
        k(DATA),
        data.join(",")
    );
    s
}

/// Reads an event in VSCP's XML form (the first `event` element), either set of keys.
pub fn from_xml(text: &str) -> Result<Event, FormError> {
    from_xml_with_guid(text, None)
}

/// [`from_xml`] with the GUID of a minimised event taken from its topic.
pub fn from_xml_with_guid(text: &str, guid: Option<Guid>) -> Result<Event, FormError> {
    use quick_xml::events::Event as Xml;
    let mut reader = quick_xml::Reader::from_str(text);
    loop {
        match reader
            .read_event()
            .map_err(|e| FormError::Syntax(e.to_string()))?
        {
            Xml::Start(el) | Xml::Empty(el) if el.local_name().as_ref() == b"event" => {
                let mut map = serde_json::Map::new();
                for a in el.attributes() {
                    let a = a.map_err(|e| FormError::Syntax(e.to_string()))?;
                    let key = String::from_utf8_lossy(a.key.local_name().as_ref()).into_owned();
                    let value = a
                        .unescape_value()
                        .map_err(|e| FormError::Syntax(e.to_string()))?;
                    map.insert(key, serde_json::Value::String(value.into_owned()));
                }
                return from_map(&map, guid);
            }
            Xml::Eof => return Err(FormError::Syntax("no event element".into())),
            _ => {}
        }
    }
}

/// Reads an MQTT payload in whichever form it has, as the spec tells them apart: the first
/// non-blank character `{` is JSON, `<` is XML, anything else an event line. `guid` (from
/// the topic) fills in a minimised event's missing GUID.
pub fn from_payload(payload: &str, guid: Option<Guid>) -> Result<Event, FormError> {
    let t = payload.trim_start();
    match t.as_bytes().first() {
        Some(b'{') => from_json_with_guid(t, guid),
        Some(b'<') => from_xml_with_guid(t, guid),
        _ => {
            let mut e =
                Event::read_received(t.trim_end()).map_err(|e| FormError::Syntax(e.to_string()))?;
            if let (true, Some(g)) = (e.guid.is_zero(), guid) {
                e.guid = g;
            }
            Ok(e)
        }
    }
}

/// The MQTT topic of an event: `{prefix}/{guid}/{class}/{type}/{nickname}`.
#[must_use]
pub fn topic(prefix: &str, e: &Event) -> String {
    format!(
        "{}/{}/{}/{}/{}",
        prefix.trim_end_matches('/'),
        e.guid,
        e.class,
        e.kind,
        e.guid.nickname()
    )
}

/// What a topic names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TopicParts {
    /// Origin GUID.
    pub guid: Guid,
    /// Class.
    pub class: u16,
    /// Type.
    pub kind: u16,
    /// Nickname.
    pub nickname: u8,
    /// The optional `/{sensor-index}/{zone}/{subzone}` suffix.
    pub place: Option<(u8, u8, u8)>,
}

/// Reads a topic made by [`topic`] with the same prefix.
pub fn parse_topic(prefix: &str, topic: &str) -> Result<TopicParts, FormError> {
    let rest = topic
        .strip_prefix(prefix.trim_end_matches('/'))
        .and_then(|r| r.strip_prefix('/'))
        .ok_or_else(|| field("topic", format!("does not start with {prefix:?}")))?;
    let parts: Vec<&str> = rest.splitn(8, '/').collect();
    let (guid, class, kind, nickname, place) = match parts.as_slice() {
        [g, c, k, n] => (g, c, k, n, None),
        [g, c, k, n, s, z, sz] => {
            let byte = |t: &str, what| t.parse::<u8>().map_err(|_| field("topic", what));
            (
                g,
                c,
                k,
                n,
                Some((
                    byte(s, "sensor index")?,
                    byte(z, "zone")?,
                    byte(sz, "subzone")?,
                )),
            )
        }
        _ => {
            return Err(field(
                "topic",
                "not guid/class/type/nickname[/sensor-index/zone/subzone]",
            ));
        }
    };
    Ok(TopicParts {
        place,
        guid: guid
            .parse()
            .map_err(|e| field("topic", format!("guid: {e}")))?,
        class: class.parse().map_err(|_| field("topic", "class"))?,
        kind: kind.parse().map_err(|_| field("topic", "type"))?,
        nickname: nickname.parse().map_err(|_| field("topic", "nickname"))?,
    })
}
