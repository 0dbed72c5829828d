//! The register editor of one node: what was read (every page visited), the user's edits not
//! yet written, the writes done (each checked by the node's answer, and undoable), and the
//! register session that does the talking.

use std::{collections::BTreeMap, rc::Rc};

use serde::{Deserialize, Serialize};
use vscp_core::{
    Event, Guid, Millis,
    mdf::{DmRow, Mdf, RemoteVar, VarValue},
    register_session::{
        RegisterConfig, RegisterOutput, RegisterRequest, RegisterSession, RegisterStats,
    },
    registers::{StandardRegisters, Target},
};

/// A register address: page and register.
pub type Addr = (u16, u8);

/// A write that was answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WriteResult {
    /// Where.
    pub addr: Addr,
    /// The value before (if it had been read).
    pub before: Option<u8>,
    /// The value asked for.
    pub wanted: u8,
    /// The value the node reports after the write.
    pub got: u8,
}

impl WriteResult {
    /// The node took the value.
    #[must_use]
    pub fn ok(&self) -> bool {
        self.wanted == self.got
    }
}

/// The editor of one node.
#[derive(Clone, Debug, PartialEq)]
pub struct RegisterEditor {
    /// The node.
    pub node: Guid,
    /// A Level II node (CLASS2.PROTOCOL, 32-bit addresses)?
    pub level2: bool,
    /// The page shown.
    pub page: u16,
    /// Values read (or answered by writes).
    pub values: BTreeMap<Addr, u8>,
    /// Edits not yet written.
    pub edits: BTreeMap<Addr, u8>,
    /// Answered writes, oldest first (the undo history).
    pub writes: Vec<WriteResult>,
    /// Registers whose read failed after every try.
    pub failed: BTreeMap<Addr, u8>,
    /// Cells holding text that is not a byte: the text and why.
    pub invalid: BTreeMap<Addr, (String, String)>,
    /// Cells being typed in, as typed (kept while values arrive; taken in on change).
    pub typed: BTreeMap<Addr, String>,
    /// When the current batch started and, once idle, how long it took (ms).
    pub batch: Option<(u64, Option<u64>)>,
    /// The node's module description, once loaded.
    pub mdf: Option<Rc<Mdf>>,
    session: RegisterSession,
}

/// What the user does in the register editor.
#[derive(Clone, Debug, PartialEq)]
pub enum RegisterAction {
    /// Read all 256 registers of this page.
    ReadPage(u16),
    /// Text being typed in a cell of the shown page (kept as typed until the change).
    TypeRegister {
        /// Register.
        reg: u8,
        /// Text typed so far.
        text: String,
    },
    /// Set an edit: register of the shown page, text as typed, hex or decimal.
    EditRegister {
        /// Register.
        reg: u8,
        /// Text typed.
        text: String,
        /// The grid shows hex.
        hex: bool,
    },
    /// Write every edit.
    WriteRegisters,
    /// Forget the edits.
    DiscardEdits,
    /// Write back what the newest write replaced.
    UndoWrite,
    /// Stop the reads and writes on their way.
    CancelRegisters,
    /// Load a saved register file as edits.
    LoadRegisters(String),
    /// A module description file for the open node (XML or JSON text).
    LoadMdf(String),
    /// Set a remote variable (index into the MDF's list) from text.
    EditVar(usize, String),
    /// Set a bit field (register, the MDF register's bit field index, value).
    EditBits {
        /// Page and register.
        addr: (u16, u8),
        /// Index of the bit field in the MDF register.
        field: usize,
        /// Its new value.
        value: u8,
    },
    /// Change one field of a decision matrix row.
    EditDm(u16, DmField, String),
}

/// A field of a decision matrix row the user can change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DmField {
    /// Enabled (`true`/`false`).
    Enabled,
    /// Origin nickname.
    Origin,
    /// Class filter.
    ClassFilter,
    /// Class mask.
    ClassMask,
    /// Type filter.
    TypeFilter,
    /// Type mask.
    TypeMask,
    /// Action code.
    Action,
    /// Action parameter.
    Param,
}

