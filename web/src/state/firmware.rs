//! The firmware wizard of one node: choose a HEX file, see the plan (checked against the
//! node's standard registers), upload with vscp-core's bootloader session, watch progress,
//! abort, and see the version the node reports afterwards.

use std::rc::Rc;

use vscp_core::{
    Command, Event, Guid, Millis,
    bootloader::{
        BootConfig, BootOutput, BootSession, Expect, Identity, Plan, Progress, parse_device_code,
        parse_version, plan,
    },
    firmware::Image,
    mdf::{FirmwareFile, Mdf},
    registers::{RegisterReply, StandardRegisters, Target},
};

use super::{Console, Level, Purpose, RegisterEditor, Topic};

/// What the wizard is at.
#[derive(Clone, Debug, PartialEq)]
pub enum Phase {
    /// Reading the node's standard registers.
    Reading,
    /// Waiting for a file (or a usable one).
    Choose,
    /// Checked: ready to start.
    Ready(Plan),
    /// The file or the node does not fit: nothing will be written.
    Refused(String),
    /// Uploading.
    Uploading,
    /// Abort asked.
    Aborting,
    /// Activated; reading the version back.
    Checking,
    /// Done: the version the node reports now.
    Done((u8, u8, u8)),
    /// Failed (the node stays in its bootloader).
    Failed(String),
    /// Aborted; the node confirmed it (else it stays in its bootloader).
    Aborted(bool),
}

/// Something the user does in the wizard.
#[derive(Clone, Debug, PartialEq)]
pub enum FirmwareAction {
    /// Open the wizard for a node.
    Open(Guid),
    /// Close it (only when nothing runs).
    Close,
    /// A file was chosen: its name and text.
    File(String, String),
    /// The image's device code as typed (hex with 0x, or decimal; empty: unknown).
    DeviceCode(String),
    /// The image's version as typed (`MAJOR.MINOR.BUILD`; empty: unknown).
    Version(String),
    /// The node's MDF (for its firmware list), or why it could not be had.
    Mdf(Result<String, String>),
    /// Start the upload.
    Start,
    /// Abort it.
    Abort,
}

/// The wizard.
#[derive(Clone, Debug, PartialEq)]
pub struct Firmware {
    /// The node.
    pub node: Guid,
    /// The chosen file's name.
    pub file: Option<String>,
    image: Option<Image>,
    /// Device code and version as typed.
    pub device_code: String,
    /// The image's version as typed.
    pub version: String,
    /// The firmware files the node's MDF lists, or why there are none.
    pub listed: Option<Result<Vec<FirmwareFile>, String>>,
    /// The listed file the chosen one matched (by file name): its code and version were taken.
    pub matched: Option<String>,
    reader: Option<RegisterEditor>,
    /// The node's standard registers (before the upload).
    pub standard: Option<StandardRegisters>,
    session: Option<BootSession>,
    /// Where it is.
    pub phase: Phase,
    /// Progress of the upload.
    pub progress: Progress,
    /// When the upload started, and the last progress time, ms.
    pub started: u64,
    /// Now, as of the last action, ms.
    pub now: u64,
}

impl Firmware {
    fn new(node: Guid, now: Millis) -> Firmware {
        let mut reader = RegisterEditor::new(node, false);
        reader.read(0x80, 128, now);
        Firmware {
            node,
            file: None,
            image: None,
            device_code: String::new(),
            version: String::new(),
            listed: None,
            matched: None,
            reader: Some(reader),
            standard: None,
            session: None,
            phase: Phase::Reading,
            progress: Progress::default(),
            started: now.0,
            now: now.0,
        }
    }

    /// Bytes per second so far, and ms left at that rate.
    #[must_use]
    pub fn rate(&self) -> Option<(f64, u64)> {
        let secs = self.now.saturating_sub(self.started) as f64 / 1000.0;
        let done = self.progress.bytes_done as f64;
        (secs > 0.0 && done > 0.0).then(|| {
            let rate = done / secs;
            let left = self
                .progress
                .bytes_total
                .saturating_sub(self.progress.bytes_done) as f64;
            (rate, (left / rate * 1000.0) as u64)
        })
    }

