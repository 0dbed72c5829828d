//! Module description files (MDF): what a node's registers mean, its remote variables (typed
//! values stored big endian in registers) and its decision matrix. Both forms are read, XML
//! and JSON; numbers may be decimal, `0x…`, `0o…` or `0b…`; fields may be attributes or child
//! elements. A malformed or oversized file is a typed error, never a panic.

mod tree;
mod value;

use tree::Elem;
pub use tree::MAX_BYTES;
pub use value::{VarType, VarValue};

/// Why a file is not a usable MDF.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MdfError {
    /// Over [`MAX_BYTES`] or too many elements.
    #[error("the file is too large for an MDF")]
    TooLarge,
    /// Nested too deeply.
    #[error("the file nests too deeply for an MDF")]
    TooDeep,
    /// Not well-formed XML.
    #[error("not well-formed XML: {0}")]
    Xml(String),
    /// Not valid JSON.
    #[error("not valid JSON: {0}")]
    Json(String),
    /// No `module` in it.
    #[error("no module is described in the file")]
    NoModule,
    /// A field that must be a number is not.
    #[error("{field} of {what} is not a number: {text:?}")]
    Number {
        /// Which field.
        field: &'static str,
        /// Which item.
        what: String,
        /// The text found.
        text: String,
    },
}

/// Read/write access.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Access {
    /// Read only.
    Read,
    /// Write only.
    Write,
    /// Read and write.
    #[default]
    ReadWrite,
}

impl Access {
    fn parse(text: Option<&str>) -> Access {
        match text.map(str::to_ascii_lowercase).as_deref() {
            Some("r") => Access::Read,
            Some("w") => Access::Write,
            _ => Access::ReadWrite,
        }
    }

    /// May be written.
    #[must_use]
    pub fn writable(self) -> bool {
        self != Access::Read
    }
}

/// One named value of a value list.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ValueItem {
    /// The value.
    pub value: i64,
    /// Its name.
    pub name: String,
    /// Its description.
    pub description: Option<String>,
}

/// A bit field of a register or remote variable.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BitField {
    /// Lowest bit.
    pub pos: u8,
    /// Number of bits.
    pub width: u8,
    /// Name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Named values.
    pub values: Vec<ValueItem>,
}

impl BitField {
    /// This field's value in a byte.
    #[must_use]
    pub fn get(&self, byte: u8) -> u8 {
        (byte >> self.pos.min(7)) & self.mask()
    }

    /// The byte with this field set to `v` (bits beyond the width dropped).
    #[must_use]
    pub fn set(&self, byte: u8, v: u8) -> u8 {
        let shift = self.pos.min(7);
        let mask = self.mask() << shift;
        (byte & !mask) | ((v << shift) & mask)
    }

    fn mask(&self) -> u8 {
        let w = self.width.clamp(1, 8);
        if w >= 8 { 0xFF } else { (1u8 << w) - 1 }
    }
}

/// A register (or a block of `span` registers).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RegisterDef {
    /// Page.
    pub page: u16,
    /// Offset on the page.
    pub offset: u32,
    /// Registers it covers (blocks and decision matrices).
    pub span: u16,
    /// Name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Access.
    pub access: Access,
    /// Lowest valid value.
    pub min: i64,
    /// Highest valid value.
    pub max: i64,
    /// Default value as written in the file.
    pub default: Option<String>,
    /// Named values.
    pub values: Vec<ValueItem>,
    /// Bit fields.
    pub bits: Vec<BitField>,
}

/// A remote variable: a typed value in registers.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RemoteVar {
    /// Name.
    pub name: String,
    /// Type.
    pub kind: VarType,
    /// Page.
    pub page: u16,
    /// Offset of its first (most significant) register.
    pub offset: u32,
    /// Bit of a boolean.
    pub bitpos: u8,
    /// Registers of a string or block.
    pub size: u16,
    /// Access.
    pub access: Access,
    /// Description.
    pub description: Option<String>,
    /// Lowest valid value, if given.
    pub min: Option<f64>,
    /// Highest valid value, if given.
    pub max: Option<f64>,
    /// Named values.
    pub values: Vec<ValueItem>,
    /// Bit fields.
    pub bits: Vec<BitField>,
}

/// An action a decision matrix row can take.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DmAction {
    /// Action code.
    pub code: u8,
    /// Name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Its parameter's name and named values, if described.
    pub param: Option<(String, Vec<ValueItem>)>,
}