/// Addresses and values in the saved JSON form.
#[derive(Serialize, Deserialize)]
struct Saved {
    guid: String,
    /// `"page:register"` (decimal) → value.
    registers: BTreeMap<String, u8>,
}

impl RegisterEditor {
    /// An editor for `node`: a Level I node behind the interface its GUID names, or (`level2`)
    /// a Level II node with its 32-bit register space (64 registers a request).
    #[must_use]
    pub fn new(node: Guid, level2: bool) -> RegisterEditor {
        let session = if level2 {
            let config = RegisterConfig {
                chunk: 64,
                ..RegisterConfig::default()
            };
            RegisterSession::level2(node, config)
        } else {
            let target = Target {
                interface: Some(node.with_nickname(0)),
                nickname: node.nickname(),
            };
            RegisterSession::new(target, RegisterConfig::default())
        };
        RegisterEditor {
            level2,
            node,
            page: 0,
            values: BTreeMap::new(),
            edits: BTreeMap::new(),
            writes: Vec::new(),
            failed: BTreeMap::new(),
            invalid: BTreeMap::new(),
            typed: BTreeMap::new(),
            batch: None,
            mdf: None,
            session,
        }
    }

    /// Reads `count` registers from `first` on the shown page.
    pub fn read(&mut self, first: u8, count: u16, now: Millis) {
        self.start_batch(now);
        for r in u16::from(first)..(u16::from(first) + count).min(256) {
            self.failed.remove(&(self.page, r as u8));
        }
        self.session.read(self.page, first, count, now);
    }

    /// Sets (or, when equal to the value read, clears) an edit.
    /// Applies what the user did in the editor: `Ok(Some(news))` for something to tell,
    /// `Err` for what went wrong.
    pub fn apply(&mut self, action: RegisterAction, now: Millis) -> Result<Option<String>, String> {
        let mut news = None;
        let problem = match action {
            RegisterAction::ReadPage(page) => {
                self.page = page;
                self.read(0, 256, now);
                None
            }
            RegisterAction::TypeRegister { reg, text } => {
                self.typed.insert((self.page, reg), text);
                None
            }
            RegisterAction::EditRegister { reg, text, hex } => {
                // a value that is not a byte is marked in the grid itself, not in a notice
                self.typed.remove(&(self.page, reg));
                self.edit_text((self.page, reg), &text, hex);
                None
            }
            RegisterAction::WriteRegisters => {
                self.write_edits(now);
                None
            }
            RegisterAction::DiscardEdits => {
                self.edits.clear();
                self.invalid.clear();
                self.typed.clear();
                None
            }
            RegisterAction::UndoWrite => self.undo(now).err(),
            RegisterAction::CancelRegisters => {
                let n = self.cancel(now);
                news = Some(format!("registers: {n} requests cancelled"));
                None
            }
            RegisterAction::LoadMdf(text) => match vscp_core::mdf::Mdf::parse(&text) {
                Ok(m) => {
                    let note = format!(
                        "MDF {:?} loaded: {} registers, {} remote variables{}",
                        m.name,
                        m.registers.len(),
                        m.remote_vars.len(),
                        if m.dmatrix.is_some() {
                            ", a decision matrix"
                        } else {
                            ""
                        }
                    );
                    self.mdf = Some(Rc::new(m));
                    news = Some(note);
                    None
                }
                Err(e) => Some(format!("MDF not loaded: {e}")),
            },
            RegisterAction::EditVar(i, text) => self.edit_var(i, &text).err(),
            RegisterAction::EditBits { addr, field, value } => {
                let bit = self
                    .mdf
                    .as_ref()
                    .and_then(|m| m.register(addr.0, u32::from(addr.1)))
                    .and_then(|reg| reg.bits.get(field))
                    .cloned();
                match bit {
                    Some(bit) => {
                        self.edit_bits(addr, &bit, value);
                        None
                    }
                    None => Some("no such bit field".into()),
                }
            }
            RegisterAction::EditDm(row, field, text) => self.edit_dm(row, field, &text).err(),
            RegisterAction::LoadRegisters(text) => match self.load_json(&text) {
                Ok(n) => {
                    news = Some(format!(
                        "register file loaded: {n} registers differ — review and write"
                    ));
                    None
                }
                Err(e) => Some(e),
            },
        };
        match problem {
            Some(p) => Err(p),
            None => Ok(news),
        }
    }

