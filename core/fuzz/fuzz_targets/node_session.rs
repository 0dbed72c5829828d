//! Any bytes from a client: the node session answers or ignores, never panics.
#![no_main]
use libfuzzer_sys::fuzz_target;
use vscp_core::{Event, MemoryNode, Millis, NodeConfig, NodeSession};

fuzz_target!(|data: &[u8]| {
    let mut node = MemoryNode::default();
    let mut s = NodeSession::new(NodeConfig::default(), Millis(0));
    for (i, chunk) in data.chunks(11).enumerate() {
        let now = Millis(i as u64 * 300);
        s.handle_bytes(&mut node, chunk, now);
        s.deliver(&Event::new(20, 3), now);
        s.handle_timeout(now);
        while s.poll_output().is_some() {}
    }
});
