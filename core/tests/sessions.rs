//! Client session ↔ node session driven against each other in memory, with time moved
//! by hand (never by sleeping).

use vscp_core::*;

/// Moves lines between a client and a node session and jumps `now` to the next deadline.
struct Pair {
    client: ClientSession,
    node: NodeSession,
    backend: MemoryNode,
    now: Millis,
    events: Vec<SessionEvent>,
    node_closed: bool,
}

impl Pair {
    fn new(config: ClientConfig) -> Pair {
        let now = Millis(0);
        let mut p = Pair {
            client: ClientSession::new(config, now),
            node: NodeSession::new(
                NodeConfig {
                    channel_id: 7,
                    ..NodeConfig::default()
                },
                now,
            ),
            backend: MemoryNode::default(),
            now,
            events: Vec::new(),
            node_closed: false,
        };
        p.settle();
        p
    }

    fn login() -> Pair {
        Pair::new(ClientConfig {
            credentials: Some(("admin".into(), "secret".into())),
            receive: ReceiveMode::Off,
            ..ClientConfig::default()
        })
    }

    /// Moves bytes both ways until nothing moves.
    fn settle(&mut self) {
        loop {
            let mut moved = false;
            while let Some(o) = self.node.poll_output() {
                moved = true;
                match o {
                    NodeOutput::Transmit(l) => self.client.handle_bytes(l.as_bytes(), self.now),
                    NodeOutput::Close => {
                        self.node_closed = true;
                        self.client.handle_close("node closed");
                    }
                }
            }
            while let Some(o) = self.client.poll_output() {
                moved = true;
                match o {
                    Output::Transmit(l) if !self.node_closed => {
                        self.node
                            .handle_bytes(&mut self.backend, l.as_bytes(), self.now)
                    }
                    Output::Transmit(_) => {}
                    Output::Event(e) => self.events.push(e),
                }
            }
            if !moved {
                break;
            }
        }
    }

    /// Advances time to the earliest deadline (at most `limit`) and fires it.
    fn advance(&mut self, limit: Millis) {
        let next = [self.client.poll_timeout(), self.node.poll_timeout()]
            .into_iter()
            .flatten()
            .min();
        self.now = next.unwrap_or(limit).min(limit).max(self.now);
        self.client.handle_timeout(self.now);
        self.node.handle_timeout(self.now);
        self.settle();
    }

    fn run(&mut self, cmd: &str) -> Reply {
        let id = self
            .client
            .send(Command::parse_lenient(cmd).unwrap(), self.now)
            .unwrap();
        self.settle();
        self.take_reply(id)
    }

    fn take_reply(&mut self, id: CommandId) -> Reply {
        let pos = self
            .events
            .iter()
            .position(|e| matches!(e, SessionEvent::Reply { id: i, .. } if *i == id))
            .unwrap_or_else(|| panic!("no reply to {id:?}: {:?}", self.events));
        match self.events.remove(pos) {
            SessionEvent::Reply { reply: Ok(r), .. } => r,
            other => panic!("{other:?}"),
        }
    }

    fn received(&mut self) -> Vec<Event> {
        SessionEvent::take_received(&mut self.events)
    }
}

fn ev(class: u16, kind: u16, data: &[u8]) -> Event {
    Event {
        data: data.to_vec(),
        ..Event::new(class, kind)
    }
}

#[test]
fn every_command_gets_its_reply() {
    let mut p = Pair::login();
    assert_eq!(p.client.state(), State::Ready);
    assert!(p.run("NOOP").ok);
    assert!(p.run("HELP").lines[0].contains("NOOP"));
    assert!(p.run("CHALLENGE").challenge().is_ok());
    assert_eq!(p.run("VERS").version().unwrap().major, 1);
    assert_eq!(p.run("CHID").channel_id().unwrap(), 7);
    assert_eq!(p.run("GGID").guid().unwrap(), p.backend.guid);
    assert!(p.run("WCYD").capabilities().unwrap().has(15));
    assert_eq!(
        p.run("INTERFACE LIST").interfaces().unwrap()[0].name,
        "memory node"
    );
    assert!(p.run("STAT").stat().is_ok());
    assert!(p.run("INFO").info().is_ok());
    assert!(
        p.run("SGID 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF")
            .ok
    );
    assert_eq!(p.run("GGID").guid().unwrap().0[1], 0x11);
    assert!(p.run("SFLT 0,20,0,-").ok);
    assert!(p.run("SMSK 0,0xFFFF,0,-").ok);
    assert!(p.run("SEND 0,20,3,,,,-,0,1,35").ok);
    assert_eq!(p.backend.sent.len(), 1);
    assert_eq!(p.backend.sent[0].obid, 7, "obid filled with the channel id");
    assert_eq!(
        p.backend.sent[0].guid, p.backend.guid,
        "zero GUID replaced by the channel GUID"
    );
    // the filter lets class 20 through only
    assert!(p.node.deliver(&ev(20, 3, &[1]), p.now));
    assert!(!p.node.deliver(&ev(10, 6, &[1]), p.now));
    assert_eq!(p.run("CDTA").count().unwrap(), 1);
    let r = p.run("RETR 5");
    assert!(r.ok, "-OK after events is not an error");
    assert_eq!(p.received(), vec![ev(20, 3, &[1])]);
    let r = p.run("RETR");
    assert!(r.ok && r.text.starts_with("No event"));
    p.node.deliver(&ev(20, 4, &[]), p.now);
    assert!(p.run("CLRA").ok);
    assert_eq!(p.run("CDTA").count().unwrap(), 0);
    assert!(!p.run("TEST").ok);
    assert!(!p.run("XFOO").ok, "unknown commands get -OK");
    assert_eq!(p.client.state(), State::Ready);
    assert!(p.run("QUIT").ok);
    assert_eq!(p.client.state(), State::Closed);
    assert!(p.node_closed);
}

