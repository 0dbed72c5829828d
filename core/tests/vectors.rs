//! Replays every case of the shared test vectors (`tests/vectors/*.json`, copied from
//! `shared/vectors/`) against the core.

use serde_json::Value;
use vscp_core::measurement::{Coding, Value as MValue};
use vscp_core::registers::{Discovery, RegisterReply, Target, WhoIsThere, level2_read};
use vscp_core::*;

fn load(name: &str) -> Value {
    let path = format!("{}/tests/vectors/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn cases<'a>(v: &'a Value, key: &str) -> &'a Vec<Value> {
    v[key].as_array().unwrap_or_else(|| panic!("no {key}"))
}

fn guid(v: &Value) -> Guid {
    v.as_str().unwrap().parse().unwrap()
}

fn event_error_name(e: &EventParseError) -> &'static str {
    match e {
        EventParseError::TooFewFields { .. } => "TooFewFields",
        EventParseError::BadNumber { .. } => "BadNumber",
        EventParseError::ValueOutOfRange { .. } => "ValueOutOfRange",
        EventParseError::EmptyDataByte { .. } => "EmptyDataByte",
        EventParseError::TooMuchData => "TooMuchData",
        EventParseError::AmbiguousGuid => "AmbiguousGuid",
        EventParseError::BadGuid(_) => "BadGuid",
        EventParseError::BadTimestamp(_) => "BadTimestamp",
        _ => "other",
    }
}

fn check_event(id: &str, ev: &Event, want: &Value) {
    if let Some(h) = want.get("head") {
        assert_eq!(u64::from(ev.head), h.as_u64().unwrap(), "{id} head");
    }
    if let Some(c) = want.get("class") {
        assert_eq!(u64::from(ev.class), c.as_u64().unwrap(), "{id} class");
    }
    if let Some(t) = want.get("type") {
        assert_eq!(u64::from(ev.kind), t.as_u64().unwrap(), "{id} type");
    }
    if let Some(o) = want.get("obid") {
        assert_eq!(u64::from(ev.obid), o.as_u64().unwrap(), "{id} obid");
    }
    if let Some(ts) = want.get("timestamp_ns") {
        let got = ev.stamp.unix_ns().map(|n| n.to_string());
        assert_eq!(got.as_deref(), ts.as_str(), "{id} timestamp_ns");
    }
    if let Some(l) = want.get("legacy_us") {
        let got = match ev.stamp {
            Stamp::DateTime { counter_us, .. } => counter_us.map(u64::from),
            _ => None,
        };
        assert_eq!(got, l.as_u64(), "{id} legacy_us");
    }
    if let Some(g) = want.get("guid") {
        assert_eq!(ev.guid, guid(g), "{id} guid");
    }
    if let Some(d) = want.get("data") {
        let d: Vec<u8> = d
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b.as_u64().unwrap() as u8)
            .collect();
        assert_eq!(ev.data, d, "{id} data");
    }
}

fn event_from_json(e: &Value) -> Event {
    Event {
        head: e["head"].as_u64().unwrap_or(0) as u16,
        class: e["class"].as_u64().unwrap() as u16,
        kind: e["type"].as_u64().unwrap() as u16,
        obid: e["obid"].as_u64().unwrap_or(0) as u32,
        stamp: match e.get("timestamp_ns").and_then(Value::as_str) {
            Some(ns) => Stamp::Unix(ns.parse().unwrap()),
            None => Stamp::Unknown,
        },
        guid: guid(&e["guid"]),
        data: e
            .get("data")
            .and_then(Value::as_array)
            .map(|d| d.iter().map(|b| b.as_u64().unwrap() as u8).collect())
            .unwrap_or_default(),
        unread: Vec::new(),
        line: SourceLine::default(),
    }
}

#[test]
fn event_lines() {
    let v = load("event_lines.json");
    for c in cases(&v, "parse") {
        let id = c["id"].as_str().unwrap();
        let got = c["input"].as_str().unwrap().parse::<Event>();
        match (c.get("expect"), c.get("expect_error")) {
            (Some(want), _) => {
                let ev = got.unwrap_or_else(|e| panic!("{id}: {e}"));
                check_event(id, &ev, want);
                // what we write reads back the same
                assert_eq!(
                    ev.to_string().parse::<Event>().as_ref(),
                    Ok(&ev),
                    "{id} round trip"
                );
            }
            (None, Some(err)) => {
                let e = got
                    .err()
                    .unwrap_or_else(|| panic!("{id}: parsed, expected {err}"));
                assert_eq!(event_error_name(&e), err.as_str().unwrap(), "{id}: {e}");
            }
            _ => panic!("{id}: no expectation"),
        }
    }
    for c in cases(&v, "emit") {
        let ev = event_from_json(&c["event"]);
        assert_eq!(
            ev.to_string(),
            c["expect_line"].as_str().unwrap(),
            "{}",
            c["id"]
        );
    }
}

