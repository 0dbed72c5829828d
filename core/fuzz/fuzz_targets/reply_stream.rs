//! Any bytes as a server's reply stream: framed, classified and decoded without panics.
#![no_main]
#[path = "../harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::reply_stream(data));
