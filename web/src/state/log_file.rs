//! The log as a file: CSV and JSON exports, and reading either back.

use vscp_core::{Event, Measurement, names};

use super::Row;
use crate::format::hex;

/// CSV of rows: time, priority, class, type, GUID, data, decoded, raw line.
#[must_use]
pub fn to_csv<'a>(rows: impl Iterator<Item = &'a Row>) -> String {
    let mut out = String::from(
        "seq,received_ms,priority,class,class_name,type,type_name,guid,data,decoded,line\n",
    );
    let q = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    for r in rows {
        let e = &r.event;
        out.push_str(&format!(
            "{},{},{},{},{},{},{},{},{},{},{}\n",
            r.seq,
            r.received_ms,
            e.priority(),
            e.class,
            q(&names::class_name(e.class).unwrap_or_default()),
            e.kind,
            q(names::type_name(e.class, e.kind).unwrap_or_default()),
            e.guid,
            q(&hex(&e.data)),
            q(r.decoded.as_deref().unwrap_or_default()),
            q(&r.line())
        ));
    }
    out
}

/// JSON of rows: `[{"seq":…,"received_ms":…,"line":"…","decoded":…}]`; reads back with [`from_json`].
#[must_use]
pub fn to_json<'a>(rows: impl Iterator<Item = &'a Row>) -> String {
    let items: Vec<serde_json::Value> = rows
        .map(|r| {
            serde_json::json!({
                "seq": r.seq,
                "received_ms": r.received_ms,
                "class": r.event.class,
                "type": r.event.kind,
                "guid": r.event.guid.to_string(),
                "data": r.event.data,
                "decoded": r.decoded,
                "line": r.line(),
            })
        })
        .collect();
    serde_json::Value::Array(items).to_string()
}

/// Reads a JSON export back into rows; bad entries are reported, good ones kept.
pub fn from_json(text: &str) -> Result<(Vec<Row>, usize), String> {
    let v: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("not a JSON log: {e}"))?;
    let items = v.as_array().ok_or("not a JSON log: expected an array")?;
    let mut rows = Vec::new();
    let mut bad = 0;
    for it in items {
        // the console's own rows carry the line; other tools' exports are VSCP JSON events
        // (the 2026 keys or the legacy `vscp…` ones)
        let event = match it.get("line").and_then(|l| l.as_str()) {
            Some(line) => Event::read_received(line).map_err(|e| e.to_string()),
            None => vscp_core::event_forms::from_json(&it.to_string()).map_err(|e| e.to_string()),
        };
        match event {
            Ok(event) => rows.push(Row {
                seq: it
                    .get("seq")
                    .and_then(serde_json::Value::as_u64)
                    .unwrap_or(0),
                received_ms: it
                    .get("received_ms")
                    .and_then(serde_json::Value::as_u64)
                    .unwrap_or(0),
                decoded: Measurement::from_event(&event).ok().map(|m| m.display()),
                event,
            }),
            Err(_) => bad += 1,
        }
    }
    Ok((rows, bad))
}

/// Reads either export back (JSON when it starts with `[`, else CSV).
pub fn from_text(text: &str) -> Result<(Vec<Row>, usize), String> {
    if text.trim_start().starts_with('[') {
        from_json(text)
    } else {
        from_csv(text)
    }
}

/// Reads a CSV export back into rows (by its header: `line`, and `seq`/`received_ms` when
/// there); bad rows are counted, good ones kept.
pub fn from_csv(text: &str) -> Result<(Vec<Row>, usize), String> {
    let mut records = csv_records(text);
    let header = records.next().unwrap_or_default();
    let column = |name: &str| header.iter().position(|h| h.trim() == name);
    let line = column("line").ok_or(
        "not a console log: a CSV export with a \"line\" column, or a JSON export, expected",
    )?;
    let (seq, received) = (column("seq"), column("received_ms"));
    let mut rows = Vec::new();
    let mut bad = 0;
    for record in records.filter(|r| r.iter().any(|f| !f.is_empty())) {
        let number = |i: Option<usize>| {
            i.and_then(|i| record.get(i))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0)
        };
        match record.get(line).map(|l| Event::read_received(l)) {
            Some(Ok(event)) => rows.push(Row {
                seq: number(seq),
                received_ms: number(received),
                decoded: Measurement::from_event(&event).ok().map(|m| m.display()),
                event,
            }),
            _ => bad += 1,
        }
    }
    Ok((rows, bad))
}

/// The records of a CSV text: fields split at commas, `"…"` quoting with `""` for a quote
/// (a quoted field may hold commas and line breaks).
fn csv_records(text: &str) -> impl Iterator<Item = Vec<String>> + '_ {
    let mut chars = text.chars().peekable();
    std::iter::from_fn(move || {
        chars.peek()?;
        let (mut record, mut field, mut quoted) = (Vec::new(), String::new(), false);
        while let Some(c) = chars.next() {
            match (c, quoted) {
                ('"', true) if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                ('"', _) => quoted = !quoted,
                (',', false) => record.push(std::mem::take(&mut field)),
                ('\n', false) => break,
                ('\r', false) => {}
                (c, _) => field.push(c),
            }
        }
        record.push(field);
        Some(record)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_round_trip_and_bad_entries() {
        let rows: Vec<Row> = ["0,10,6,1,,5,-,168,65,172,0,0", "0,20,3,2,,,-,0,1,2"]
            .iter()
            .enumerate()
            .map(|(i, l)| {
                let event: Event = l.parse().unwrap();
                Row {
                    seq: i as u64 + 1,
                    received_ms: 1_000 + i as u64,
                    decoded: Measurement::from_event(&event).ok().map(|m| m.display()),
                    event,
                }
            })
            .collect();
        let (back, bad) = from_json(&to_json(rows.iter())).unwrap();
        assert_eq!((back, bad), (rows.clone(), 0));
        let (back, bad) = from_json(r#"[{"line":"0,20,3,,,,-,1"},{"line":"nonsense"}]"#).unwrap();
        assert_eq!((back.len(), bad), (1, 1));
        // VSCP JSON events in either set of keys, and a line with an unreadable datetime
        let (back, bad) = from_json(
            r#"[{"class":20,"type":3,"data":[1]},{"vscpClass":20,"vscpType":4},{"line":"0,20,3,0,2026-13-01T00:00:00Z,,-,1"}]"#,
        )
        .unwrap();
        assert_eq!((back.len(), bad), (3, 0));
        assert_eq!(back[2].event.unread.len(), 1);
        let (back, bad) = from_json(r#"[{"line":"0,20,3,,,,-,1"},{"line":"nonsense"}]"#).unwrap();
        assert_eq!((back.len(), bad), (1, 1));
        assert!(from_json("{").is_err());
        assert!(to_csv(rows.iter()).contains("TEMPERATURE"));
        // the CSV export reads back as it was written
        let (back, bad) = from_text(&to_csv(rows.iter())).unwrap();
        assert_eq!((back, bad), (rows.clone(), 0));
        let (back, bad) =
            from_csv("line,x\r\n\"0,20,3,,,,-,1\",\"a \"\"b\"\"\"\r\nnonsense,1\r\n\r\n").unwrap();
        assert_eq!((back.len(), bad), (1, 1));
        assert!(from_text("time;class\n1;2").is_err());
    }
}
