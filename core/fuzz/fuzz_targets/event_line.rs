//! Any text as an event line: parse or a typed error; what parses writes back to itself.
#![no_main]
#[path = "../harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::event_line(data));
