//! The client session against servers as sloppy as real ones, scripted line by line:
//! impossible datetimes, SEND times only in one form, filters only in Level I widths.
//! Time is moved by hand.
#![cfg(not(target_arch = "wasm32"))]

use proptest::prelude::*;
use vscp_core::*;

/// A scripted server: answers each line the client sends.
struct Scripted {
    client: ClientSession,
    answer: fn(&str) -> Vec<String>,
    sent: Vec<String>,
    events: Vec<SessionEvent>,
}

impl Scripted {
    fn new(answer: fn(&str) -> Vec<String>) -> Scripted {
        let config = ClientConfig {
            receive: ReceiveMode::Off,
            ..ClientConfig::default()
        };
        let mut s = Scripted {
            client: ClientSession::new(config, Millis(0)),
            answer,
            sent: Vec::new(),
            events: Vec::new(),
        };
        s.client.handle_line("+OK - Success.", Millis(0));
        s.settle();
        s
    }

    fn settle(&mut self) {
        while let Some(o) = self.client.poll_output() {
            match o {
                Output::Transmit(l) => {
                    let l = l.trim_end().to_string();
                    for reply in (self.answer)(&l) {
                        self.client.handle_line(&reply, Millis(1));
                    }
                    self.sent.push(l);
                }
                Output::Event(e) => self.events.push(e),
            }
        }
    }

    /// Sends a command; its reply.
    fn run(&mut self, command: Command) -> Reply {
        let id = self.client.send(command, Millis(1)).unwrap();
        self.settle();
        self.events
            .iter()
            .find_map(|e| match e {
                SessionEvent::Reply { id: i, reply, .. } if *i == id => reply.clone().ok(),
                _ => None,
            })
            .unwrap()
    }

    fn adaptations(&self) -> Vec<Adaptation> {
        self.events
            .iter()
            .filter_map(|e| match e {
                SessionEvent::Adapted(a) => Some(*a),
                _ => None,
            })
            .collect()
    }
}

fn ok() -> Vec<String> {
    vec!["+OK - Success.".into()]
}

fn bad() -> Vec<String> {
    vec!["-OK - Invalid parameter or format".into()]
}

#[test]
fn a_month_13_datetime_keeps_the_event() {
    let line = "0,10,6,3,2026-13-05T10:00:00Z,123456,FF:FF:FF:FF:FF:FF:FF:F5:00:01:00:00:00:00:00:01,168,65,172,0,0";
    // the strict reader refuses it, as before; the reader of received lines keeps it
    assert!(line.parse::<Event>().is_err());
    let e = Event::read_received(line).unwrap();
    assert_eq!((e.class, e.kind, e.obid, e.data.len()), (10, 6, 3, 5));
    assert_eq!(e.stamp, Stamp::Unknown);
    let u = e.unread(Field::DateTime).unwrap();
    assert_eq!(
        (u.text.as_str(), u.why),
        ("2026-13-05T10:00:00Z", "month is not 1–12")
    );
    // written back with the server's text (the bridge forwards it so)
    assert_eq!(
        e.to_string().split(',').nth(4),
        Some("2026-13-05T10:00:00Z")
    );
    // a timestamp holding an absolute time gives the time
    let e = Event::read_received("0,20,3,0,2026-13-05T10:00:00,1796207714000000000,-,1").unwrap();
    assert_eq!(e.stamp, Stamp::Unix(1_796_207_714_000_000_000));
    // head and obid too: kept as 0 with their text
    let e = Event::read_received("x,20,3,y,,,-,1").unwrap();
    assert_eq!((e.head, e.obid, e.unread.len()), (0, 0, 2));
    assert_eq!(e.unread[0].to_string(), "head \"x\": not a number 0–65535");
    // class, type, GUID or data unreadable: refused with the reason
    for bad in ["0,x,3,,,,-,1", "0,20,3,,,,zz,1", "0,20,3,,,,-,300", "0,20"] {
        assert!(Event::read_received(bad).is_err(), "{bad}");
    }
}

#[test]
fn the_session_delivers_events_with_unreadable_times() {
    let mut s = Scripted::new(|l| match l {
        "RETR 5" => vec![
            "0,20,3,0,2026-13-05T10:00:00Z,0,-,0,1,35".into(),
            "0,20,3,0,2026-12-05T10:00:00Z,0,-,0,1,36".into(),
            "0,20,3,0,2026-00-05T10:00:00Z,0,-,0,1,37".into(),
            "+OK - 3 events".into(),
        ],
        _ => ok(),
    });
    s.run(Command::Retr(Some(5)));
    let got = SessionEvent::take_received(&mut s.events);
    assert_eq!(got.len(), 3);
    assert_eq!(got.iter().filter(|e| !e.unread.is_empty()).count(), 2);
    assert!(
        !s.events
            .iter()
            .any(|e| matches!(e, SessionEvent::ProtocolError(_)))
    );
}