    /// Is something running (the wizard cannot close, the connection is needed)?
    #[must_use]
    pub fn busy(&self) -> bool {
        matches!(
            self.phase,
            Phase::Uploading | Phase::Aborting | Phase::Checking | Phase::Reading
        )
    }

    /// Can an upload start (checked plan; also again after a failure, an abort or an upload)?
    #[must_use]
    pub fn can_start(&self) -> bool {
        let again = matches!(
            self.phase,
            Phase::Failed(_) | Phase::Aborted(_) | Phase::Done(_)
        );
        (matches!(self.phase, Phase::Ready(_)) || again) && self.checked_plan().is_ok()
    }

    fn checked_plan(&self) -> Result<Plan, String> {
        let (Some(std), Some(image)) = (&self.standard, &self.image) else {
            return Err("no file or no registers".into());
        };
        self.expect()
            .and_then(|e| plan(std, image, &e).map_err(|e| e.to_string()))
    }

    fn expect(&self) -> Result<Expect, String> {
        let given = |t: &str| (!t.trim().is_empty()).then(|| t.to_string());
        Ok(Expect {
            device_code: given(&self.device_code)
                .map(|t| parse_device_code(&t))
                .transpose()?,
            version: given(&self.version)
                .map(|t| parse_version(&t))
                .transpose()?,
        })
    }

    /// The plan from what is known now (not while something runs).
    fn replan(&mut self) {
        if self.busy() && self.phase != Phase::Reading {
            return;
        }
        if self.standard.is_none() || self.image.is_none() {
            if self.standard.is_some() && !matches!(self.phase, Phase::Refused(_)) {
                self.phase = Phase::Choose;
            }
            return;
        }
        self.phase = match self.checked_plan() {
            Ok(p) => Phase::Ready(p),
            Err(e) => Phase::Refused(e),
        };
    }

    /// A chosen file the MDF lists: its device code and version are taken (fields the user
    /// typed stay).
    fn match_listed(&mut self) {
        let (Some(Ok(list)), Some(file)) = (&self.listed, &self.file) else {
            return;
        };
        let Some(fw) = list.iter().find(|f| f.file_name() == file.as_str()) else {
            self.matched = None;
            return;
        };
        if let (Some(code), true) = (fw.target_code, self.device_code.trim().is_empty()) {
            self.device_code = format!("0x{code:04X}");
        }
        if let (Some((a, b, c)), true) = (fw.version, self.version.trim().is_empty()) {
            self.version = format!("{a}.{b}.{c}");
        }
        self.matched = Some(fw.name.clone());
        self.replan();
    }

    fn target(&self) -> Target {
        Target {
            interface: Some(self.node.with_nickname(0)),
            nickname: self.node.nickname(),
        }
    }

    /// Events to send now; takes in what the reader and the session said.
    fn pump(&mut self, now: Millis) -> Vec<Event> {
        self.now = now.0;
        let mut sends = Vec::new();
        if let Some(r) = self.reader.as_mut() {
            while let Some(ev) = r.next_send(now) {
                sends.push(ev);
            }
            if r.pending() == 0 {
                let std = r.standard();
                self.reader = None;
                match (&self.phase, std) {
                    (Phase::Checking, Some(s)) => {
                        self.phase = Phase::Done(s.firmware);
                        self.standard = Some(s);
                    }
                    (Phase::Checking, None) => {
                        self.phase = Phase::Failed(
                            "uploaded and activated, but the node did not answer afterwards".into(),
                        );
                    }
                    (_, Some(s)) => {
                        self.standard = Some(s);
                        self.phase = Phase::Choose;
                        self.replan();
                    }
                    (_, None) => {
                        self.phase = Phase::Refused(
                            "the node's standard registers could not be read".into(),
                        );
                    }
                }
            }
        }
        let mut ended = None;
        if let Some(s) = self.session.as_mut() {
            while let Some(o) = s.poll_output() {
                match o {
                    BootOutput::Send(ev) => sends.push(ev),
                    BootOutput::Entered { .. } | BootOutput::Programmed(_) => {}
                    end => ended = Some(end),
                }
            }
            self.progress = s.progress();
        }
        if let Some(end) = ended {
            self.session = None;
            self.phase = match end {
                BootOutput::Done { .. } => {
                    // the node starts again with the new image: its version read back
                    let mut reader = RegisterEditor::new(self.node, false);
                    reader.read(0x80, 128, now);
                    self.reader = Some(reader);
                    Phase::Checking
                }
                BootOutput::Failed(e) => Phase::Failed(format!(
                    "{e}. The node stays in its bootloader: start again."
                )),
                BootOutput::Aborted { acknowledged } => Phase::Aborted(acknowledged),
                _ => Phase::Failed("the upload ended unexpectedly".into()),
            };
            sends.extend(self.pump(now));
        }
        sends
    }
}

