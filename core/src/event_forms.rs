//! The other written forms of an event, beside the link protocol's line: VSCP's JSON form
//! (`vscpHead`, `vscpObId`, `vscpDateTime`, … and, for measurements, a decoded `measurement`
//! block), its XML form (one `<event …/>` element), and MQTT topics
//! `{prefix}/{guid}/{class}/{type}/{nickname}`.
//!
//! Time: `vscpDateTime` carries the time (UTC, with its fraction); `vscpTimeStamp` the
//! legacy microsecond counter (0 when there is none). So an event read back from either form
//! equals the original, except that a legacy stamp without a counter reads back as
//! [`Stamp::Unix`] with the same time.

use std::fmt::Write;

use crate::{
    datetime,
    event::{Event, MAX_DATA, Stamp},
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

fn stamp_fields(stamp: Stamp) -> (String, u32) {
    match stamp {
        Stamp::Unknown => (String::new(), 0),
        Stamp::Unix(ns) => (datetime::utc_string(ns), 0),
        Stamp::DateTime { ns, counter_us } => (datetime::utc_string(ns), counter_us.unwrap_or(0)),
    }
}

fn stamp_from(datetime_text: &str, counter: u32) -> Result<Stamp, FormError> {
    let t = datetime_text.trim();
    if t.is_empty() {
        return Ok(Stamp::Unknown);
    }
    let ns = datetime::parse_ns(t).ok_or_else(|| field("vscpDateTime", format!("{t:?}")))?;
    Ok(if counter == 0 {
        Stamp::Unix(ns)
    } else {
        Stamp::DateTime {
            ns,
            counter_us: Some(counter),
        }
    })
}

/// The event in VSCP's JSON form (with a `measurement` block when it is a numeric measurement).
#[must_use]
pub fn to_json(e: &Event) -> serde_json::Value {
    let (dt, ts) = stamp_fields(e.stamp);
    let mut v = serde_json::json!({
        "vscpHead": e.head,
        "vscpObId": e.obid,
        "vscpDateTime": dt,
        "vscpTimeStamp": ts,
        "vscpClass": e.class,
        "vscpType": e.kind,
        "vscpGuid": e.guid.to_string(),
        "vscpData": e.data,
    });
    if let Ok(m) = Measurement::from_event(e)
        && let Value::Number(x) = m.value
        && let Some(obj) = v.as_object_mut()
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
    v
}

/// Reads an event in VSCP's JSON form (`vscpData` as an array or a comma list; numbers or
/// numeric strings; the `measurement` block, if any, is ignored).
pub fn from_json(text: &str) -> Result<Event, FormError> {
    let v: serde_json::Value =
        serde_json::from_str(text).map_err(|e| FormError::Syntax(e.to_string()))?;
    let obj = v
        .as_object()
        .ok_or_else(|| FormError::Syntax("not a JSON object".into()))?;
    let num = |name: &'static str, max: u64, required: bool| -> Result<u64, FormError> {
        let n = match obj.get(name) {
            None | Some(serde_json::Value::Null) if !required => return Ok(0),
            None | Some(serde_json::Value::Null) => return Err(field(name, "missing")),
            Some(serde_json::Value::Number(n)) => n.as_u64(),
            Some(serde_json::Value::String(s)) => s.trim().parse().ok(),
            Some(_) => None,
        };
        n.filter(|n| *n <= max)
            .ok_or_else(|| field(name, format!("not a number 0–{max}")))
    };
    let data = match obj.get("vscpData") {
        None | Some(serde_json::Value::Null) => Vec::new(),
        Some(serde_json::Value::Array(items)) => items
            .iter()
            .map(|b| b.as_u64().and_then(|b| u8::try_from(b).ok()))
            .collect::<Option<Vec<u8>>>()
            .ok_or_else(|| field("vscpData", "bytes 0–255"))?,
        Some(serde_json::Value::String(s)) => s
            .split(',')
            .filter(|x| !x.trim().is_empty())
            .map(|b| crate::mdf::number(b).and_then(|b| u8::try_from(b).ok()))
            .collect::<Option<Vec<u8>>>()
            .ok_or_else(|| field("vscpData", "bytes 0–255"))?,
        Some(_) => return Err(field("vscpData", "an array of bytes")),
    };
    if data.len() > MAX_DATA {
        return Err(field("vscpData", format!("more than {MAX_DATA} bytes")));
    }
    let guid = match obj.get("vscpGuid").and_then(|g| g.as_str()) {
        None | Some("" | "-") => Guid::ZERO,
        Some(g) => g.parse().map_err(|e| field("vscpGuid", format!("{e}")))?,
    };
    let dt = obj
        .get("vscpDateTime")
        .and_then(|d| d.as_str())
        .unwrap_or_default();
    Ok(Event {
        head: num("vscpHead", u64::from(u16::MAX), false)? as u16,
        class: num("vscpClass", u64::from(u16::MAX), true)? as u16,
        kind: num("vscpType", u64::from(u16::MAX), true)? as u16,
        obid: num("vscpObId", u64::from(u32::MAX), false)? as u32,
        stamp: stamp_from(dt, num("vscpTimeStamp", u64::from(u32::MAX), false)? as u32)?,
        guid,
        data,
    })
}

/// The event in VSCP's XML form: one `<event … />` element.
#[must_use]
pub fn to_xml(e: &Event) -> String {
    let (dt, ts) = stamp_fields(e.stamp);
    let data: Vec<String> = e.data.iter().map(u8::to_string).collect();
    let mut s = String::with_capacity(200 + 4 * e.data.len());
    let _ = write!(
        s,
        "<event vscpHead=\"{}\" vscpObId=\"{}\" vscpDateTime=\"{dt}\" vscpTimeStamp=\"{ts}\" \
         vscpClass=\"{}\" vscpType=\"{}\" vscpGuid=\"{}\" vscpSizeData=\"{}\" vscpData=\"{}\" />",
        e.head,
        e.obid,
        e.class,
        e.kind,
        e.guid,
        e.data.len(),
        data.join(",")
    );
    s
}

/// Reads an event in VSCP's XML form (the first `event` element).
pub fn from_xml(text: &str) -> Result<Event, FormError> {
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
                return from_json(&serde_json::Value::Object(map).to_string());
            }
            Xml::Eof => return Err(FormError::Syntax("no event element".into())),
            _ => {}
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
}

/// Reads a topic made by [`topic`] with the same prefix.
pub fn parse_topic(prefix: &str, topic: &str) -> Result<TopicParts, FormError> {
    let rest = topic
        .strip_prefix(prefix.trim_end_matches('/'))
        .and_then(|r| r.strip_prefix('/'))
        .ok_or_else(|| field("topic", format!("does not start with {prefix:?}")))?;
    let parts: Vec<&str> = rest.split('/').collect();
    let [guid, class, kind, nickname] = parts.as_slice() else {
        return Err(field("topic", "not guid/class/type/nickname"));
    };
    Ok(TopicParts {
        guid: guid
            .parse()
            .map_err(|e| field("topic", format!("guid: {e}")))?,
        class: class.parse().map_err(|_| field("topic", "class"))?,
        kind: kind.parse().map_err(|_| field("topic", "type"))?,
        nickname: nickname.parse().map_err(|_| field("topic", "nickname"))?,
    })
}
