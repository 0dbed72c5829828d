//! Any bytes from a server, in any chunking, with time moving on: the client session never panics.
#![no_main]
use libfuzzer_sys::fuzz_target;
use vscp_core::{ClientConfig, ClientSession, Command, Millis};

fuzz_target!(|data: &[u8]| {
    let config = ClientConfig { credentials: Some(("u".into(), "p".into())), ..ClientConfig::default() };
    let mut s = ClientSession::new(config, Millis(0));
    let (cut, rest) = data.split_first().map_or((7, data), |(c, r)| (usize::from(*c % 64) + 1, r));
    for (i, chunk) in rest.chunks(cut).enumerate() {
        let now = Millis(i as u64 * 731);
        s.handle_bytes(chunk, now);
        if i % 5 == 0 {
            let _ = s.send(Command::ChkData, now);
        }
        s.handle_timeout(now);
        while s.poll_output().is_some() {}
    }
});