#[test]
fn bad_lines_keep_the_connection() {
    let mut p = Pair::login();
    let r = p.run("XBAD");
    assert_eq!((r.ok, r.text.as_str()), (false, "Unknown command"));
    // a malformed SEND is refused by the client before it is sent
    assert!(matches!(
        Command::parse_lenient("SEND 0,20"),
        Err(CommandParseError::Event(_))
    ));
    // but a server must answer one that arrives
    p.node.handle_line(&mut p.backend, "SEND 0,x,3,,,,-", p.now);
    assert_eq!(
        p.node.poll_output(),
        Some(NodeOutput::Transmit(
            "-OK - Invalid parameter or format\r\n".into()
        ))
    );
    p.node.handle_bytes(&mut p.backend, &[b'A'; 5000], p.now);
    p.node.handle_bytes(&mut p.backend, b"\r\n", p.now);
    assert_eq!(
        p.node.poll_output(),
        Some(NodeOutput::Transmit("-OK - Line too long\r\n".into()))
    );
    assert!(p.run("NOOP").ok);
}

#[test]
fn login_rules() {
    let p = Pair::new(ClientConfig {
        credentials: Some(("admin".into(), "wrong".into())),
        receive: ReceiveMode::Off,
        ..ClientConfig::default()
    });
    assert!(p.events.iter().any(
        |e| matches!(e, SessionEvent::Closed(CloseReason::LoginFailed(t)) if t.contains("Invalid"))
    ));
    assert!(p.node_closed);

    // without login only level-0 commands work
    let mut p = Pair::new(ClientConfig {
        receive: ReceiveMode::Off,
        ..ClientConfig::default()
    });
    assert!(p.run("VERS").ok);
    let r = p.run("RETR");
    assert_eq!(
        (r.ok, r.text.as_str()),
        (false, "Need to log in to perform this command.")
    );
    assert!(!p.run("CDTA").ok);
}

#[test]
fn streaming_leaves_and_reenters_the_loop_for_commands() {
    let mut p = Pair::new(ClientConfig {
        credentials: Some(("admin".into(), "secret".into())),
        ..ClientConfig::default()
    });
    assert_eq!(p.client.state(), State::Streaming);
    assert!(p.node.is_streaming());
    for i in 0..10u8 {
        p.node.deliver(&ev(10, 6, &[0x60, i]), p.now);
    }
    p.settle();
    assert_eq!(p.received().len(), 10);
    // keep-alives flow while idle and keep the link alive
    for _ in 0..30 {
        p.advance(Millis(p.now.0 + 1_000));
    }
    assert_eq!(p.client.state(), State::Streaming);
    // a command: QUITLOOP, resync, the command, RCVLOOP again
    let id = p.client.send(Command::ChId, p.now).unwrap();
    // events arriving while leaving are not lost
    p.node.deliver(&ev(20, 3, &[]), p.now);
    p.settle();
    assert_eq!(p.take_reply(id).channel_id().unwrap(), 7);
    assert_eq!(p.received(), vec![ev(20, 3, &[])]);
    assert_eq!(p.client.state(), State::Streaming);
    assert!(p.node.is_streaming());
}

#[test]
fn polling_fetches_in_batches() {
    let mut p = Pair::new(ClientConfig {
        credentials: Some(("admin".into(), "secret".into())),
        receive: ReceiveMode::Poll,
        retr_batch: 10,
        ..ClientConfig::default()
    });
    for i in 0..25u8 {
        p.node.deliver(&ev(20, 3, &[i]), p.now);
    }
    for _ in 0..5 {
        p.advance(Millis(p.now.0 + 500));
    }
    let got = p.received();
    assert_eq!(got.len(), 25);
    assert!(
        got.iter().enumerate().all(|(i, e)| e.data == [i as u8]),
        "in order"
    );
    p.client.set_receive_mode(ReceiveMode::Stream, p.now);
    p.settle();
    assert_eq!(p.client.state(), State::Streaming);
}

