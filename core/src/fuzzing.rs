//! Entry points for the fuzz targets in `core/fuzz` (feature `fuzzing`). Each must never panic.

use crate::{ClientConfig, ClientSession, Event, Millis, Node, NodeConfig, NodeSession};

/// Parses one event line and, when it parses, checks the text round trip.
pub fn event_line(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(ev) = text.parse::<Event>() {
        let again: Event = ev.to_string().parse().unwrap_or_default();
        assert_eq!(again, ev, "round trip of {text:?}");
    }
}

/// Feeds arbitrary bytes to a client session as server replies, with time moving on.
pub fn client_session(data: &[u8]) {
    let config = ClientConfig {
        credentials: Some(("u".into(), "p".into())),
        ..ClientConfig::default()
    };
    let mut s = ClientSession::new(config, Millis(0));
    for (i, chunk) in data.chunks(7).enumerate() {
        let now = Millis(i as u64 * 700);
        s.handle_bytes(chunk, now);
        s.handle_timeout(now);
        while s.poll_output().is_some() {}
    }
}

/// Splits arbitrary bytes into reply lines and classifies them like a reply stream.
pub fn reply_stream(data: &[u8]) {
    let mut lb = crate::LineBuf::default();
    lb.push(data, |f| {
        if let crate::Framed::Line(l) = f {
            let _ = crate::Status::parse(&l);
            let r = crate::Reply {
                ok: true,
                text: l.clone(),
                lines: vec![l],
            };
            let _ = (
                r.version(),
                r.stat(),
                r.info(),
                r.capabilities(),
                r.interfaces(),
                r.count(),
                r.guid(),
            );
        }
    });
}

/// Feeds arbitrary bytes to a node session as client commands.
pub fn node_session(data: &[u8]) {
    let mut node = crate::MemoryNode::default();
    let mut s = NodeSession::new(NodeConfig::default(), Millis(0));
    for (i, chunk) in data.chunks(11).enumerate() {
        let now = Millis(i as u64 * 300);
        s.handle_bytes(&mut node as &mut dyn Node, chunk, now);
        s.deliver(&Event::new(20, 3), now);
        s.handle_timeout(now);
        while s.poll_output().is_some() {}
    }
}
