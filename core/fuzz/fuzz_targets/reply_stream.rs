//! Any bytes as a server's reply stream: framed, classified and decoded without panics.
#![no_main]
use libfuzzer_sys::fuzz_target;
use vscp_core::{Framed, LineBuf, Reply, Status};

fuzz_target!(|data: &[u8]| {
    let mut lines = LineBuf::default();
    lines.push(data, |f| {
        if let Framed::Line(l) = f {
            let status = Status::parse(&l);
            let r = Reply { ok: status.is_some(), text: l.to_string(), lines: vec![l.into_owned()] };
            let _ = (r.version(), r.stat(), r.info(), r.capabilities(), r.interfaces(), r.count(), r.guid(), r.challenge());
        }
    });
});
