//! What each fuzz target does with its input, shared by the cargo-fuzz targets and by
//! vscp-core's `fuzz_seeds` test, which replays the committed seed corpus on every run.
#![allow(dead_code)] // each user calls only some of these

use vscp_core::{
    ClientConfig, ClientSession, Command, Event, Framed, LineBuf, MemoryNode, Millis, NodeConfig,
    NodeSession, Reply, Status,
};

/// Any text as an event line: parse or a typed error; what parses writes back to itself.
pub fn event_line(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(ev) = text.parse::<Event>() {
        assert_eq!(ev.to_string().parse::<Event>().as_ref(), Ok(&ev));
    }
}

/// Any bytes as a server's reply stream: framed, classified and decoded without panics.
pub fn reply_stream(data: &[u8]) {
    let mut lines = LineBuf::default();
    lines.push(data, |f| {
        if let Framed::Line(l) = f {
            let status = Status::parse(&l);
            let r = Reply {
                ok: status.is_some(),
                text: l.to_string(),
                lines: vec![l.into_owned()],
            };
            let _ = (
                r.version(),
                r.stat(),
                r.info(),
                r.capabilities(),
                r.interfaces(),
                r.count(),
                r.guid(),
                r.challenge(),
            );
        }
    });
}

/// Any bytes from a server, in any chunking, with time moving on: the client session
/// never panics.
pub fn client_session(data: &[u8]) {
    let config = ClientConfig {
        credentials: Some(("u".into(), "p".into())),
        ..ClientConfig::default()
    };
    let mut s = ClientSession::new(config, Millis(0));
    let (cut, rest) = data
        .split_first()
        .map_or((7, data), |(c, r)| (usize::from(*c % 64) + 1, r));
    for (i, chunk) in rest.chunks(cut).enumerate() {
        let now = Millis(i as u64 * 731);
        s.handle_bytes(chunk, now);
        if i % 5 == 0 {
            let _ = s.send(Command::ChkData, now);
        }
        s.handle_timeout(now);
        while s.poll_output().is_some() {}
    }
}

/// Any bytes from a client: the node session answers or ignores, never panics.
pub fn node_session(data: &[u8]) {
    let mut node = MemoryNode::default();
    let mut s = NodeSession::new(NodeConfig::default(), Millis(0));
    for (i, chunk) in data.chunks(11).enumerate() {
        let now = Millis(i as u64 * 300);
        s.handle_bytes(&mut node, chunk, now);
        s.deliver(&Event::new(20, 3), now);
        s.handle_timeout(now);
        while s.poll_output().is_some() {}
    }
}

/// Any text as a module description file: a model or a typed error; every remote variable
/// decodes from zeroed registers and encodes what it decoded.
pub fn mdf(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(m) = vscp_core::mdf::Mdf::parse(&text) {
        for v in &m.remote_vars {
            let regs = vec![0u8; usize::from(v.len())];
            if let Some(value) = v.decode(&regs) {
                let _ = v.encode(&value.to_string(), &regs);
            }
        }
        for r in &m.registers {
            let _ = m.register(r.page, r.offset);
        }
    }
}