#[test]
fn guids() {
    let v = load("guids.json");
    for c in cases(&v, "parse") {
        let id = c["id"].as_str().unwrap();
        let got = c["input"].as_str().unwrap().parse::<Guid>();
        match c.get("expect") {
            Some(want) => assert_eq!(
                got.map(|g| g.to_string()).as_deref(),
                Ok(want.as_str().unwrap()),
                "{id}"
            ),
            None => assert!(got.is_err(), "{id}: expected BadGuid, got {got:?}"),
        }
    }
    for c in cases(&v, "write") {
        let bytes: Vec<u8> = c["bytes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b.as_u64().unwrap() as u8)
            .collect();
        let g = Guid(bytes.try_into().unwrap());
        if let Some(want) = c.get("expect") {
            assert_eq!(g.to_string(), want.as_str().unwrap());
        }
        if let Some(want) = c.get("expect_compact") {
            assert_eq!(g.compact(), want.as_str().unwrap());
        }
    }
}

fn part(v: &Value) -> FilterPart {
    FilterPart {
        priority: v["priority"].as_u64().unwrap() as u8,
        class: v["class"].as_u64().unwrap() as u16,
        kind: v["type"].as_u64().unwrap() as u16,
        guid: guid(&v["guid"]),
        index: v.get("index").and_then(Value::as_u64).map(|i| i as u8),
    }
}

#[test]
fn filters() {
    let v = load("filters.json");
    for c in cases(&v, "parse") {
        let id = c["id"].as_str().unwrap();
        let got = c["input"].as_str().unwrap().parse::<FilterPart>();
        match (c.get("expect"), c.get("expect_error")) {
            (Some(want), _) => {
                let p = got.unwrap_or_else(|e| panic!("{id}: {e}"));
                assert_eq!(p, part(want), "{id}");
                assert_eq!(
                    p.to_string().parse::<FilterPart>(),
                    Ok(p),
                    "{id} round trip"
                );
            }
            (None, Some(err)) => {
                assert_eq!(err, "TooFewFields");
                assert!(
                    matches!(got, Err(FilterParseError::TooFewFields { .. })),
                    "{id}: {got:?}"
                );
            }
            _ => panic!("{id}"),
        }
    }
    for c in cases(&v, "match") {
        let e = &c["event"];
        let ev = Event {
            head: e["head"].as_u64().unwrap() as u16,
            guid: guid(&e["guid"]),
            ..event_from_json(e)
        };
        let f = Filter {
            filter: part(&c["filter"]),
            mask: part(&c["mask"]),
        };
        assert_eq!(
            f.matches(&ev),
            c["expect_pass"].as_bool().unwrap(),
            "{}",
            c["id"]
        );
    }
}

/// Runs a command's reply lines through a client session that is already logged in.
fn run_reply(command: Option<&str>, lines: &[&str]) -> (Vec<SessionEvent>, ClientSession) {
    let config = ClientConfig {
        receive: ReceiveMode::Off,
        ..ClientConfig::default()
    };
    let mut s = ClientSession::new(config, Millis(0));
    let mut events = Vec::new();
    let drain = |s: &mut ClientSession, events: &mut Vec<SessionEvent>| {
        while let Some(o) = s.poll_output() {
            if let Output::Event(e) = o {
                events.push(e);
            }
        }
    };
    if let Some(cmd) = command {
        s.handle_line("+OK - Success.", Millis(0));
        drain(&mut s, &mut events);
        events.clear();
        s.send(Command::parse_lenient(cmd).unwrap(), Millis(0))
            .unwrap();
    }
    for l in lines {
        s.handle_line(l, Millis(1));
    }
    drain(&mut s, &mut events);
    (events, s)
}

fn reply_of(events: &[SessionEvent]) -> Reply {
    events
        .iter()
        .find_map(|e| match e {
            SessionEvent::Reply { reply: Ok(r), .. } => Some(r.clone()),
            _ => None,
        })
        .expect("a reply")
}

/// The receive loop is the session's own business: a streaming session must take the
/// first `+OK` as the loop's reply, events as events and the rest as keep-alives.
fn replay_rcvloop(id: &str, lines: &[&str], want: &Value) {
    let mut s = ClientSession::new(ClientConfig::default(), Millis(0));
    s.handle_line("+OK", Millis(0));
    assert_eq!(
        s.poll_output(),
        Some(Output::Event(SessionEvent::Connected { banner: vec![] }))
    );
    let mut sent_rcvloop = false;
    while let Some(o) = s.poll_output() {
        sent_rcvloop |= o == Output::Transmit("RCVLOOP\r\n".into());
    }
    assert!(sent_rcvloop, "{id}");
    let mut got = 0;
    for l in lines {
        s.handle_line(l, Millis(1));
        while let Some(o) = s.poll_output() {
            got += usize::from(matches!(o, Output::Event(SessionEvent::Received(_))));
        }
    }
    assert_eq!(s.state(), State::Streaming, "{id}");
    assert_eq!(got as u64, want["async_events"].as_u64().unwrap(), "{id}");
}

#[test]
fn replies() {
    let v = load("replies.json");
    for c in cases(&v, "status") {
        let id = c["id"].as_str().unwrap();
        let line = c["line"].as_str().unwrap();
        let got = Status::parse(line);
        match c["expect"]["kind"].as_str().unwrap() {
            "data" => assert_eq!(got, None, "{id}"),
            kind => {
                let s = got.unwrap_or_else(|| panic!("{id}: not a status"));
                assert_eq!(s.ok, kind == "ok", "{id}");
                assert_eq!(s.text, c["expect"]["text"].as_str().unwrap(), "{id}");
            }
        }
    }
    for c in cases(&v, "replies") {
        let id = c["id"].as_str().unwrap();
        let lines: Vec<&str> = c["lines"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l.as_str().unwrap())
            .collect();
        let want = &c["expect"];
        let command = c["command"].as_str();
        if command == Some("RCVLOOP") {
            replay_rcvloop(id, &lines, want);
            continue;
        }
        let (events, session) = run_reply(command, &lines);
        let Some(_) = command else {
            // a greeting
            if want["ok"].as_bool().unwrap() {
                let banner: Vec<&str> = want["banner"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|l| l.as_str().unwrap())
                    .collect();
                assert!(
                    events.iter().any(
                        |e| matches!(e, SessionEvent::Connected { banner: b } if *b == banner)
                    ),
                    "{id}: {events:?}"
                );
            } else {
                assert!(
                    events
                        .iter()
                        .any(|e| matches!(e, SessionEvent::Closed(CloseReason::Refused(_)))),
                    "{id}"
                );
            }
            continue;
        };
        let received: Vec<&Event> = events
            .iter()
            .filter_map(|e| match e {
                SessionEvent::Received(ev) => Some(ev),
                _ => None,
            })
            .collect();
        let r = reply_of(&events);
        assert_eq!(r.ok, want["ok"].as_bool().unwrap(), "{id}: {r:?}");
        if let Some(n) = want.get("events") {
            assert_eq!(received.len() as u64, n.as_u64().unwrap(), "{id}");
        }
        if let Some(first) = want.get("first") {
            check_event(id, received[0], first);
        }
        if let Some(ver) = want.get("version") {
            let v = r.version().unwrap();
            let a = ver.as_array().unwrap();
            assert_eq!(
                [v.major, v.minor, v.release].map(u64::from),
                [0, 1, 2].map(|i| a[i].as_u64().unwrap())
            );
            assert_eq!(v.build.map(u64::from), a[3].as_u64(), "{id}");
        }
        if let Some(n) = want.get("count") {
            assert_eq!(u64::from(r.count().unwrap()), n.as_u64().unwrap(), "{id}");
        }
        if let Some(st) = want.get("stat") {
            let s = r.stat().unwrap();
            assert_eq!(
                [
                    s.a,
                    s.b,
                    s.c,
                    s.rx_data,
                    s.rx_frames,
                    s.tx_data,
                    s.tx_frames
                ],
                [
                    "a",
                    "b",
                    "c",
                    "rx_data",
                    "rx_frames",
                    "tx_data",
                    "tx_frames"
                ]
                .map(|k| st[k].as_u64().unwrap())
            );
        }
        if let Some(info) = want.get("info") {
            let i = r.info().unwrap();
            assert_eq!(i.channel_status, info["channel_status"].as_u64().unwrap());
            assert_eq!(i.error_code, info["error_code"].as_u64().unwrap());
            assert_eq!(i.error_str, info["error_str"].as_str().unwrap(), "{id}");
        }
        if let Some(g) = want.get("guid") {
            assert_eq!(r.guid().unwrap(), guid(g), "{id}");
        }
        if let Some(caps) = want.get("caps") {
            let want =
                u64::from_str_radix(caps.as_str().unwrap().trim_start_matches("0x"), 16).unwrap();
            assert_eq!(r.capabilities().unwrap(), Capabilities(want), "{id}");
        }
        if let Some(ifs) = want.get("interfaces") {
            let got = r.interfaces().unwrap();
            let ifs = ifs.as_array().unwrap();
            assert_eq!(got.len(), ifs.len(), "{id}");
            for (g, w) in got.iter().zip(ifs) {
                assert_eq!(u64::from(g.id), w["id"].as_u64().unwrap());
                assert_eq!(u64::from(g.kind), w["type"].as_u64().unwrap());
                assert_eq!(g.guid, guid(&w["guid"]));
                assert_eq!(g.name, w["name"].as_str().unwrap(), "{id}");
            }
        }
        if let Some(sid) = want.get("sid") {
            assert_eq!(r.challenge().unwrap(), sid.as_str().unwrap(), "{id}");
        }
        if want.get("server_closes").is_some() {
            assert!(!r.ok);
        }
        assert_ne!(session.state(), State::Closed, "{id}: session must survive");
    }
}

#[test]
fn measurements() {
    let v = load("measurements.json");
    for c in cases(&v, "level1").iter().chain(cases(&v, "level2")) {
        let id = c["id"].as_str().unwrap();
        let mut ev = Event::new(
            c["class"].as_u64().unwrap() as u16,
            c["type"].as_u64().unwrap() as u16,
        );
        ev.data = c["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b.as_u64().unwrap() as u8)
            .collect();
        let want = &c["expect"];
        let got = Measurement::from_event(&ev);
        if let Some(err) = want.get("error") {
            let e = got.err().unwrap_or_else(|| panic!("{id}: expected {err}"));
            let name = match e {
                MeasurementError::ReservedCoding => "ReservedCoding",
                MeasurementError::NoData => "NoData",
                _ => "other",
            };
            assert_eq!(name, err.as_str().unwrap(), "{id}");
            continue;
        }
        let m = got.unwrap_or_else(|e| panic!("{id}: {e}"));
        if let Some(coding) = want.get("coding") {
            let name = match m.coding {
                Coding::Bits => "bits",
                Coding::Byte => "byte",
                Coding::String => "string",
                Coding::Int => "int",
                Coding::Normalized => "normalized",
                Coding::Float => "float",
                Coding::Double => "double",
            };
            assert_eq!(name, coding.as_str().unwrap(), "{id}");
        }
        assert_eq!(u64::from(m.unit), want["unit"].as_u64().unwrap(), "{id}");
        assert_eq!(
            u64::from(m.sensor),
            want["sensor"].as_u64().unwrap(),
            "{id}"
        );
        if let Some(z) = want.get("zone") {
            assert_eq!(m.zone.map(|(z, _)| u64::from(z)), z.as_u64(), "{id}");
        }
        match (&m.value, want.get("value"), want.get("raw")) {
            (MValue::Number(got), Some(w), _) => {
                let w = w.as_f64().unwrap();
                assert!(
                    (got - w).abs() <= 1e-9 * w.abs().max(1.0),
                    "{id}: {got} vs {w}"
                );
            }
            (MValue::Bits(b), _, Some(raw)) => {
                let raw: Vec<u8> = raw
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|b| b.as_u64().unwrap() as u8)
                    .collect();
                assert_eq!(*b, raw, "{id}");
            }
            other => panic!("{id}: {other:?}"),
        }
    }
}

#[test]
fn register_and_discovery() {
    let v = load("register_discovery.json");
    for c in cases(&v, "cases") {
        let id = c["id"].as_str().unwrap();
        if let Some(req) = c.get("request") {
            let node = req.get("node").and_then(Value::as_u64).unwrap_or(255) as u8;
            let target = Target {
                interface: req.get("interface_guid").map(guid),
                nickname: node,
            };
            let ev = match (
                req["kind"].as_str().unwrap(),
                req.get("level").and_then(Value::as_u64),
            ) {
                ("read", Some(2)) => level2_read(
                    guid(&req["guid"]),
                    req["reg"].as_u64().unwrap() as u32,
                    req["count"].as_u64().unwrap() as u16,
                ),
                ("read", _) => target.read(req["reg"].as_u64().unwrap() as u8),
                ("write", _) => target.write(
                    req["reg"].as_u64().unwrap() as u8,
                    req["value"].as_u64().unwrap() as u8,
                ),
                ("ext_read", _) => target.read_page(
                    req["page"].as_u64().unwrap() as u16,
                    req["reg"].as_u64().unwrap() as u8,
                    req["count"].as_u64().unwrap() as u8,
                ),
                ("who_is_there", _) => target.who_is_there(),
                (k, _) => panic!("{id}: kind {k}"),
            };
            assert_eq!(ev.to_string(), c["expect_event"].as_str().unwrap(), "{id}");
            continue;
        }
        let want = &c["expect"];
        if let Some(frames) = c.get("events") {
            let mut w = WhoIsThere::default();
            for f in frames.as_array().unwrap() {
                let ev: Event = f.as_str().unwrap().parse().unwrap();
                if let Some(Discovery::WhoIsThereFrame { index, bytes, .. }) =
                    Discovery::from_event(&ev)
                {
                    w.add(index, bytes);
                }
            }
            let (g, url) = w.complete().unwrap_or_else(|| panic!("{id}: incomplete"));
            assert_eq!(g, guid(&want["guid_fw_order"]), "{id}");
            assert_eq!(url, want["mdf_url"].as_str().unwrap(), "{id}");
            continue;
        }
        let ev: Event = c["event"].as_str().unwrap().parse().unwrap();
        let u8s = |k: &str| want[k].as_u64().unwrap() as u8;
        match want["kind"].as_str().unwrap() {
            "rw_response" => assert_eq!(
                RegisterReply::from_event(&ev),
                Some(RegisterReply::Value {
                    origin: u8s("origin_nickname"),
                    reg: u8s("reg"),
                    value: u8s("value")
                }),
                "{id}"
            ),
            "ext_response" => assert_eq!(
                RegisterReply::from_event(&ev),
                Some(RegisterReply::Page {
                    origin: u8s("origin_nickname"),
                    index: u8s("index"),
                    page: want["page"].as_u64().unwrap() as u16,
                    reg: u8s("reg"),
                    values: want["values"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|b| b.as_u64().unwrap() as u8)
                        .collect(),
                }),
                "{id}"
            ),
            "l2_rw_response" => assert_eq!(
                RegisterReply::from_event(&ev),
                Some(RegisterReply::Level2 {
                    origin: ev.guid,
                    reg: want["reg"].as_u64().unwrap() as u32,
                    values: want["values"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|b| b.as_u64().unwrap() as u8)
                        .collect(),
                }),
                "{id}"
            ),
            "new_node_online" => {
                assert_eq!(
                    Discovery::from_event(&ev),
                    Some(Discovery::NewNodeOnline {
                        nickname: u8s("nickname")
                    })
                )
            }
            "probe" => assert_eq!(
                Discovery::from_event(&ev),
                Some(Discovery::Probe {
                    target: u8s("target")
                })
            ),
            "heartbeat" => assert_eq!(
                Discovery::from_event(&ev),
                Some(Discovery::Heartbeat {
                    origin: ev.guid.nickname(),
                    user: u8s("user"),
                    zone: u8s("zone"),
                    subzone: u8s("subzone")
                })
            ),
            "caps" => {
                let Some(Discovery::Capabilities(caps)) = Discovery::from_event(&ev) else {
                    panic!("{id}")
                };
                let w = u64::from_str_radix(
                    want["caps"].as_str().unwrap().trim_start_matches("0x"),
                    16,
                )
                .unwrap();
                assert_eq!(caps.0, w);
                assert!(caps.has(15) && caps.has(0), "{id}");
            }
            k => panic!("{id}: kind {k}"),
        }
    }
}
