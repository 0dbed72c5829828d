//! Finding out about nodes: who-is-there answers, scans, identification by standard
//! registers, the node table, and the register editor's traffic.

use std::rc::Rc;

use vscp_core::{Command, Event, Guid, Millis, registers::RegisterReply};

use super::*;

/// Least time between two nodes' identification (their standard registers read), ms.
pub const IDENTIFY_PACE_MS: u64 = 1_000;

/// Nicknames asked at once by a scan.
const SCAN_WINDOW: usize = 8;

/// How long a nickname gets to answer a scan, ms.
const SCAN_TIMEOUT_MS: u64 = 1_000;

/// A scan the user stopped.
pub const SCAN_CANCELLED: &str = "cancelled";
/// A scan whose connection was lost (the nicknames not asked are not known to be free).
pub const SCAN_LOST: &str = "stopped, the connection was lost";

/// A scan in progress (or finished) and the interface it asks through.
#[derive(Clone, Debug, PartialEq)]
pub struct ScanState {
    /// The interface GUID (nickname byte 0).
    pub interface: Guid,
    /// The scan.
    pub scan: Scan,
    /// Why it stopped before the end, if it did: [`SCAN_CANCELLED`] or [`SCAN_LOST`].
    pub stopped: Option<&'static str>,
    /// What the server's interface list says of the interface (a client connection: why
    /// nothing will be found).
    pub note: Option<String>,
}

/// A client connection's kind in words, by its interface type (INTERFACE LIST): 4 tcp/ip,
/// 6 web, 7 websocket; `None` for buses and drivers (1–3) and the rest.
#[must_use]
pub fn interface_kind(kind: u16) -> Option<&'static str> {
    match kind {
        4 => Some("tcp/ip client connection"),
        6 => Some("web client connection"),
        7 => Some("websocket client connection"),
        _ => None,
    }
}

impl Console {
    /// Collects who-is-there frames; a complete set names the node after its MDF file.
    pub(super) fn learn(&mut self, event: &Event, now: Millis) {
        if let Some(Discovery::WhoIsThereFrame {
            index,
            bytes,
            carried,
            ..
        }) = Discovery::from_event(event)
        {
            let frames = self.whois.entry(event.guid).or_default();
            frames.add_carried(index, bytes, carried);
            if let Some((_, url)) = frames.complete() {
                self.identify(event.guid, &url, false, now);
            }
        }
    }

    /// A node told its MDF URL: the table learns it, and a node without a name is known by
    /// the MDF file's name (a name the user gave stays).
    pub(super) fn identify(&mut self, guid: Guid, url: &str, scanned: bool, now: Millis) {
        self.nodes.identify(guid, url, scanned, now.0);
        let name = nodes::mdf_name(url);
        if !name.is_empty() && !self.node_names.contains_key(&guid) {
            Rc::make_mut(&mut self.node_names).insert(guid, name.to_string());
        }
        self.refresh_nodes();
    }

    pub(super) fn refresh_nodes(&mut self) {
        let rows = self.nodes.rows();
        if *self.node_rows != rows {
            self.node_rows = Rc::new(rows);
        }
    }

    /// Register answers go to the editor, who-is-there frames to the scan (as core reads
    /// them: a Level I page, its class-512 mirror or a Level II answer; a frame of a reply).
    pub(super) fn answer_for_nodes(&mut self, event: &Event, now: Millis) {
        if matches!(
            RegisterReply::from_event(event),
            Some(RegisterReply::Page { .. } | RegisterReply::Level2 { .. })
        ) {
            if let Some(r) = self.registers.as_mut() {
                Rc::make_mut(r).handle_event(event, now);
            }
            if let Some(ed) = self.identifier.as_mut() {
                ed.handle_event(event, now);
            }
        }
        if matches!(
            Discovery::from_event(event),
            Some(Discovery::WhoIsThereFrame { .. })
        ) && let Some(sc) = self.scan.as_mut()
        {
            Rc::make_mut(sc).scan.handle_event(event, now);
        }
        self.answer_for_firmware(event, now);
    }