impl Console {
    /// Applies a wizard action.
    pub(super) fn firmware_action(&mut self, action: FirmwareAction, now: Millis) {
        if let FirmwareAction::Open(node) = action {
            if self
                .firmware
                .as_ref()
                .is_some_and(|f| f.busy() && f.phase != Phase::Reading)
            {
                return self.say(
                    Level::Error,
                    Topic::Other,
                    "firmware: an upload is running; abort it first".into(),
                );
            }
            self.firmware = Some(Rc::new(Firmware::new(node, now)));
            return;
        }
        let Some(f) = self.firmware.as_mut() else {
            return;
        };
        let f = Rc::make_mut(f);
        match action {
            FirmwareAction::Open(_) => {}
            FirmwareAction::Close => {
                if !f.busy() || f.phase == Phase::Reading {
                    self.firmware = None;
                }
            }
            FirmwareAction::Mdf(r) => {
                f.listed = Some(
                    r.and_then(|text| Mdf::parse(&text).map_err(|e| e.to_string()))
                        .map(|m| m.firmware),
                );
                f.match_listed();
            }
            FirmwareAction::File(name, text) => {
                f.file = Some(name);
                match Image::from_hex(&text) {
                    Ok(image) => {
                        f.image = Some(image);
                        if !f.busy() {
                            f.phase = Phase::Choose;
                        }
                        f.replan();
                        f.match_listed();
                    }
                    Err(e) => {
                        f.image = None;
                        f.phase = Phase::Refused(format!("not a usable Intel HEX file: {e}"));
                    }
                }
            }
            FirmwareAction::DeviceCode(t) => {
                f.device_code = t;
                f.replan();
            }
            FirmwareAction::Version(t) => {
                f.version = t;
                f.replan();
            }
            FirmwareAction::Start => {
                if let (true, Some(std), Some(image)) = (f.can_start(), &f.standard, &f.image) {
                    let identity = Identity {
                        guid: std.guid,
                        page: std.page,
                    };
                    let session = BootSession::new(
                        f.target(),
                        identity,
                        image.clone(),
                        BootConfig::default(),
                        now,
                    );
                    f.session = Some(session);
                    f.progress = Progress::default();
                    f.started = now.0;
                    f.phase = Phase::Uploading;
                }
            }
            FirmwareAction::Abort => {
                if let Some(s) = f.session.as_mut() {
                    s.abort(now);
                    f.phase = Phase::Aborting;
                }
            }
        }
    }

    /// The node's answers for the wizard.
    pub(super) fn answer_for_firmware(&mut self, event: &Event, now: Millis) {
        let Some(f) = self.firmware.as_mut() else {
            return;
        };
        // the bootloader's answers and register pages are CLASS1.PROTOCOL (or its 512 mirror)
        let protocol = event
            .as_level1()
            .is_some_and(|e| e.class == vscp_core::registers::CLASS1_PROTOCOL);
        if !protocol || event.guid.nickname() != f.node.nickname() {
            return;
        }
        let f = Rc::make_mut(f);
        if let Some(s) = f.session.as_mut() {
            s.handle_event(event, now);
        }
        if matches!(
            RegisterReply::from_event(event),
            Some(RegisterReply::Page { .. })
        ) && let Some(r) = f.reader.as_mut()
        {
            r.handle_event(event, now);
        }
    }

