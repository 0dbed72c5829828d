//! The node table: every node seen in any event (by GUID), its name and MDF URL from
//! who-is-there answers or its standard registers, when it was last heard, and its events/s.

use std::collections::BTreeMap;

use vscp_core::{
    Event, Guid,
    registers::{Discovery, StandardRegisters},
};

/// One node of the table.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NodeRow {
    /// Its GUID (for a Level I node: the interface GUID with its nickname in byte 15).
    pub guid: Guid,
    /// Name (the MDF file's name) once known.
    pub name: Option<String>,
    /// MDF URL once known.
    pub mdf_url: Option<String>,
    /// Firmware version once its standard registers were read.
    pub firmware: Option<(u8, u8, u8)>,
    /// When an event of it was last received (ms since the epoch).
    pub last_seen_ms: u64,
    /// Events received from it.
    pub events: u64,
    /// Events per second over the last completed second.
    pub rate: f64,
    /// Heartbeats seen.
    pub heartbeats: u64,
    /// Found by a scan (answered who-is-there).
    pub scanned: bool,
    /// Sends Level II events of its own (class 1024 and up): its registers are in the
    /// 32-bit space (CLASS2.PROTOCOL).
    pub level2: bool,
    rate_since: (u64, u64),
}

/// All nodes, by GUID.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NodeTable {
    nodes: BTreeMap<Guid, NodeRow>,
    /// The server's client connections (other programs, and this console itself, whose
    /// events a server shows with the connection's GUID), with their events: not nodes.
    clients: BTreeMap<Guid, u64>,
}

impl NodeTable {
    /// Counts an event of its sender.
    pub fn see(&mut self, event: &Event, now_ms: u64) {
        if event.guid.is_zero() {
            // "the interface's GUID": a client's own event (e.g. its heartbeat), not a node
            return;
        }
        if let Some(n) = self.clients.get_mut(&event.guid) {
            *n += 1;
            return;
        }
        let row = self.row(event.guid, now_ms);
        row.level2 |= event.class >= 1024;
        row.events += 1;
        row.last_seen_ms = now_ms;
        if matches!(
            Discovery::from_event(event),
            Some(Discovery::Heartbeat { .. } | Discovery::Level2Heartbeat { .. })
        ) {
            row.heartbeats += 1;
        }
    }

    /// A node told its GUID and MDF URL (who-is-there or scan); names it after the MDF file.
    pub fn identify(&mut self, guid: Guid, mdf_url: &str, scanned: bool, now_ms: u64) {
        let row = self.row(guid, now_ms);
        row.scanned |= scanned;
        row.last_seen_ms = row.last_seen_ms.max(now_ms);
        let name = mdf_name(mdf_url);
        if !name.is_empty() {
            row.name = Some(name.to_string());
        }
        if !mdf_url.is_empty() {
            row.mdf_url = Some(mdf_url.to_string());
        }
    }

    /// What its standard registers say.
    pub fn standard(&mut self, guid: Guid, std: &StandardRegisters, now_ms: u64) {
        self.identify(guid, &std.mdf_url, false, now_ms);
        self.row(guid, now_ms).firmware = Some(std.firmware);
    }

    /// Updates every node's events/s once a second has passed since its last update.
    pub fn tick(&mut self, now_ms: u64) {
        for row in self.nodes.values_mut() {
            let (since, count) = row.rate_since;
            if now_ms >= since + 1_000 {
                row.rate = (row.events - count) as f64 * 1_000.0 / (now_ms - since) as f64;
                row.rate_since = (now_ms, row.events);
            }
        }
    }

    /// The server's client connections by their GUIDs (INTERFACE LIST types 4, 6 and 7; the
    /// console's own connection among them): their events no longer make rows, and rows
    /// made before are taken out.
    pub fn set_clients(&mut self, clients: impl IntoIterator<Item = Guid>) {
        let old = std::mem::take(&mut self.clients);
        for g in clients.into_iter().filter(|g| !g.is_zero()) {
            let events = self.nodes.remove(&g).map_or(0, |r| r.events);
            self.clients
                .insert(g, old.get(&g).copied().unwrap_or(0) + events);
        }
    }

    /// Events seen from the server's client connections.
    #[must_use]
    pub fn client_events(&self) -> u64 {
        self.clients.values().sum()
    }

    /// The rows, by GUID.
    #[must_use]
    pub fn rows(&self) -> Vec<NodeRow> {
        self.nodes.values().cloned().collect()
    }

    /// One node's row.
    #[must_use]
    pub fn get(&self, guid: &Guid) -> Option<&NodeRow> {
        self.nodes.get(guid)
    }

    fn row(&mut self, guid: Guid, now_ms: u64) -> &mut NodeRow {
        self.nodes.entry(guid).or_insert_with(|| NodeRow {
            guid,
            rate_since: (now_ms, 0),
            ..NodeRow::default()
        })
    }
}

/// `example.com/dir/relay.xml` → `relay`.
#[must_use]
pub fn mdf_name(url: &str) -> &str {
    let file = url.rsplit('/').next().unwrap_or(url);
    file.split('.').next().unwrap_or(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_names_and_rates() {
        let mut t = NodeTable::default();
        let g = Guid([1; 16]).with_nickname(3);
        let mut ev = Event::new(20, 9);
        ev.guid = g;
        ev.data = vec![0, 1, 3];
        for i in 0..10 {
            t.see(&ev, 1_000 + i * 100);
        }
        t.tick(2_000);
        let row = t.get(&g).unwrap();
        assert_eq!((row.events, row.heartbeats), (10, 10));
        assert!((row.rate - 10.0).abs() < 0.01, "{}", row.rate);
        t.identify(g, "example.com/demo/relay.xml", true, 2_100);
        let row = t.get(&g).unwrap();
        assert_eq!(row.name.as_deref(), Some("relay"));
        assert!(row.scanned);
        assert_eq!(t.rows().len(), 1);
    }

    #[test]
    fn client_connections_are_not_nodes() {
        let mut t = NodeTable::default();
        let node = Guid([1; 16]).with_nickname(3);
        let client = Guid([0xFE; 16]).with_nickname(0);
        for g in [node, client, client] {
            let mut ev = Event::new(20, 3);
            ev.guid = g;
            t.see(&ev, 1_000);
        }
        assert_eq!(t.rows().len(), 2, "not known as a client yet");
        t.set_clients([client]);
        assert_eq!(t.rows().len(), 1);
        assert_eq!(t.rows()[0].guid, node);
        assert_eq!(t.client_events(), 2);
        let mut ev = Event::new(20, 3);
        ev.guid = client;
        t.see(&ev, 2_000);
        assert_eq!((t.rows().len(), t.client_events()), (1, 3));
    }
}
