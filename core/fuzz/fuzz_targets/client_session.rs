//! Any bytes from a server, in any chunking, with time moving on: the client session never panics.
#![no_main]
#[path = "../harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::client_session(data));
