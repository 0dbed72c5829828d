//! Any text as a module description file (XML or JSON): a model or a typed error.
#![no_main]
#[path = "../harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::mdf(data));