    /// SENDs what the register editor and the scan ask for; takes in what they found. Runs
    /// after every received batch, so it touches (and copies, while a render holds them) the
    /// editor and the scan only when they have output.
    pub(super) fn pump_nodes(&mut self, now: Millis) {
        let mut sends = Vec::new();
        let mut found = Vec::new();
        if let Some(sc) = self.scan.as_mut()
            && sc.scan.has_output()
        {
            let sc = Rc::make_mut(sc);
            while let Some(o) = sc.scan.poll_output() {
                match o {
                    ScanOutput::Send(ev) => sends.push(ev),
                    ScanOutput::Found(f) => found.push(f),
                }
            }
        }
        let mut standard = None;
        if let Some(r) = self.registers.as_mut()
            && r.has_output()
        {
            let r = Rc::make_mut(r);
            while let Some(ev) = r.next_send(now) {
                sends.push(ev);
            }
            if r.pending() == 0 {
                standard = r.standard().map(|s| (r.node, s));
            }
        }
        for f in found {
            if !f.short_frames.is_empty() {
                let frames: Vec<String> = f.short_frames.iter().map(u8::to_string).collect();
                self.say(
                    Level::Warning,
                    Topic::Other,
                    format!(
                        "node {} answered who-is-there with frame(s) {} empty or short (read as zeros{})",
                        f.nickname,
                        frames.join(", "),
                        if f.mdf_url.is_empty() { "; no MDF URL" } else { "" }
                    ),
                );
            }
            self.identify(f.guid, &f.mdf_url, true, now);
        }
        sends.extend(self.pump_identify(now));
        if let Some((guid, std)) = standard
            && self
                .nodes
                .get(&guid)
                .is_some_and(|n| n.firmware != Some(std.firmware))
        {
            self.nodes.standard(guid, &std, now.0);
            self.refresh_nodes();
        }
        for ev in sends {
            self.submit(Command::Send(ev), Purpose::Node, now);
        }
        self.pump_firmware(now);
    }

    /// Queues a node (heard from, no name) for identification, once.
    pub(super) fn queue_identify(&mut self, guid: Guid) {
        if !guid.is_zero() && self.identify_asked.insert(guid) {
            self.identify_queue.push_back(guid);
        }
    }

    /// Identification, one node at a time and paced: starts the next read, passes on what it
    /// asks to send, and names the node from its standard registers once they are in.
    pub(super) fn pump_identify(&mut self, now: Millis) -> Vec<Event> {
        let open = self.registers.as_ref().map(|r| r.node);
        if self.identifier.is_none() && now.0 >= self.identify_after && self.logged_in() {
            // a node whose register editor is open is read there, not twice
            if let Some(g) = self.identify_queue.pop_front().filter(|g| Some(*g) != open) {
                let level2 = self.nodes.get(&g).is_some_and(|n| n.level2);
                let mut ed = RegisterEditor::new(g, level2);
                ed.read(0x80, 128, now);
                self.identifier = Some(ed);
            }
        }
        let mut sends = Vec::new();
        let Some(ed) = self.identifier.as_mut() else {
            return sends;
        };
        while let Some(ev) = ed.next_send(now) {
            sends.push(ev);
        }
        if ed.pending() == 0 {
            let (guid, standard) = (ed.node, ed.standard());
            self.identifier = None;
            self.identify_after = now.0 + IDENTIFY_PACE_MS;
            if let Some(std) = standard {
                self.identify(guid, &std.mdf_url, false, now);
                self.nodes.standard(guid, &std, now.0);
                self.refresh_nodes();
            }
        }
        sends
    }

    pub(super) fn register_action(&mut self, action: RegisterAction, now: Millis) {
        let Some(r) = self.registers.as_mut() else {
            return self.say(
                Level::Error,
                Topic::Registers,
                "open a node's registers first".into(),
            );
        };
        match Rc::make_mut(r).apply(action, now) {
            Ok(Some(news)) => self.say(Level::Info, Topic::Registers, news),
            Ok(None) => {}
            Err(problem) => self.say(Level::Error, Topic::Registers, problem),
        }
    }