fn time_form_server(l: &str) -> Vec<String> {
    match l.strip_prefix("SEND ") {
        // this server reads datetimes only without the Z
        Some(ev) if ev.split(',').nth(4).is_some_and(|dt| dt.ends_with('Z')) => bad(),
        _ => ok(),
    }
}

#[test]
fn a_send_refused_with_z_goes_again_in_the_legacy_form_and_is_remembered() {
    let mut s = Scripted::new(time_form_server);
    let ev: Event = "0,20,3,0,2026-11-25T14:54:29Z,,-,0,1,35".parse().unwrap();
    assert!(s.run(Command::Send(ev.clone())).ok);
    assert_eq!(
        s.sent[s.sent.len() - 2..],
        [
            "SEND 0,20,3,0,2026-11-25T14:54:29Z,,-,0,1,35",
            "SEND 0,20,3,0,2026-11-25T14:54:29,,-,0,1,35"
        ]
    );
    assert_eq!(
        s.adaptations(),
        [Adaptation::TimeForm(TimeForm::DateTimeLegacy)]
    );
    assert_eq!(s.client.learned_forms().0, TimeForm::DateTimeLegacy);
    // the next SEND goes in the form the server took, at once
    let n = s.sent.len();
    assert!(s.run(Command::Send(ev)).ok);
    assert_eq!(s.sent.len(), n + 1);
    // a refusal another form cannot help is not retried
    let mut s = Scripted::new(|_| vec!["-OK - Buffer Full".into()]);
    let n = s.sent.len();
    assert!(
        !s.run(Command::Send(
            "0,20,3,0,2026-11-25T14:54:29Z,,-".parse().unwrap()
        ))
        .ok
    );
    assert_eq!(s.sent.len(), n + 1);
}

#[test]
fn every_time_form_is_tried_once_then_the_refusal_stands() {
    let mut s = Scripted::new(|l| if l.starts_with("SEND") { bad() } else { ok() });
    let ev: Event = "0,20,3,0,2026-11-25T14:54:29Z,,-,0,1,35".parse().unwrap();
    assert!(!s.run(Command::Send(ev)).ok);
    let sends: Vec<&String> = s.sent.iter().filter(|l| l.starts_with("SEND")).collect();
    assert_eq!(sends.len(), 3, "{sends:?}");
    assert_eq!(sends[2], "SEND 0,20,3,0,,1795618469000000000,-,0,1,35");
    assert!(s.adaptations().is_empty());
}

fn level1_server(l: &str) -> Vec<String> {
    let wide = |arg: &str| {
        let f: Vec<&str> = arg.split(',').collect();
        f.len() < 4
            || f[3] == "-"
            || f[1].parse::<u32>().is_ok_and(|c| c > 0x1FF)
            || f[2].parse::<u32>().is_ok_and(|t| t > 0xFF)
    };
    match l.split_once(' ') {
        Some(("SFLT" | "SMSK", arg)) if wide(arg) => bad(),
        _ => ok(),
    }
}

#[test]
fn a_wide_mask_refused_goes_again_in_level1_widths() {
    let mut s = Scripted::new(level1_server);
    let f: FilterPart = "0,20,3,-".parse().unwrap();
    let m: FilterPart = "0,0xFFFF,0xFFFF,-".parse().unwrap();
    assert!(s.run(Command::SetFilter(f)).ok);
    assert!(s.run(Command::SetMask(m)).ok);
    assert!(
        s.sent.iter().any(|l| l.starts_with("SMSK 0,511,255,")),
        "{:?}",
        s.sent
    );
    assert_eq!(s.adaptations(), [Adaptation::Level1Filters]);
    // remembered: the next mask goes narrow at once
    let n = s.sent.len();
    assert!(s.run(Command::SetMask(m)).ok);
    assert_eq!(s.sent.len(), n + 1);
    // a filter value that does not fit Level I cannot be narrowed: the refusal stands
    let wide: FilterPart = "0,1040,3,-".parse().unwrap();
    assert!(!s.run(Command::SetFilter(wide)).ok);
}