/// Where the decision matrix is and what its actions are.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DecisionMatrix {
    /// 1 or 2.
    pub level: u8,
    /// Page of the first row.
    pub page: u16,
    /// Offset of the first row.
    pub offset: u32,
    /// Rows.
    pub rows: u16,
    /// Bytes per row (8 for Level I).
    pub row_size: u16,
    /// Actions.
    pub actions: Vec<DmAction>,
}

/// A module description.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Mdf {
    /// Module name.
    pub name: String,
    /// Model.
    pub model: String,
    /// Version.
    pub version: String,
    /// Description.
    pub description: Option<String>,
    /// Info URL.
    pub info_url: Option<String>,
    /// Manufacturer name.
    pub manufacturer: Option<String>,
    /// Registers.
    pub registers: Vec<RegisterDef>,
    /// Remote variables.
    pub remote_vars: Vec<RemoteVar>,
    /// Decision matrix, if the module has one.
    pub dmatrix: Option<DecisionMatrix>,
    /// Firmware files for the module (`<files><firmware …>`).
    pub firmware: Vec<FirmwareFile>,
}

/// A firmware file an MDF lists: where it is, which device code it is for, its version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FirmwareFile {
    /// Its name.
    pub name: String,
    /// The target (processor) it is built for.
    pub target: String,
    /// The firmware device code it needs the node to have (0xA3/0xA4).
    pub target_code: Option<u16>,
    /// Where to get it (`url`, or the older `path`).
    pub url: String,
    /// `intelhex8`, `intelhex16`, `uf2`, …
    pub format: String,
    /// Its version.
    pub version: Option<(u8, u8, u8)>,
}

impl FirmwareFile {
    /// The file name at the end of its URL.
    #[must_use]
    pub fn file_name(&self) -> &str {
        self.url.rsplit('/').next().unwrap_or(&self.url)
    }
}

fn firmware_from(f: &Elem) -> FirmwareFile {
    let text = |k: &str| f.field(k).unwrap_or_default().to_string();
    let byte = |k: &str| {
        f.field(k)
            .and_then(number)
            .and_then(|v| u8::try_from(v).ok())
    };
    let version = match (
        byte("version_major"),
        byte("version_minor"),
        byte("version_subminor"),
    ) {
        (Some(a), Some(b), c) => Some((a, b, c.unwrap_or(0))),
        _ => None,
    };
    FirmwareFile {
        name: text("name"),
        target: text("target"),
        target_code: f
            .field("targetcode")
            .and_then(number)
            .and_then(|v| u16::try_from(v).ok()),
        url: f
            .field("url")
            .or_else(|| f.field("path"))
            .unwrap_or_default()
            .to_string(),
        format: text("format"),
        version,
    }
}

impl Mdf {
    /// Reads an MDF in XML or JSON form (told apart by the first character).
    pub fn parse(text: &str) -> Result<Mdf, MdfError> {
        if text.len() > MAX_BYTES {
            return Err(MdfError::TooLarge);
        }
        let text = text.trim_start_matches('\u{feff}').trim_start();
        let root = if text.starts_with('{') || text.starts_with('[') {
            tree::from_json(text)?
        } else {
            tree::from_xml(text)?
        };
        let module = root
            .child("module")
            .or_else(|| root.name.eq_ignore_ascii_case("module").then_some(&root))
            .ok_or(MdfError::NoModule)?;
        module_from(module)
    }

    /// The register at `page:offset`, if described (blocks cover their span).
    #[must_use]
    pub fn register(&self, page: u16, offset: u32) -> Option<&RegisterDef> {
        self.registers.iter().find(|r| {
            r.page == page && offset >= r.offset && offset < r.offset + u32::from(r.span.max(1))
        })
    }
}

fn module_from(m: &Elem) -> Result<Mdf, MdfError> {
    let text = |k: &str| m.field(k).unwrap_or_default().to_string();
    let reg_elems: Vec<&Elem> = [items(m, "registers", "reg"), items(m, "register", "reg")]
        .concat()
        .into_iter()
        .chain(m.all("reg"))
        .collect();
    let registers = reg_elems
        .iter()
        .map(|r| register_from(r))
        .collect::<Result<Vec<_>, _>>()?;
    let mut remote_vars = [
        items(m, "remotevars", "remotevar"),
        items(m, "abstractions", "abstraction"),
    ]
    .concat()
    .into_iter()
    .chain(m.all("remotevar"))
    .map(remote_var_from)
    .collect::<Result<Vec<_>, _>>()?;
    // remote variables embedded in a register definition default to its place and name
    for (r, reg) in reg_elems.iter().zip(&registers) {
        if let Some(v) = r.child("remotevar") {
            let mut var = remote_var_from(v)?;
            if v.field("page").is_none() {
                var.page = reg.page;
            }
            if v.field("offset").is_none() {
                var.offset = reg.offset;
            }
            if var.name.is_empty() {
                var.name.clone_from(&reg.name);
            }
            remote_vars.push(var);
        }
    }
    let dmatrix = m.child("dmatrix").map(dmatrix_from).transpose()?;
    let firmware = items(m, "files", "firmware")
        .into_iter()
        .filter(|f| f.name.eq_ignore_ascii_case("firmware"))
        .map(firmware_from)
        .collect();
    Ok(Mdf {
        name: text("name"),
        model: text("model"),
        version: text("version"),
        description: m.text_in("description"),
        info_url: m.text_in("infourl"),
        manufacturer: m
            .child("manufacturer")
            .and_then(|x| x.field("name"))
            .map(str::to_string),
        registers,
        remote_vars,
        dmatrix,
        firmware,
    })
}