#[test]
fn silent_server_is_detected() {
    // keep-alive loss in the loop
    let mut p = Pair::new(ClientConfig {
        credentials: Some(("admin".into(), "secret".into())),
        ..Default::default()
    });
    let mut client = p.client.clone();
    let t = client.poll_timeout().unwrap();
    client.handle_timeout(t);
    let mut closed = None;
    while let Some(o) = client.poll_output() {
        if let Output::Event(SessionEvent::Closed(r)) = o {
            closed = Some(r);
        }
    }
    assert_eq!(closed, Some(CloseReason::KeepaliveLost));
    // a command nobody answers times out, the session resynchronises and carries on
    let mut p2 = Pair::login();
    let id = p2.client.send(Command::Noop, p2.now).unwrap();
    let _ = p2.client.poll_output(); // the NOOP is "lost" on the wire
    let deadline = p2.client.poll_timeout().unwrap();
    p2.now = deadline;
    p2.client.handle_timeout(deadline);
    p2.settle();
    assert!(p2.events.iter().any(|e| matches!(e, SessionEvent::Reply { id: i, reply: Err(NoReply::TimedOut), .. } if *i == id)));
    assert!(p2.run("NOOP").ok);
    p.settle();
}

#[test]
fn greeting_refused_and_timeout() {
    let mut c = ClientSession::new(ClientConfig::default(), Millis(0));
    c.handle_bytes(b"-OK - Max number of clients connected.\r\n", Millis(1));
    let evs: Vec<_> = std::iter::from_fn(|| c.poll_output()).collect();
    assert!(
        evs.contains(&Output::Event(SessionEvent::Closed(CloseReason::Refused(
            "Max number of clients connected.".into()
        ))))
    );
    let mut c = ClientSession::new(ClientConfig::default(), Millis(0));
    c.handle_timeout(Millis(5_000));
    let evs: Vec<_> = std::iter::from_fn(|| c.poll_output()).collect();
    assert!(evs.contains(&Output::Event(SessionEvent::Closed(
        CloseReason::GreetingTimeout
    ))));
    assert_eq!(c.send(Command::Noop, Millis(5_001)), Err(SendError::Closed));
}

/// A client that keeps sending while streaming (it leaves and re-enters the receive loop
/// each time) against a node that keeps delivering: with lines in flight both ways in any
/// interleaving, every delivered event reaches the client once, in order.
#[test]
fn sending_while_streaming_loses_no_event() {
    let mut client = ClientSession::new(
        ClientConfig {
            credentials: Some(("admin".into(), "secret".into())),
            ..ClientConfig::default()
        },
        Millis(0),
    );
    let mut node = NodeSession::new(NodeConfig::default(), Millis(0));
    let mut backend = MemoryNode::default();
    backend.capacity = usize::MAX;
    let mut to_client: std::collections::VecDeque<Vec<u8>> = Default::default();
    let mut to_node: std::collections::VecDeque<Vec<u8>> = Default::default();
    let (mut seq, mut got, mut now) = (0u32, Vec::new(), Millis(0));
    let mut rng = 0x2545_F491_4F6C_DD1Du64;
    for step in 0..200_000 {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        match rng % 7 {
            0 | 1 => {
                seq += 1;
                let mut e = Event::new(10, 6);
                e.obid = seq;
                node.deliver(&e, now);
            }
            2 => {
                // the client reads faster than the node produces
                for l in to_client.drain(..to_client.len().min(4)) {
                    client.handle_bytes(&l, now);
                }
            }
            3 => {
                if let Some(l) = to_node.pop_front() {
                    node.handle_bytes(&mut backend, &l, now);
                }
            }
            4 if step % 50 == 0 => {
                let _ = client.send(Command::Send(Event::new(30, 99)), now);
            }
            _ => {
                now = now.plus(1);
                client.handle_timeout(now);
                node.handle_timeout(now);
            }
        }
        while let Some(o) = node.poll_output() {
            if let NodeOutput::Transmit(l) = o {
                to_client.push_back(l.into_bytes());
            }
        }
        while let Some(o) = client.poll_output() {
            match o {
                Output::Transmit(l) => to_node.push_back(l.into_bytes()),
                Output::Event(SessionEvent::Received(e)) => got.push(e.obid),
                Output::Event(SessionEvent::Closed(r)) => panic!("closed: {r}"),
                Output::Event(_) => {}
            }
        }
    }
    assert_eq!(node.overruns(), 0, "queue overflow");
    assert!(got.len() > 10_000, "{}", got.len());
    for w in got.windows(2) {
        assert_eq!(w[1], w[0] + 1, "gap or reorder after obid {}", w[0]);
    }
    assert_eq!(node.overruns(), 0);
}
