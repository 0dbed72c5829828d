//! Any bytes from a client: the node session answers or ignores, never panics.
#![no_main]
#[path = "../harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::node_session(data));
