//! What real clients need from the server side (vscpd's forms): each reply as it goes on
//! the wire from a `NodeSession`, driven line by line with time moved by hand.

use vscp_core::*;

/// A logged-in node session; `wire` collects what it writes, one `Vec` per driver write
/// (a driver writes everything it polled before it waits for time or bytes).
struct Server {
    session: NodeSession,
    node: MemoryNode,
    now: Millis,
}

impl Server {
    fn new(config: NodeConfig) -> Server {
        let mut s = Server {
            session: NodeSession::new(config, Millis(0)),
            node: MemoryNode::default(),
            now: Millis(0),
        };
        s.write();
        for l in ["USER admin", "PASS secret"] {
            s.send(l);
        }
        s
    }

    /// One driver write: every line polled now.
    fn write(&mut self) -> Vec<String> {
        std::iter::from_fn(|| self.session.poll_output())
            .filter_map(|o| match o {
                NodeOutput::Transmit(l) => Some(l.trim_end().to_string()),
                NodeOutput::Close => None,
            })
            .collect()
    }

    fn send(&mut self, line: &str) -> Vec<String> {
        self.session.handle_line(&mut self.node, line, self.now);
        self.write()
    }

    /// Lets time run to the session's next deadline; what it writes then.
    fn wait(&mut self) -> Vec<String> {
        if let Some(t) = self.session.poll_timeout() {
            self.now = self.now.max(t);
        }
        self.session.handle_timeout(self.now);
        self.write()
    }
}

#[test]
fn rcvloop_reply_goes_out_alone_then_the_queue() {
    let mut s = Server::new(NodeConfig::default());
    for i in 0..3 {
        let mut ev = Event::new(20, 3);
        ev.obid = i;
        s.session.deliver(&ev, s.now);
    }
    assert_eq!(
        s.send("RCVLOOP"),
        ["+OK - Receive loop entered. QUITLOOP to terminate."]
    );
    // with nothing else happening, the queue follows at the next time-out
    let backlog = s.wait();
    assert_eq!(backlog.len(), 3, "{backlog:?}");
    assert!(backlog[0].starts_with("0,20,3,0,"), "{backlog:?}");
    // live events stream at once, and keep-alives follow
    let mut late = Event::new(20, 4);
    late.obid = 9;
    s.session.deliver(&late, s.now);
    assert_eq!(s.write().len(), 1);
    assert_eq!(s.wait(), ["+OK"]);
    // an event (or a command) arriving before the time-out sends the queue first
    s.send("QUITLOOP");
    s.session.deliver(&Event::new(20, 3), s.now);
    s.send("RCVLOOP");
    let out = s.send("NOOP");
    assert_eq!(out.len(), 2, "{out:?}");
    assert!(out[0].starts_with("0,20,3,"), "{out:?}");
    assert_eq!(out[1], "+OK - Success.");
}

#[test]
fn interface_list_wcyd_and_datetimes_in_vscpd_form() {
    let mut s = Server::new(NodeConfig {
        started_unix_ns: Some(1_764_671_714_250_000_000),
        ..NodeConfig::default()
    });
    assert_eq!(
        s.send("INTERFACE LIST"),
        [
            "0,1,FF:FF:FF:FF:FF:FF:FF:FE:00:00:00:00:00:00:00:00,memory node | Started at 2025-12-02T10:35:14Z",
            "+OK - Success."
        ]
    );
    let wcyd = s.send("WCYD");
    assert_eq!(wcyd.len(), 2);
    assert_eq!(wcyd[0].len(), 23, "eight hex bytes, no decimal: {wcyd:?}");
    // clients read both forms of the interface list
    let with_count = Reply {
        ok: true,
        text: String::new(),
        lines: vec![
            "1 rows".into(),
            "0,1,-,x | Started at 2025-12-02T10:35:14Z".into(),
        ],
    };
    assert_eq!(with_count.interfaces().unwrap().len(), 1);
    // event times are UTC with a Z, and read with or without it
    let ev: Event = "0,20,3,0,2026-12-02T10:35:14,0,-,1".parse().unwrap();
    assert!(ev.to_string().contains("2026-12-02T10:35:14Z"));
    assert_eq!(ev.to_string().parse::<Event>(), Ok(ev));
}

#[test]
fn measurement_and_long_aliases() {
    let mut s = Server::new(NodeConfig {
        channel_id: 5,
        ..NodeConfig::default()
    });
    assert_eq!(s.send("MEASUREMENT 0,0,6,21.5,1,-,2"), ["+OK - Success."]);
    let ev = s.node.sent.last().unwrap();
    assert_eq!((ev.class, ev.kind, ev.obid), (10, 6, 5));
    let m = Measurement::from_event(ev).unwrap();
    assert_eq!((m.unit, m.sensor), (1, 2));
    assert_eq!(m.display(), "21.50 °C"); // sent as a float: two decimals
    assert_eq!(
        s.send("measurement float,level2,6,1013.25"),
        ["+OK - Success."]
    );
    assert_eq!(s.node.sent.last().unwrap().class, 1060);
    assert_eq!(
        s.send("MEASUREMENT 0,0,6,hot"),
        ["-OK - Invalid parameter or format"]
    );
    for (alias, want) in [
        ("CHECKDATA", "+OK - Success."),
        ("CLEARALL", "+OK - All events cleared."),
        ("RETRIEVE 1", "-OK - No event(s) available"),
        ("CLIENT LIST", "+OK - Success."),
        ("VERSION", "+OK - Success."),
    ] {
        let reply = s.send(alias);
        assert_eq!(
            reply.last().map(String::as_str),
            Some(want),
            "{alias}: {reply:?}"
        );
    }
    assert_eq!(
        s.send("RECEIVELOOP"),
        ["+OK - Receive loop entered. QUITLOOP to terminate."]
    );
    assert_eq!(s.send("EXIT"), ["+OK - Goodbye."]);
    assert_eq!(
        "MEASUREMENT 1,1,6,21.5"
            .parse::<Command>()
            .unwrap()
            .to_string(),
        "MEASUREMENT 1,1,6,21.5,0,-,0,0,0"
    );
}