    /// Takes what the user typed in a cell: a byte is an edit, anything else is kept and
    /// marked invalid (an empty cell drops the edit).
    pub fn edit_text(&mut self, addr: Addr, text: &str, hex: bool) {
        self.invalid.remove(&addr);
        if text.trim().is_empty() {
            self.edits.remove(&addr);
            return;
        }
        match parse_value(text, hex) {
            Ok(v) => self.edit(addr, v),
            Err(why) => {
                self.edits.remove(&addr);
                self.invalid.insert(addr, (text.to_string(), why));
            }
        }
    }

    /// Takes a byte for a cell (dropping the edit when it is the value read).
    pub fn edit(&mut self, addr: Addr, value: u8) {
        if self.values.get(&addr) == Some(&value) {
            self.edits.remove(&addr);
        } else {
            self.edits.insert(addr, value);
        }
    }

    /// Writes every edit; each answer is checked and kept for undo.
    pub fn write_edits(&mut self, now: Millis) {
        self.start_batch(now);
        for ((page, reg), value) in std::mem::take(&mut self.edits) {
            self.session.write(page, reg, value, now);
        }
    }

    /// Writes back the value the newest undoable write replaced.
    pub fn undo(&mut self, now: Millis) -> Result<Addr, String> {
        let i = self
            .writes
            .iter()
            .rposition(|w| w.before.is_some_and(|b| b != w.got))
            .ok_or("nothing to undo")?;
        let w = self.writes.remove(i);
        let before = w.before.unwrap_or_default();
        self.start_batch(now);
        self.session.write(w.addr.0, w.addr.1, before, now);
        Ok(w.addr)
    }

    /// Stops everything queued or on its way; returns how many requests were dropped.
    pub fn cancel(&mut self, now: Millis) -> usize {
        let n = self.session.cancel();
        self.end_batch(now);
        n
    }

    /// An event from the link: a register answer of this node is taken.
    pub fn handle_event(&mut self, event: &Event, now: Millis) -> bool {
        self.session.handle_event(event, now)
    }

    /// Runs the session's time-outs when due.
    pub fn handle_timeout(&mut self, now: Millis) {
        if self.session.poll_timeout().is_some_and(|t| t <= now) {
            self.session.handle_timeout(now);
        }
    }

    /// The next event to SEND; values, writes and failures are taken in on the way.
    pub fn next_send(&mut self, now: Millis) -> Option<Event> {
        while let Some(out) = self.session.poll_output() {
            match out {
                RegisterOutput::Send(ev) => return Some(ev),
                RegisterOutput::Value { page, reg, value } => {
                    self.values.insert((page, reg), value);
                }
                RegisterOutput::Written {
                    page,
                    reg,
                    wanted,
                    value,
                } => {
                    let before = self.values.insert((page, reg), value);
                    self.writes.push(WriteResult {
                        addr: (page, reg),
                        before,
                        wanted,
                        got: value,
                    });
                }
                RegisterOutput::Failed { request, .. } => match request {
                    RegisterRequest::Read { page, reg, count } => {
                        for r in u16::from(reg)..u16::from(reg) + u16::from(count) {
                            self.failed.insert((page, r as u8), 0);
                        }
                    }
                    RegisterRequest::Write { page, reg, value } => {
                        self.failed.insert((page, reg), value);
                    }
                },
            }
        }
        self.end_batch(now);
        None
    }

    /// The session has events to send or answers to take in ([`RegisterEditor::next_send`]).
    #[must_use]
    pub fn has_output(&self) -> bool {
        self.session.has_output()
    }

