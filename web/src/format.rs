//! How events read on screen: class and type names, data bytes, node names, times.

use std::collections::HashMap;

use vscp_core::{Guid, names};

/// Interface GUID of the demo bus (bytes 0–14), for friendly node names.
const DEMO_IFACE: [u8; 15] = [
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xF5, 0, 1, 0, 0, 0, 0, 0,
];

/// `CLASS1.INFORMATION (20)`.
#[must_use]
pub fn class_label(class: u16) -> String {
    match names::class_name(class) {
        Some(n) => format!("{n} ({class})"),
        None => format!("{class}"),
    }
}

/// `ON (3)`.
#[must_use]
pub fn type_label(class: u16, kind: u16) -> String {
    match names::type_name(class, kind) {
        Some(n) => format!("{n} ({kind})"),
        None => format!("{kind}"),
    }
}

/// Data bytes as `0A 1B …`.
#[must_use]
pub fn hex(data: &[u8]) -> String {
    let mut s = String::with_capacity(data.len() * 3);
    for (i, b) in data.iter().enumerate() {
        if i > 0 {
            s.push(' ');
        }
        s.push_str(&format!("{b:02X}"));
    }
    s
}

/// `relay (node 3)` when the node told its name, `node 3 (demo bus)`, else the short GUID.
#[must_use]
pub fn node_label(g: &Guid, names: &HashMap<Guid, String>) -> String {
    if let Some(name) = names.get(g) {
        format!("{name} (node {})", g.nickname())
    } else if g.0.get(..15) == Some(&DEMO_IFACE[..]) {
        format!("node {} (demo bus)", g.nickname())
    } else {
        g.compact()
    }
}

/// Local time of day with milliseconds (browser only: it asks the browser's time zone).
#[must_use]
pub fn time_of_day(ms: u64) -> String {
    let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64));
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        d.get_hours(),
        d.get_minutes(),
        d.get_seconds(),
        ms % 1000
    )
}
