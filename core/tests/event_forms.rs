//! The JSON and XML forms of events and MQTT topics: every valid line of the event vectors
//! round-trips through both forms; VSCP's field names; the measurement block; errors.
#![cfg(not(target_arch = "wasm32"))]

use vscp_core::{
    Event, Field, Guid, Stamp,
    event_forms::{
        FormError, Keys, from_json, from_json_with_guid, from_payload, from_xml, parse_topic,
        to_json, to_json_with, to_xml, to_xml_with, topic,
    },
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
        for keys in [Keys::Current, Keys::Legacy] {
            let json = to_json_with(&e, keys).to_string();
            assert!(same(&e, &from_payload(&json, None).unwrap()), "{json}");
            let xml = to_xml_with(&e, keys);
            assert!(same(&e, &from_payload(&xml, None).unwrap()), "{xml}");
        }
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
    assert_eq!(j["head"], 96);
    assert_eq!(j["obid"], 7);
    assert_eq!(j["datetime"], "2026-12-02T10:35:14.500000000Z");
    assert_eq!(j["timestamp"], 0);
    assert_eq!(
        j["timestamp_ns"],
        format!("0x{:x}", e.stamp.unix_ns().unwrap())
    );
    assert_eq!(
        (j["class"].clone(), j["type"].clone()),
        (10.into(), 6.into())
    );
    assert_eq!(j["guid"], "FF:FF:FF:FF:FF:FF:FF:F5:00:01:00:00:00:00:00:01");
    assert_eq!(j["data"], serde_json::json!([168, 65, 172, 0, 0]));
    assert!(j.get("vscpHead").is_none());
    let j = to_json_with(&e, Keys::Legacy);
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
    assert!(to_xml(&e).starts_with("<event head=\"96\" obid=\"7\" datetime="));
    assert!(to_xml_with(&e, Keys::Legacy).starts_with(
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
fn the_2026_forms_minimised_events_and_payload_kinds() {
    let e = from_json(r#"{"head":0,"obid":"0x10","datetime":"2026-12-02T10:35:14Z","timestamp":0,"class":10,"type":6,"guid":"-","data":[168,"0x41",172,0,0],"note":"hall"}"#).unwrap();
    assert_eq!((e.obid, e.class, e.kind, e.data[1]), (16, 10, 6, 0x41));
    assert_eq!(e.stamp.unix_ns(), Some(1_796_207_714_000_000_000));
    // the ns timestamp as a hex string, no datetime
    let e = from_json(r#"{"class":20,"type":3,"timestamp_ns":"0x18812f9e2a5c6e00"}"#).unwrap();
    assert_eq!(e.stamp, Stamp::Unix(0x1881_2f9e_2a5c_6e00));
    // minimised: class, type and data; the GUID comes from the topic
    let g: Guid = "FF:FF:FF:FF:FF:FF:FF:F5:00:01:00:00:00:00:00:02"
        .parse()
        .unwrap();
    let m = from_json_with_guid(r#"{"class":20,"type":3,"data":[0,1,2]}"#, Some(g)).unwrap();
    assert_eq!(
        (m.class, m.kind, m.guid, m.stamp),
        (20, 3, g, Stamp::Unknown)
    );
    // a payload is JSON, XML or an event line by its first non-blank character
    for payload in [
        " {\"class\":20,\"type\":3,\"data\":[0,1,2]}",
        "\n<event class=\"20\" type=\"3\" data=\"0,1,2\"/>",
        "0,20,3,,,,-,0,1,2",
    ] {
        let e = from_payload(payload, Some(g)).unwrap();
        assert_eq!(
            (e.class, e.kind, e.guid, e.data.as_slice()),
            (20, 3, g, &[0, 1, 2][..]),
            "{payload}"
        );
    }
    assert!(from_payload("hello", None).is_err());
    // an unreadable datetime keeps the event, marked
    let e = from_json(r#"{"class":20,"type":3,"datetime":"2026-13-05T10:00:00Z"}"#).unwrap();
    assert_eq!(e.stamp, Stamp::Unknown);
    let u = e.unread(Field::DateTime).unwrap();
    assert_eq!(
        (u.text.as_str(), u.why),
        ("2026-13-05T10:00:00Z", "month is not 1–12")
    );
    // and is written back as the server wrote it
    assert_eq!(to_json(&e)["datetime"], "2026-13-05T10:00:00Z");
}

#[test]
fn bad_forms_are_errors() {
    for (text, what) in [
        ("", "syntax"),
        ("[]", "syntax"),
        (r#"{"vscpType":1}"#, "class"),
        (r#"{"vscpClass":70000,"vscpType":1}"#, "class"),
        (r#"{"class":70000,"type":1}"#, "class"),
        (r#"{"vscpClass":1,"vscpType":1,"vscpData":[256]}"#, "data"),
        (r#"{"vscpClass":1,"vscpType":1,"vscpData":{}}"#, "data"),
        (r#"{"vscpClass":1,"vscpType":1,"vscpGuid":"xx"}"#, "guid"),
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
    assert_eq!(p.place, None);
    let p = parse_topic("site/a", &format!("{t}/2/1/3")).unwrap();
    assert_eq!((p.nickname, p.place), (7, Some((2, 1, 3))));
    assert!(parse_topic("site/a", &format!("{t}/2/1")).is_err());
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

#[test]
fn payload_vectors() {
    let path = format!(
        "{}/tests/vectors/event_forms.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    for case in v["cases"].as_array().unwrap() {
        let id = &case["id"];
        let topic_guid = case["topic_guid"]
            .as_str()
            .map(|g| g.parse::<Guid>().unwrap());
        let e = from_payload(case["payload"].as_str().unwrap(), topic_guid)
            .unwrap_or_else(|err| panic!("{id}: {err}"));
        let want = &case["expect"];
        assert_eq!(u64::from(e.head), want["head"].as_u64().unwrap(), "{id}");
        assert_eq!(u64::from(e.obid), want["obid"].as_u64().unwrap(), "{id}");
        assert_eq!(u64::from(e.class), want["class"].as_u64().unwrap(), "{id}");
        assert_eq!(u64::from(e.kind), want["type"].as_u64().unwrap(), "{id}");
        assert_eq!(e.guid.to_string(), want["guid"].as_str().unwrap(), "{id}");
        let data: Vec<u8> = want["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b.as_u64().unwrap() as u8)
            .collect();
        assert_eq!(e.data, data, "{id}");
        assert_eq!(
            e.stamp.unix_ns().map(|n| n.to_string()),
            want["timestamp_ns"].as_str().map(str::to_string),
            "{id}"
        );
        let unread: Vec<String> = e.unread.iter().map(|u| u.field.to_string()).collect();
        let want_unread: Vec<&str> = want["unread"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u.as_str().unwrap())
            .collect();
        assert_eq!(unread, want_unread, "{id}");
    }
}