    /// Requests queued or on their way.
    #[must_use]
    pub fn pending(&self) -> usize {
        self.session.pending()
    }

    /// Round trips, retries and time-outs.
    #[must_use]
    pub fn stats(&self) -> RegisterStats {
        self.session.stats()
    }

    /// The standard registers, once all of 0x80–0xFF were read.
    #[must_use]
    pub fn standard(&self) -> Option<StandardRegisters> {
        let mut block = [0u8; 128];
        for (i, slot) in block.iter_mut().enumerate() {
            *slot = *self.values.get(&(0, 0x80 + i as u8))?;
        }
        Some(StandardRegisters::decode(&block))
    }

    /// Values and edits of every page as JSON (edits win), for a file.
    #[must_use]
    pub fn to_json(&self) -> String {
        let mut all = self.values.clone();
        all.extend(self.edits.iter().map(|(a, v)| (*a, *v)));
        let saved = Saved {
            guid: self.node.to_string(),
            registers: all
                .into_iter()
                .map(|((p, r), v)| (format!("{p}:{r}"), v))
                .collect(),
        };
        serde_json::to_string_pretty(&saved).unwrap_or_default()
    }

    /// Loads a saved file as edits (only registers 0x00–0x7F: the standard block is the
    /// node's own); returns how many differ from what was read.
    pub fn load_json(&mut self, text: &str) -> Result<usize, String> {
        let saved: Saved =
            serde_json::from_str(text).map_err(|e| format!("not a register file: {e}"))?;
        let mut changed = 0;
        for (key, value) in saved.registers {
            let addr = key
                .split_once(':')
                .and_then(|(p, r)| Some((p.parse::<u16>().ok()?, r.parse::<u8>().ok()?)))
                .ok_or_else(|| format!("not a register address: {key:?}"))?;
            if addr.1 < 0x80 && self.values.get(&addr) != Some(&value) {
                self.edits.insert(addr, value);
                changed += 1;
            }
        }
        Ok(changed)
    }

    /// A register as it will be: the edit, else the value read.
    #[must_use]
    pub fn current(&self, addr: Addr) -> Option<u8> {
        self.edits
            .get(&addr)
            .or_else(|| self.values.get(&addr))
            .copied()
    }

    /// The registers of a remote variable (page, register), first to last.
    fn var_addrs(var: &RemoteVar) -> Vec<Addr> {
        (0..u32::from(var.len()))
            .filter_map(|i| u8::try_from(var.offset + i).ok().map(|r| (var.page, r)))
            .collect()
    }

    /// A remote variable's value as it will be, once all its registers are known.
    #[must_use]
    pub fn var_value(&self, var: &RemoteVar) -> Option<VarValue> {
        let addrs = Self::var_addrs(var);
        if addrs.len() != usize::from(var.len()) {
            return None;
        }
        let bytes: Option<Vec<u8>> = addrs.iter().map(|a| self.current(*a)).collect();
        var.decode(&bytes?)
    }

    /// Sets a remote variable (the `index`-th of the MDF) from text: its registers become edits.
    pub fn edit_var(&mut self, index: usize, text: &str) -> Result<(), String> {
        let var = self
            .mdf
            .as_ref()
            .and_then(|m| m.remote_vars.get(index))
            .cloned()
            .ok_or("no such remote variable")?;
        if !var.access.writable() {
            return Err(format!("{} is read-only", var.name));
        }
        let addrs = Self::var_addrs(&var);
        if addrs.len() != usize::from(var.len()) {
            return Err(format!("{} lies beyond register 0xFF", var.name));
        }
        let current: Vec<u8> = addrs
            .iter()
            .map(|a| self.current(*a).unwrap_or(0))
            .collect();
        let bytes = var
            .encode(text, &current)
            .map_err(|e| format!("{}: {e}", var.name))?;
        for (addr, b) in addrs.into_iter().zip(bytes) {
            self.edit(addr, b);
        }
        Ok(())
    }

