//! Property tests (native only): text round trips and "any input, no panic".
#![cfg(not(target_arch = "wasm32"))]

use proptest::prelude::*;
use vscp_core::*;

fn guid() -> impl Strategy<Value = Guid> {
    any::<[u8; 16]>().prop_map(Guid)
}

fn stamp() -> impl Strategy<Value = Stamp> {
    prop_oneof![
        Just(Stamp::Unknown),
        any::<u64>().prop_map(Stamp::Unix),
        // datetimes from 1970 to 2100, ns precision, optional µs counter
        (
            0u64..4_102_444_800_000_000_000,
            proptest::option::of(any::<u32>())
        )
            .prop_map(|(ns, counter_us)| Stamp::DateTime { ns, counter_us }),
    ]
}

fn event() -> impl Strategy<Value = Event> {
    (
        any::<u16>(),
        any::<u16>(),
        any::<u16>(),
        any::<u32>(),
        stamp(),
        guid(),
        proptest::collection::vec(any::<u8>(), 0..=MAX_DATA),
    )
        .prop_map(|(head, class, kind, obid, stamp, guid, data)| Event {
            head,
            class,
            kind,
            obid,
            stamp,
            guid,
            data,
            unread: Vec::new(),
            line: SourceLine::default(),
        })
}

fn part() -> impl Strategy<Value = FilterPart> {
    (
        any::<u8>(),
        any::<u16>(),
        any::<u16>(),
        guid(),
        proptest::option::of(any::<u8>()),
    )
        .prop_map(|(priority, class, kind, guid, index)| FilterPart {
            priority,
            class,
            kind,
            guid,
            index,
        })
}

proptest! {
    #[test]
    fn event_text_round_trip(ev in event()) {
        prop_assert_eq!(ev.to_string().parse::<Event>(), Ok(ev));
    }

    #[test]
    fn guid_text_round_trip(g in guid()) {
        prop_assert_eq!(g.to_string().parse::<Guid>(), Ok(g));
    }

    #[test]
    fn filter_text_round_trip(p in part()) {
        prop_assert_eq!(p.to_string().parse::<FilterPart>(), Ok(p));
    }

    #[test]
    fn command_line_round_trip(ev in event(), p in part(), g in guid(), n in proptest::option::of(any::<u32>())) {
        for cmd in [Command::Send(ev), Command::SetFilter(p), Command::SetMask(p), Command::SetGuid(g), Command::Retr(n), Command::ChkData, Command::Wcyd] {
            prop_assert_eq!(cmd.to_string().parse::<Command>(), Ok(cmd));
        }
    }

    #[test]
    fn any_text_parses_or_errs(s in ".{0,300}") {
        let _ = s.parse::<Event>();
        let _ = s.parse::<Guid>();
        let _ = s.parse::<FilterPart>();
        let _ = s.parse::<Command>();
    }

    #[test]
    fn any_bytes_into_sessions_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2000)) {
        let mut c = ClientSession::new(ClientConfig { credentials: Some(("a".into(), "b".into())), ..ClientConfig::default() }, Millis(0));
        let mut n = NodeSession::new(NodeConfig::default(), Millis(0));
        let mut node = MemoryNode::default();
        for (i, chunk) in bytes.chunks(13).enumerate() {
            let now = Millis(i as u64 * 997);
            c.handle_bytes(chunk, now);
            c.handle_timeout(now);
            n.handle_bytes(&mut node, chunk, now);
            n.handle_timeout(now);
            while c.poll_output().is_some() {}
            while n.poll_output().is_some() {}
        }
    }

    #[test]
    fn chunking_does_not_change_outputs(lines in proptest::collection::vec("(\\+OK|-OK - x|0,20,3,,,,-,1,2|1,2,3,4)", 1..40), cut in 1usize..50) {
        let stream: String = lines.iter().map(|l| format!("{l}\r\n")).collect();
        let run = |chunk: usize| {
            let mut s = ClientSession::new(ClientConfig::default(), Millis(0));
            let mut out = Vec::new();
            for c in stream.as_bytes().chunks(chunk) {
                s.handle_bytes(c, Millis(1));
                while let Some(o) = s.poll_output() { out.push(o); }
            }
            out
        };
        prop_assert_eq!(run(stream.len().max(1)), run(cut));
    }
}