    /// Asks who is there at nicknames `from..=to` behind `interface`.
    pub(super) fn start_scan(&mut self, interface: Guid, from: u8, to: u8, now: Millis) {
        let scan = Scan::new(
            Some(interface),
            from..=to,
            SCAN_WINDOW,
            SCAN_TIMEOUT_MS,
            now,
        );
        let note = self
            .server
            .interfaces
            .iter()
            .find(|i| i.guid.with_nickname(0) == interface)
            .map(|i| match interface_kind(i.kind) {
                Some(client) => format!(
                    "{} is a {client} (type {}): no nodes sit behind it; choose a bus or driver interface",
                    i.short_name(),
                    i.kind
                ),
                None => format!("through {} (type {})", i.short_name(), i.kind),
            });
        self.scan = Some(Rc::new(ScanState {
            interface,
            scan,
            stopped: None,
            note,
        }));
    }

    /// Stops the scan where it is, saying why.
    pub(super) fn cancel_scan(&mut self, why: &'static str) {
        if let Some(sc) = self.scan.as_mut()
            && !sc.scan.is_done()
        {
            let sc = Rc::make_mut(sc);
            sc.stopped = Some(why);
            sc.scan.cancel();
        }
    }

    /// The connection is gone: every job that talks to nodes stops and says so, rather than
    /// asking into nothing until its time-outs read as silent nodes. The register editor
    /// keeps what it read; identification takes the node up again once connected.
    pub(super) fn node_jobs_lost(&mut self, now: Millis) {
        self.firmware_lost();
        self.cancel_scan(SCAN_LOST);
        if let Some(r) = self.registers.as_mut()
            && r.pending() > 0
        {
            let n = Rc::make_mut(r).cancel(now);
            self.say(
                Level::Warning,
                Topic::Registers,
                format!("registers: the connection was lost; {n} requests cancelled (read again once connected)"),
            );
        }
        if let Some(mut ed) = self.identifier.take() {
            ed.cancel(now);
            self.identify_queue.push_front(ed.node);
        }
    }

    /// Opens a node's register editor (closing the one open) and reads its standard registers.
    pub(super) fn open_registers(&mut self, guid: Guid, now: Millis) {
        Rc::make_mut(&mut self.notices).clear(Topic::Registers);
        if let Some(old) = self.registers.as_mut() {
            Rc::make_mut(old).cancel(now);
        }
        let level2 = self.nodes.get(&guid).is_some_and(|n| n.level2);
        let mut editor = RegisterEditor::new(guid, level2);
        editor.read(0x80, 128, now);
        self.registers = Some(Rc::new(editor));
    }

    /// Closes the register editor, cancelling what it still asks.
    pub(super) fn close_registers(&mut self, now: Millis) {
        Rc::make_mut(&mut self.notices).clear(Topic::Registers);
        if let Some(mut r) = self.registers.take() {
            Rc::make_mut(&mut r).cancel(now);
        }
    }

    /// Starts (or stops) naming nodes without a name from their standard registers.
    pub(super) fn identify_new(&mut self, on: bool, now: Millis) {
        self.identify_new = on;
        if on {
            // the nodes already in the table without a name go first
            let unnamed: Vec<Guid> = self
                .node_rows
                .iter()
                .map(|n| n.guid)
                .filter(|g| !self.node_names.contains_key(g))
                .collect();
            for g in unnamed {
                self.queue_identify(g);
            }
        } else {
            self.identify_queue.clear();
            if let Some(mut ed) = self.identifier.take() {
                ed.cancel(now);
            }
        }
    }

    /// Names a node (an empty name forgets it).
    pub(super) fn name_node(&mut self, guid: Guid, name: &str) {
        let names = Rc::make_mut(&mut self.node_names);
        match known::clean_name(name) {
            Some(name) => names.insert(guid, name),
            None => names.remove(&guid),
        };
        self.refresh_nodes();
        self.refresh_chart_rows();
    }

    /// Adds the known nodes of an exported file (renaming those it names).
    pub(super) fn import_nodes(&mut self, text: &str) {
        match known::from_json(text) {
            Ok((names, bad)) => {
                let n = names.len();
                Rc::make_mut(&mut self.node_names).extend(names);
                self.refresh_nodes();
                self.refresh_chart_rows();
                let skipped = if bad > 0 {
                    format!(", {bad} entries without a GUID or a name skipped")
                } else {
                    String::new()
                };
                self.say(
                    if bad > 0 { Level::Warning } else { Level::Info },
                    Topic::Other,
                    format!("known nodes: {n} imported{skipped}"),
                );
            }
            Err(e) => self.notice(e),
        }
    }
}