    /// Sets bits `pos..pos+width` of a register (a bit field) to `value`.
    pub fn edit_bits(&mut self, addr: Addr, field: &vscp_core::mdf::BitField, value: u8) {
        let byte = self.current(addr).unwrap_or(0);
        self.edit(addr, field.set(byte, value));
    }

    /// The decision matrix rows (row number, start register, the row if all 8 bytes are known).
    #[must_use]
    pub fn dm_rows(&self) -> Vec<(u16, Addr, Option<DmRow>)> {
        let Some(dm) = self.mdf.as_ref().and_then(|m| m.dmatrix.as_ref()) else {
            return Vec::new();
        };
        (0..dm.rows.min(32))
            .filter_map(|row| {
                let start = dm.offset + u32::from(row) * u32::from(dm.row_size);
                let reg = u8::try_from(start)
                    .ok()
                    .filter(|r| u32::from(*r) + 7 <= 0xFF)?;
                let mut b = [0u8; 8];
                let known = (0..8u8).all(|i| {
                    self.current((dm.page, reg + i))
                        .map(|v| b[usize::from(i)] = v)
                        .is_some()
                });
                Some((row, (dm.page, reg), known.then(|| DmRow::decode(b))))
            })
            .collect()
    }

    /// Changes one field of a decision matrix row: its bytes become edits.
    pub fn edit_dm(&mut self, row: u16, field: DmField, text: &str) -> Result<(), String> {
        let (_, (page, reg), known) = self
            .dm_rows()
            .into_iter()
            .find(|(r, ..)| *r == row)
            .ok_or("no such decision matrix row")?;
        let mut r = known.ok_or("read the row first")?;
        let byte = || parse_value(text, false);
        match field {
            DmField::Enabled => r.enabled = text == "true",
            DmField::Origin => r.origin = byte()?,
            DmField::ClassFilter | DmField::ClassMask => {
                let v: u16 = text
                    .trim()
                    .parse()
                    .ok()
                    .filter(|v| *v < 512)
                    .ok_or_else(|| format!("{text:?} is not a class (0–511)"))?;
                if field == DmField::ClassFilter {
                    r.class_filter = v;
                } else {
                    r.class_mask = v;
                }
            }
            DmField::TypeFilter => r.type_filter = byte()?,
            DmField::TypeMask => r.type_mask = byte()?,
            DmField::Action => r.action = byte()?,
            DmField::Param => r.param = byte()?,
        }
        for (i, b) in r.encode().into_iter().enumerate() {
            self.edit((page, reg + i as u8), b);
        }
        Ok(())
    }

    /// Once nothing is queued or on its way, the batch's time is known.
    fn end_batch(&mut self, now: Millis) {
        if let Some((start, done @ None)) = &mut self.batch
            && self.session.is_idle()
        {
            *done = Some(now.0.saturating_sub(*start));
        }
    }

    fn start_batch(&mut self, now: Millis) {
        if self.session.is_idle() {
            self.batch = Some((now.0, None));
        }
    }
}