#[test]
fn repeat_n_and_the_history_list() {
    let mut node = MemoryNode::default();
    let mut s = NodeSession::new(NodeConfig::default(), Millis(0));
    let mut say = |s: &mut NodeSession, l: &str| {
        s.handle_line(&mut node, l, Millis(0));
        std::iter::from_fn(|| s.poll_output())
            .filter_map(|o| match o {
                NodeOutput::Transmit(t) => Some(t.trim_end().to_string()),
                NodeOutput::Close => None,
            })
            .collect::<Vec<_>>()
    };
    say(&mut s, "USER admin");
    say(&mut s, "PASS secret");
    say(&mut s, "VERS");
    say(&mut s, "CHID");
    let list = say(&mut s, "++");
    assert_eq!(list[..3], ["0 CHID", "1 VERS", "2 USER admin"], "{list:?}");
    assert_eq!(
        say(&mut s, "+1").len(),
        2,
        "VERS again: its data line and +OK"
    );
    assert!(say(&mut s, "+9")[0].starts_with("-OK"));
    assert_eq!("+3".parse::<Command>(), Ok(Command::Repeat(Some(3))));
    assert_eq!("++".parse::<Command>(), Ok(Command::History));
}

/// The inputs of the event-line vectors that the strict reader takes.
fn valid_vector_lines() -> Vec<String> {
    let vectors: serde_json::Value =
        serde_json::from_str(include_str!("vectors/event_lines.json")).unwrap();
    vectors["parse"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["input"].as_str())
        .filter(|l| l.parse::<Event>().is_ok())
        .map(str::to_string)
        .collect()
}

/// Time-field texts a sloppy server may write.
fn bad_time() -> impl Strategy<Value = String> {
    prop_oneof![
        "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z?",
        "[ -+.-9:A-Za-z]{0,30}",
        any::<u64>().prop_map(|v| v.to_string()),
    ]
}

proptest! {
    /// Any corruption of the time fields of a valid vector line still yields the event
    /// with its class, type, GUID and data.
    #[test]
    fn corrupt_time_fields_keep_the_event(case in 0usize..64, dt in bad_time(), ts in bad_time()) {
        let lines = valid_vector_lines();
        let line = &lines[case % lines.len()];
        let good: Event = line.parse().unwrap();
        let mut f: Vec<String> = line.splitn(8, ',').map(str::to_string).collect();
        f[4] = dt;
        f[5] = ts;
        let corrupted = f.join(",");
        let e = Event::read_received(&corrupted);
        prop_assert!(e.is_ok(), "{corrupted}: {e:?}");
        let e = e.unwrap();
        prop_assert_eq!((e.class, e.kind, e.guid, &e.data), (good.class, good.kind, good.guid, &good.data));
        // and it survives being written and read again
        let again = Event::read_received(&e.to_string()).unwrap();
        prop_assert_eq!((again.class, again.kind, &again.data), (e.class, e.kind, &e.data));
    }
}

#[test]
fn vscpd16_six_field_lines_are_kept_with_their_time() {
    // vscpd 16 (vscpl2drv-tcpipsrv 15.2) writes no datetime field
    let line = "256,20,3,1,1796645875499598000,FF:FF:FF:FF:FF:FF:FF:F5:09:00:00:00:00:01:00:00,0x00,0xA5,0x12";
    let e = Event::read_received(line).unwrap();
    assert_eq!((e.head, e.class, e.kind, e.obid), (256, 20, 3, 1));
    assert_eq!(e.stamp, Stamp::Unix(1_796_645_875_499_598_000));
    assert_eq!(
        e.guid.to_string(),
        "FF:FF:FF:FF:FF:FF:FF:F5:09:00:00:00:00:01:00:00"
    );
    assert_eq!(e.data, [0, 0xA5, 0x12]);
    // marked, with the reason in words
    let u = e.unread(Field::DateTime).unwrap();
    assert!(u.why.contains("six fields"), "{}", u.why);
    // the server's own line is kept; written back in the reference's seven fields
    assert_eq!(e.line.as_str(), Some(line));
    assert_eq!(
        e.to_string(),
        "256,20,3,1,,1796645875499598000,FF:FF:FF:FF:FF:FF:FF:F5:09:00:00:00:00:01:00:00,0,165,18"
    );
    // no data, and `-` for the GUID
    let e = Event::read_received("0,20,9,0,1796645875499598000,-").unwrap();
    assert_eq!((e.kind, e.data.len()), (9, 0));
    // a SEND argument of this form is read too; the strict reader keeps refusing it
    assert!(line.parse::<Event>().is_err());
    // a reference line whose datetime is digits and timestamp a GUID-like `-` still reads as
    // the reference's form when the six-field reading fails
    let e =
        Event::read_received("0,20,3,0,12345,-,FF:FF:FF:FF:FF:FF:FF:F5:00:01:00:00:00:00:00:01,7")
            .unwrap();
    assert_eq!((e.guid.nickname(), e.data.as_slice()), (1, &[7u8][..]));
}

