//! Any text as an event line: parse or a typed error; what parses writes back to itself.
#![no_main]
use libfuzzer_sys::fuzz_target;
use vscp_core::Event;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(ev) = text.parse::<Event>() {
        assert_eq!(ev.to_string().parse::<Event>().as_ref(), Ok(&ev));
    }
});
