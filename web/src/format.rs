//! How events read on screen: class and type names, data bytes, node names, times.

use std::collections::HashMap;

use vscp_core::{Guid, names};

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

/// `relay (node 3)` when the node has a name, `node 3 (demo bus)` for a demo node (`demo
/// site 2` beyond the first site), else the short GUID.
#[must_use]
pub fn node_label(g: &Guid, names: &HashMap<Guid, String>) -> String {
    if let Some(name) = names.get(g) {
        format!("{name} (node {})", g.nickname())
    } else if let Some(site) = vscp_api::demo::node_site(&g.0) {
        match site {
            1 => format!("node {} (demo bus)", g.nickname()),
            _ => format!("node {} (demo site {site})", g.nickname()),
        }
    } else if let Some(site) = vscp_api::demo::level2_site(&g.0) {
        match site {
            1 => "Level II (demo)".to_string(),
            _ => format!("Level II (demo site {site})"),
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_nodes_are_named_at_any_site() {
        let names = HashMap::new();
        let node = |site: u8| {
            let mut g = vscp_api::demo::interface_guid(site);
            g[15] = 3;
            Guid(g)
        };
        assert_eq!(node_label(&node(1), &names), "node 3 (demo bus)");
        assert_eq!(node_label(&node(2), &names), "node 3 (demo site 2)");
        let named = HashMap::from([(node(2), "relay".to_string())]);
        assert_eq!(node_label(&node(2), &named), "relay (node 3)");
    }
}
