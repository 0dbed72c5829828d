//! The JSON and XML forms of events and MQTT topics: every valid line of the event vectors
//! round-trips through both forms; VSCP's field names; the measurement block; errors.
#![cfg(not(target_arch = "wasm32"))]

use vscp_core::{
    Event, Guid, Stamp,
    event_forms::{FormError, from_json, from_xml, parse_topic, to_json, to_xml, topic},
};

/// The time survives; a legacy stamp without its counter reads back as a plain time.
fn same(a: &Event, b: &Event) -> bool {
    let norm = |s: Stamp| match s {
        Stamp::DateTime {
            ns,
            counter_us: None | Some(0),
        } => Stamp::Unix(ns),
        other => other,
    };
    Event {
        stamp: norm(a.stamp),
        ..a.clone()
    } == Event {
        stamp: norm(b.stamp),
        ..b.clone()
    }
}

#[test]
fn every_valid_vector_line_round_trips_through_json_and_xml() {
    let path = format!(
        "{}/tests/vectors/event_lines.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut n = 0;
    for case in v["parse"].as_array().unwrap() {
        let Ok(e) = case["input"].as_str().unwrap().parse::<Event>() else {
            continue;
        };
        let json = to_json(&e).to_string();
        let back = from_json(&json).unwrap_or_else(|err| panic!("{}: {err}: {json}", case["id"]));
        assert!(same(&e, &back), "{}: {json}", case["id"]);
        let xml = to_xml(&e);
        let back = from_xml(&xml).unwrap_or_else(|err| panic!("{}: {err}: {xml}", case["id"]));
        assert!(same(&e, &back), "{}: {xml}", case["id"]);
        n += 1;
    }
    assert!(n >= 15, "{n} lines");
}

#[test]
fn json_has_vscp_field_names_and_a_measurement_block() {
    let e: Event = "96,10,6,7,2026-12-02T10:35:14.5Z,,FF:FF:FF:FF:FF:FF:FF:F5:00:01:00:00:00:00:00:01,168,65,172,0,0"
        .parse()
        .unwrap();
    let j = to_json(&e);
    assert_eq!(j["vscpHead"], 96);
    assert_eq!(j["vscpObId"], 7);
    assert_eq!(j["vscpDateTime"], "2026-12-02T10:35:14.500000000Z");
    assert_eq!(j["vscpClass"], 10);
    assert_eq!(j["vscpType"], 6);
    assert_eq!(
        j["vscpGuid"],
        "FF:FF:FF:FF:FF:FF:FF:F5:00:01:00:00:00:00:00:01"
    );
    assert_eq!(j["vscpData"], serde_json::json!([168, 65, 172, 0, 0]));
    assert_eq!(j["measurement"]["value"], 21.5);
    assert_eq!(j["measurement"]["symbol"], "°C");
    assert_eq!(j["measurement"]["sensorindex"], 0);
    assert!(to_json(&Event::new(20, 3)).get("measurement").is_none());
    assert!(to_xml(&e).starts_with(
        "<event vscpHead=\"96\" vscpObId=\"7\" vscpDateTime=\"2026-12-02T10:35:14.500000000Z\""
    ));
}

#[test]
fn other_writers_forms_are_read() {
    let e = from_json(r#"{"vscpHead":"3","vscpClass":"20","vscpType":3,"vscpGuid":"-","vscpData":"1,0x02,3","vscpDateTime":"2026-12-02T10:35:14Z","vscpTimeStamp":1234}"#).unwrap();
    assert_eq!(
        (e.head, e.class, e.kind, e.data.as_slice()),
        (3, 20, 3, &[1, 2, 3][..])
    );
    assert!(matches!(
        e.stamp,
        Stamp::DateTime {
            counter_us: Some(1234),
            ..
        }
    ));
    assert!(e.guid.is_zero());
    let x = from_xml(r#"<?xml version="1.0"?><events><event vscpClass="30" vscpType="5" vscpData="0,1,3"/></events>"#).unwrap();
    assert_eq!((x.class, x.kind, x.data.len()), (30, 5, 3));
}

#[test]
fn bad_forms_are_errors() {
    for (text, what) in [
        ("", "syntax"),
        ("[]", "syntax"),
        (r#"{"vscpType":1}"#, "vscpClass"),
        (r#"{"vscpClass":70000,"vscpType":1}"#, "vscpClass"),
        (
            r#"{"vscpClass":1,"vscpType":1,"vscpData":[256]}"#,
            "vscpData",
        ),
        (r#"{"vscpClass":1,"vscpType":1,"vscpData":{}}"#, "vscpData"),
        (
            r#"{"vscpClass":1,"vscpType":1,"vscpGuid":"xx"}"#,
            "vscpGuid",
        ),
        (
            r#"{"vscpClass":1,"vscpType":1,"vscpDateTime":"yesterday"}"#,
            "vscpDateTime",
        ),
    ] {
        let err = from_json(text).expect_err(text);
        let ok = match &err {
            FormError::Syntax(_) => what == "syntax",
            FormError::Field(f, _) => *f == what,
        };
        assert!(ok, "{text}: {err}");
    }
    let big = format!(
        r#"{{"vscpClass":1,"vscpType":1,"vscpData":[{}]}}"#,
        vec!["1"; 513].join(",")
    );
    assert!(from_json(&big).is_err());
    assert!(from_xml("<nothing/>").is_err());
    assert!(from_xml("<event vscpClass=\"1\"").is_err());
}

#[test]
fn topics_name_guid_class_type_and_nickname() {
    let mut e = Event::new(10, 6);
    e.guid = Guid([0xFF; 16]).with_nickname(7);
    let t = topic("site/a/", &e);
    assert_eq!(
        t,
        "site/a/FF:FF:FF:FF:FF:FF:FF:FF:FF:FF:FF:FF:FF:FF:FF:07/10/6/7"
    );
    let p = parse_topic("site/a", &t).unwrap();
    assert_eq!((p.guid, p.class, p.kind, p.nickname), (e.guid, 10, 6, 7));
    assert!(parse_topic("vscp", &t).is_err());
    assert!(parse_topic("site/a", "site/a/x/10/6/7").is_err());
    assert!(
        parse_topic(
            "site/a",
            "site/a/FF:FF:FF:FF:FF:FF:FF:FF:FF:FF:FF:FF:FF:FF:FF:07/10/6"
        )
        .is_err()
    );
}