    /// SENDs what the wizard asks for (after each batch received and each tick).
    pub(super) fn pump_firmware(&mut self, now: Millis) {
        let Some(f) = self.firmware.as_mut() else {
            return;
        };
        let f = Rc::make_mut(f);
        let was_done = matches!(f.phase, Phase::Done(_));
        let sends = f.pump(now);
        // the node table shows the new version
        if !was_done
            && matches!(f.phase, Phase::Done(_))
            && let Some(std) = f.standard.clone()
        {
            let node = f.node;
            self.nodes.standard(node, &std, now.0);
            self.refresh_nodes();
        }
        for ev in sends {
            self.submit(Command::Send(ev), Purpose::Node, now);
        }
    }

    /// Time-outs of the wizard's sessions.
    pub(super) fn firmware_timeouts(&mut self, now: Millis) {
        if let Some(f) = self.firmware.as_mut() {
            let f = Rc::make_mut(f);
            if let Some(s) = f.session.as_mut() {
                s.handle_timeout(now);
            }
            if let Some(r) = f.reader.as_mut() {
                r.handle_timeout(now);
            }
        }
    }

    /// The connection ended: an upload cannot go on.
    pub(super) fn firmware_lost(&mut self) {
        if let Some(f) = self.firmware.as_mut()
            && f.busy()
        {
            let f = Rc::make_mut(f);
            f.session = None;
            f.reader = None;
            f.phase = Phase::Failed(
                "the connection was lost during the upload; the node stays in its bootloader: reconnect and start again"
                    .into(),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use vscp_core::bootloader::BootDevice;

    use super::super::{
        Action,
        tests::{streaming, take_sent},
    };
    use super::*;

    const NODE: &str = "FF:FF:FF:FF:FF:FF:FF:F5:00:01:00:00:00:00:00:01";

    /// A server with node 1 behind its interface: standard registers and a bootloader.
    struct Node {
        regs: [u8; 256],
        boot: BootDevice,
    }

    impl Node {
        fn new() -> Node {
            let guid: Guid = NODE.parse().unwrap();
            let mut regs = [0u8; 256];
            regs[0x94..0x97].copy_from_slice(&[1, 2, 3]);
            regs[0xA3..0xA5].copy_from_slice(&[0x10, 0x01]);
            regs[0xD0..0xE0].copy_from_slice(&guid.0);
            Node {
                regs,
                boot: BootDevice::new(64, 64),
            }
        }

        /// Answers everything the console sent, until it sends nothing more.
        fn serve(&mut self, c: &mut Console, t: &mut u64) {
            use vscp_core::registers::kind;
            let guid: Guid = NODE.parse().unwrap();
            // events reach the console in its receive loop: after RCVLOOP's reply
            let mut events: Vec<String> = Vec::new();
            while let Some(sent) = take_sent(c) {
                for line in sent.lines() {
                    *t += 1;
                    let mut replies = vec!["+OK".to_string()];
                    if line == "VERS" {
                        replies.insert(0, "1,0,0,0".into());
                    }
                    if line == "RCVLOOP" {
                        replies.append(&mut events);
                    }
                    if let Some(ev) = line.strip_prefix("SEND ") {
                        let ev: Event = ev.parse().unwrap();
                        let (_, l1) = ev.level1_from_level2().unwrap();
                        let answers = match (l1.kind, l1.data.as_slice()) {
                            (kind::EXTENDED_PAGE_READ, [_, hi, lo, reg, count]) => self.regs
                                [usize::from(*reg)..usize::from(*reg) + usize::from(*count)]
                                .chunks(4)
                                .enumerate()
                                .map(|(i, chunk)| {
                                    let mut d = vec![i as u8, *hi, *lo, reg + 4 * i as u8];
                                    d.extend_from_slice(chunk);
                                    (kind::EXTENDED_PAGE_RESPONSE, d)
                                })
                                .collect(),
                            (12, d) => self.boot.enter(d, &guid, 0),
                            (k, d) => {
                                let a = self.boot.handle(k, d);
                                if k == 22 && !self.boot.is_active() {
                                    let v = self.boot.read(0, 0, 3);
                                    self.regs[0x94..0x97].copy_from_slice(&v);
                                }
                                a
                            }
                        };
                        events.extend(answers.into_iter().map(|(k, data)| {
                            Event {
                                guid,
                                data,
                                ..Event::new(0, k)
                            }
                            .to_string()
                        }));
                    }
                    c.apply(Millis(*t), Action::Message(replies.join("\n")));
                }
            }
        }
    }

    fn hex(data: &[u8]) -> String {
        let mut out = String::new();
        for (i, chunk) in data.chunks(16).enumerate() {
            let addr = (i * 16) as u16;
            let mut b = vec![chunk.len() as u8, (addr >> 8) as u8, addr as u8, 0];
            b.extend(chunk);
            let sum = b.iter().fold(0u8, |s, x| s.wrapping_add(*x)).wrapping_neg();
            let text: String = b.iter().map(|x| format!("{x:02X}")).collect();
            out.push_str(&format!(":{text}{sum:02X}\n"));
        }
        out + ":00000001FF\n"
    }

    fn phase(c: &Console) -> Phase {
        c.firmware.as_ref().unwrap().phase.clone()
    }

    #[test]
    fn the_wizard_plans_uploads_and_reads_the_version_back() {
        let mut c = streaming();
        c.apply(Millis(6), Action::Message("+OK".into())); // RCVLOOP
        let (mut node, mut t) = (Node::new(), 10);
        let guid: Guid = NODE.parse().unwrap();
        c.apply(Millis(t), Action::Firmware(FirmwareAction::Open(guid)));
        node.serve(&mut c, &mut t);
        assert_eq!(phase(&c), Phase::Choose);
        let mut image = vec![9, 8, 7];
        image.extend((0..1000u32).map(|i| i as u8));
        // the MDF lists the file: its device code and version are taken
        let mdf = r#"<vscp><module><name>m</name><files><firmware name="nine" targetcode="0x1001"
            url="https://e.com/fw-9.8.7.hex" version_major="9" version_minor="8" version_subminor="7"/>
            </files></module></vscp>"#;
        c.apply(
            Millis(t),
            Action::Firmware(FirmwareAction::Mdf(Ok(mdf.into()))),
        );
        let file = FirmwareAction::File("fw-9.8.7.hex".into(), hex(&image));
        c.apply(Millis(t), Action::Firmware(file));
        let f = c.firmware.clone().unwrap();
        assert_eq!(
            (f.device_code.as_str(), f.version.as_str()),
            ("0x1001", "9.8.7")
        );
        assert_eq!(f.matched.as_deref(), Some("nine"));
        c.apply(
            Millis(t),
            Action::Firmware(FirmwareAction::DeviceCode("0x1002".into())),
        );
        assert!(matches!(phase(&c), Phase::Refused(why) if why.contains("0x1002")));
        assert!(!c.firmware.as_ref().unwrap().can_start());
        c.apply(
            Millis(t),
            Action::Firmware(FirmwareAction::DeviceCode("0x1001".into())),
        );
        assert!(matches!(phase(&c), Phase::Ready(_)));
        c.apply(Millis(t), Action::Firmware(FirmwareAction::Start));
        node.serve(&mut c, &mut t);
        assert_eq!(phase(&c), Phase::Done((9, 8, 7)));
        assert_eq!(node.boot.read(0, 0, image.len()), image);
        let row = c.node_rows.iter().find(|r| r.guid == guid).unwrap();
        assert_eq!(row.firmware, Some((9, 8, 7)), "the node table shows it");

        // a lost connection during an upload: a clear state, and a way to start again
        c.apply(Millis(t), Action::Firmware(FirmwareAction::Start));
        c.apply(Millis(t), Action::Closed(4003, "node closed".into()));
        assert!(matches!(phase(&c), Phase::Failed(why) if why.contains("start again")));
        assert!(c.firmware.as_ref().unwrap().can_start());
    }
}