/// Reads a cell's text: hex (`1F`, `0x1F`) or decimal.
pub fn parse_value(text: &str, hex: bool) -> Result<u8, String> {
    let t = text.trim();
    let (digits, radix) = match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(h) => (h, 16),
        None if hex => (t, 16),
        None => (t, 10),
    };
    u8::from_str_radix(digits, radix).map_err(|_| format!("{t:?} is not a register value (0–255)"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn typed_text_is_kept_until_the_change_then_checked() {
        let node = Guid([0xFF; 16]);
        let mut e = RegisterEditor::new(node, false);
        let now = Millis(0);
        let typed = |text: &str| RegisterAction::TypeRegister {
            reg: 0x10,
            text: text.into(),
        };
        assert_eq!(e.apply(typed("z"), now), Ok(None));
        assert_eq!(e.apply(typed("zz"), now), Ok(None));
        assert_eq!(e.typed.get(&(0, 0x10)).map(String::as_str), Some("zz"));
        let change = RegisterAction::EditRegister {
            reg: 0x10,
            text: "zz".into(),
            hex: true,
        };
        assert_eq!(e.apply(change, now), Ok(None));
        assert!(e.typed.is_empty() && e.invalid.contains_key(&(0, 0x10)));
        let change = RegisterAction::EditRegister {
            reg: 0x10,
            text: "1f".into(),
            hex: true,
        };
        e.apply(change, now).unwrap();
        assert_eq!((e.invalid.len(), e.edits.get(&(0, 0x10))), (0, Some(&0x1F)));
    }

    use super::*;

    #[test]
    fn values_parse_in_both_bases() {
        assert_eq!(parse_value("1F", true), Ok(31));
        assert_eq!(parse_value("0x1f", false), Ok(31));
        assert_eq!(parse_value(" 200 ", false), Ok(200));
        assert!(parse_value("256", false).is_err());
        assert!(parse_value("zz", true).is_err());
    }

    #[test]
    fn saved_files_round_trip_as_edits() {
        let g: Guid = "FF:FF:FF:FF:FF:FF:FF:F5:00:01:00:00:00:00:00:02"
            .parse()
            .unwrap();
        let mut e = RegisterEditor::new(g, false);
        e.values.insert((0, 0), 3);
        e.values.insert((0, 0x91), 2);
        e.edit((0, 1), 9);
        let json = e.to_json();
        let mut f = RegisterEditor::new(g, false);
        f.values.insert((0, 0), 3);
        assert_eq!(f.load_json(&json), Ok(1));
        assert_eq!(f.edits, BTreeMap::from([((0, 1), 9)]));
        assert!(f.load_json("{}").is_err());
        assert!(f.load_json(r#"{"guid":"-","registers":{"x":1}}"#).is_err());
    }

    #[test]
    fn remote_variables_bits_and_decision_matrix_become_edits() {
        let mdf = vscp_core::mdf::Mdf::parse(
            r#"<vscp><module><name>t</name>
              <registers><reg page="0" offset="6"><name>opts</name><bit pos="1" width="2" name="f"/></reg></registers>
              <remotevars><remotevar name="thr" type="int16_t" page="0" offset="4"/>
                <remotevar name="ro" type="uint8_t" page="0" offset="7" access="r"/></remotevars>
              <dmatrix><start page="0" offset="0x20"/><rowcnt>2</rowcnt><action code="1" name="on"/></dmatrix>
            </module></vscp>"#,
        )
        .unwrap();
        let mut e = RegisterEditor::new(Guid([7; 16]), false);
        for r in 0..=0x2Fu8 {
            e.values.insert((0, r), 0);
        }
        e.mdf = Some(Rc::new(mdf));
        assert_eq!(e.edit_var(0, "-15"), Ok(()));
        assert_eq!(
            (e.edits.get(&(0, 4)), e.edits.get(&(0, 5))),
            (Some(&0xFF), Some(&0xF1))
        );
        let thr = e.mdf.as_ref().unwrap().remote_vars[0].clone();
        assert_eq!(e.var_value(&thr), Some(VarValue::Int(-15)));
        assert!(e.edit_var(0, "99999").is_err());
        assert!(e.edit_var(1, "3").unwrap_err().contains("read-only"));
        let bit = e.mdf.as_ref().unwrap().registers[0].bits[0].clone();
        e.edit_bits((0, 6), &bit, 3);
        assert_eq!(e.edits.get(&(0, 6)), Some(&0b110));
        let rows = e.dm_rows();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1].1, (0, 0x28));
        e.edit_dm(1, DmField::Action, "1").unwrap();
        e.edit_dm(1, DmField::Enabled, "true").unwrap();
        e.edit_dm(1, DmField::ClassFilter, "30").unwrap();
        assert!(e.edit_dm(1, DmField::ClassMask, "600").is_err());
        assert_eq!(
            e.dm_rows()[1]
                .2
                .map(|r| (r.enabled, r.action, r.class_filter)),
            Some((true, 1, 30))
        );
        assert_eq!(
            (e.edits.get(&(0, 0x29)), e.edits.get(&(0, 0x2E))),
            (Some(&0x80), Some(&1))
        );
    }
}