/// The items of a list: XML `<list><item/>…</list>`, or JSON `"list": [ {item}, … ]`
/// where each array entry is a child named after the list.
fn items<'a>(parent: &'a Elem, list: &'a str, item: &'a str) -> Vec<&'a Elem> {
    parent
        .all(list)
        .flat_map(|l| {
            if l.child(item).is_some() || l.children.is_empty() {
                l.all(item).collect()
            } else {
                vec![l]
            }
        })
        .collect()
}

/// A number in any of the MDF notations (`12`, `0x0C`, `0o14`, `0b1100`, `-3`).
#[must_use]
pub fn number(text: &str) -> Option<i64> {
    let t = text.trim();
    let (neg, t) = t.strip_prefix('-').map_or((false, t), |r| (true, r));
    let lower = t.to_ascii_lowercase();
    let v = if let Some(h) = lower.strip_prefix("0x") {
        i64::from_str_radix(h, 16).ok()?
    } else if let Some(o) = lower.strip_prefix("0o") {
        i64::from_str_radix(o, 8).ok()?
    } else if let Some(b) = lower.strip_prefix("0b") {
        i64::from_str_radix(b, 2).ok()?
    } else {
        lower.parse().ok()?
    };
    Some(if neg { -v } else { v })
}

/// A numeric field: absent → `default`, present but not a number → an error naming it.
fn num<T: TryFrom<i64>>(
    e: &Elem,
    field: &'static str,
    what: &str,
    default: T,
) -> Result<T, MdfError> {
    let Some(text) = e.field(field).filter(|t| !t.is_empty()) else {
        return Ok(default);
    };
    number(text)
        .and_then(|v| T::try_from(v).ok())
        .ok_or_else(|| MdfError::Number {
            field,
            what: what.to_string(),
            text: text.chars().take(40).collect(),
        })
}

fn name_of(e: &Elem) -> String {
    e.text_in("name").unwrap_or_default()
}

fn values_from(e: &Elem, what: &str) -> Result<Vec<ValueItem>, MdfError> {
    let mut out = Vec::new();
    for item in items(e, "valuelist", "item") {
        out.push(ValueItem {
            value: num(item, "value", what, 0i64)?,
            name: name_of(item),
            description: item.text_in("description"),
        });
    }
    Ok(out)
}

fn bits_from(e: &Elem, what: &str) -> Result<Vec<BitField>, MdfError> {
    e.all("bit")
        .map(|b| {
            Ok(BitField {
                pos: num(b, "pos", what, 0u8)?.min(7),
                width: num(b, "width", what, 1u8)?.clamp(1, 8),
                name: name_of(b),
                description: b.text_in("description"),
                values: values_from(b, what)?,
            })
        })
        .collect()
}

fn register_from(r: &Elem) -> Result<RegisterDef, MdfError> {
    let name = name_of(r);
    let what = format!("register {name:?}");
    Ok(RegisterDef {
        page: num(r, "page", &what, 0u16)?,
        offset: num(r, "offset", &what, 0u32)?,
        span: num(r, "span", &what, 1u16)?.max(1),
        description: r.text_in("description"),
        access: Access::parse(r.field("access")),
        min: num(r, "min", &what, 0i64)?,
        max: num(r, "max", &what, 255i64)?,
        default: r.field("default").map(str::to_string),
        values: values_from(r, &what)?,
        bits: bits_from(r, &what)?,
        name,
    })
}

