//! Any bytes as one HTTP connection to the proxy: request line, Host, Origin, token, query,
//! `target`, static paths and the websocket gate; never a panic, never a file from outside.
#![no_main]
#[path = "../harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::http_request(data));