#[test]
fn the_session_delivers_every_six_field_event() {
    let mut s = Scripted::new(|l| match l {
        "RETR 10" => {
            let mut lines: Vec<String> = (0..10)
                .map(|i| {
                    format!(
                        "256,20,3,{i},{},FF:FF:FF:FF:FF:FF:FF:F5:09:00:00:00:00:01:00:00,0x00,0xA5,{i}",
                        1_796_645_875_499_598_000u64 + i
                    )
                })
                .collect();
            lines.push("+OK - 10 events".into());
            lines
        }
        _ => ok(),
    });
    s.run(Command::Retr(Some(10)));
    let got = SessionEvent::take_received(&mut s.events);
    assert_eq!(got.len(), 10);
    assert!(got.iter().all(|e| e.stamp.unix_ns().is_some()));
    assert!(
        !s.events
            .iter()
            .any(|e| matches!(e, SessionEvent::ProtocolError(_))),
        "{:?}",
        s.events
    );
}

#[test]
fn empty_continuation_frames_still_find_the_node() {
    // Paris/Beijing firmware 1.1.5: frames 1–6 of its who-is-there answer carry no data
    use vscp_core::scan::{Scan, ScanOutput};
    let node: Guid = "FF:FF:FF:FF:FF:FF:FF:F5:00:01:00:00:00:00:00:05"
        .parse()
        .unwrap();
    let mut scan = Scan::new(None, 5..=5, 1, 500, Millis(0));
    assert!(matches!(scan.poll_output(), Some(ScanOutput::Send(_))));
    let guid_rev: Vec<u8> = node.0.iter().rev().copied().collect();
    for index in 0..7u8 {
        let mut data = vec![index];
        if index == 0 {
            data.extend_from_slice(&guid_rev[..7]);
        }
        let frame = Event {
            class: 0,
            kind: 32,
            guid: node,
            data,
            ..Event::default()
        };
        assert!(scan.handle_event(&frame, Millis(10)));
    }
    let found = scan.found();
    assert_eq!(found.len(), 1, "the node is found");
    assert_eq!(found[0].nickname, 5);
    assert_eq!(found[0].guid, node);
    assert_eq!(found[0].short_frames, [1, 2, 3, 4, 5, 6]);
    assert!(scan.is_done());
}

proptest! {
    /// The six-field form (no datetime) with any data still yields the event and its time.
    #[test]
    fn a_missing_datetime_field_keeps_the_event(case in 0usize..64, ns in 1u64.., head in any::<u16>()) {
        let lines = valid_vector_lines();
        let good: Event = lines[case % lines.len()].parse().unwrap();
        let mut f: Vec<String> = good.to_string().splitn(8, ',').map(str::to_string).collect();
        f.remove(4); // the datetime field
        f[0] = head.to_string();
        f[4] = ns.to_string();
        let six = f.join(",");
        let e = Event::read_received(&six);
        prop_assert!(e.is_ok(), "{six}: {e:?}");
        let e = e.unwrap();
        prop_assert_eq!((e.head, e.class, e.kind, e.guid, &e.data), (head, good.class, good.kind, good.guid, &good.data));
        prop_assert_eq!(e.stamp, Stamp::Unix(ns));
        prop_assert!(e.unread(Field::DateTime).is_some());
    }
}

#[test]
fn a_six_field_line_with_an_empty_timestamp_reads() {
    let e =
        Event::read_received("0,20,3,0,,FF:FF:FF:FF:FF:FF:FF:FE:00:00:00:00:00:00:00:00,0,165,200")
            .unwrap();
    assert_eq!(
        (e.stamp, e.data.as_slice()),
        (Stamp::Unknown, &[0u8, 165, 200][..])
    );
    assert!(e.unread(Field::DateTime).is_some());
    // the reference's lines with an empty datetime are not taken for it
    let e = Event::read_received("0,20,3,0,,0,-,1,2").unwrap();
    assert_eq!((e.stamp, e.unread.len()), (Stamp::Unix(0), 0));
}