fn remote_var_from(v: &Elem) -> Result<RemoteVar, MdfError> {
    let name = name_of(v);
    let what = format!("remote variable {name:?}");
    let kind = VarType::parse(v.field("type").unwrap_or("uint8_t"));
    let float = |f: &'static str| -> Result<Option<f64>, MdfError> {
        match v.field(f).filter(|t| !t.is_empty()) {
            None => Ok(None),
            Some(t) => number(t)
                .map(|n| n as f64)
                .or_else(|| t.parse::<f64>().ok())
                .map(Some)
                .ok_or_else(|| MdfError::Number {
                    field: f,
                    what: what.clone(),
                    text: t.chars().take(40).collect(),
                }),
        }
    };
    Ok(RemoteVar {
        kind,
        page: num(v, "page", &what, 0u16)?,
        offset: num(v, "offset", &what, 0u32)?,
        bitpos: num(v, "bitpos", &what, 0u8)?.min(7),
        size: num(v, "size", &what, kind.size().unwrap_or(1))?,
        access: Access::parse(v.field("access")),
        description: v.text_in("description"),
        min: float("min")?,
        max: float("max")?,
        values: values_from(v, &what)?,
        bits: bits_from(v, &what)?,
        name,
    })
}

fn dmatrix_from(d: &Elem) -> Result<DecisionMatrix, MdfError> {
    let what = "decision matrix";
    let start = d.child("start");
    let (page, offset) = match start {
        Some(s) => (num(s, "page", what, 0u16)?, num(s, "offset", what, 0u32)?),
        None => (
            num(d, "start-page", what, 0u16)?,
            num(d, "start-offset", what, 0u32)?,
        ),
    };
    let actions = d
        .all("action")
        .map(|a| {
            let param = a
                .child("param")
                .map(|p| -> Result<_, MdfError> { Ok((name_of(p), values_from(p, what)?)) });
            Ok(DmAction {
                code: num(a, "code", what, 0u8)?,
                name: name_of(a),
                description: a.text_in("description"),
                param: param.transpose()?,
            })
        })
        .collect::<Result<_, MdfError>>()?;
    Ok(DecisionMatrix {
        level: num(d, "level", what, 1u8)?,
        page,
        offset,
        rows: num(d, "rowcnt", what, 0u16)?,
        row_size: num(d, "rowsize", what, 8u16)?.max(1),
        actions,
    })
}

/// One Level I decision matrix row (8 bytes) in words. Flags byte: bit 7 enabled, 6 match
/// origin, 5 hard-coded origin, 4 match zone, 3 match sub-zone, 1/0 bit 8 of class mask/filter.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DmRow {
    /// Originating nickname to match (when `match_origin`).
    pub origin: u8,
    /// Row enabled.
    pub enabled: bool,
    /// Match the origin nickname.
    pub match_origin: bool,
    /// The origin is a hard-coded node.
    pub hardcoded: bool,
    /// Match zone.
    pub match_zone: bool,
    /// Match sub-zone.
    pub match_subzone: bool,
    /// Class mask (9 bits).
    pub class_mask: u16,
    /// Class filter (9 bits).
    pub class_filter: u16,
    /// Type mask.
    pub type_mask: u8,
    /// Type filter.
    pub type_filter: u8,
    /// Action code.
    pub action: u8,
    /// Action parameter.
    pub param: u8,
}

impl DmRow {
    /// Decodes the 8 bytes of a Level I row.
    #[must_use]
    pub fn decode(b: [u8; 8]) -> DmRow {
        let flags = b[1];
        DmRow {
            origin: b[0],
            enabled: flags & 0x80 != 0,
            match_origin: flags & 0x40 != 0,
            hardcoded: flags & 0x20 != 0,
            match_zone: flags & 0x10 != 0,
            match_subzone: flags & 0x08 != 0,
            class_mask: u16::from(b[2]) | (u16::from(flags & 0x02) << 7),
            class_filter: u16::from(b[3]) | (u16::from(flags & 0x01) << 8),
            type_mask: b[4],
            type_filter: b[5],
            action: b[6],
            param: b[7],
        }
    }

    /// The 8 bytes of this row.
    #[must_use]
    pub fn encode(&self) -> [u8; 8] {
        let flags = u8::from(self.enabled) << 7
            | u8::from(self.match_origin) << 6
            | u8::from(self.hardcoded) << 5
            | u8::from(self.match_zone) << 4
            | u8::from(self.match_subzone) << 3
            | (((self.class_mask >> 8) & 1) as u8) << 1
            | ((self.class_filter >> 8) & 1) as u8;
        [
            self.origin,
            flags,
            self.class_mask as u8,
            self.class_filter as u8,
            self.type_mask,
            self.type_filter,
            self.action,
            self.param,
        ]
    }
}
