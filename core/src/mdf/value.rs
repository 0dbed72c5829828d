//! Remote variable types and their values: stored big endian in consecutive registers, a
//! boolean in one bit of a register, a string as bytes up to its size.

use std::fmt;

use super::RemoteVar;

/// The type of a remote variable.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum VarType {
    /// One bit of a register.
    Bool,
    /// An integer of 1, 2, 4 or 8 bytes.
    Int {
        /// Bytes.
        bytes: u8,
        /// Signed (two's complement).
        signed: bool,
    },
    /// IEEE 754 single.
    Float,
    /// IEEE 754 double.
    Double,
    /// Text up to its size, NUL-terminated when shorter.
    String,
    /// Raw bytes (blocks, and types this console does not know).
    #[default]
    Block,
}

impl VarType {
    /// Reads a type name of the MDF (`uint16_t`, `short`, `boolean`, …).
    #[must_use]
    pub fn parse(name: &str) -> VarType {
        let int = |bytes, signed| VarType::Int { bytes, signed };
        match name.trim().to_ascii_lowercase().as_str() {
            "bool" | "boolean" => VarType::Bool,
            "int8_t" | "int8" | "char" => int(1, true),
            "uint8_t" | "uint8" | "byte" | "unsigned char" => int(1, false),
            "int16_t" | "int16" | "short" => int(2, true),
            "uint16_t" | "uint16" | "unsigned short" => int(2, false),
            "int32_t" | "int32" | "int" | "integer" | "long" => int(4, true),
            "uint32_t" | "uint32" | "unsigned int" | "unsigned long" => int(4, false),
            "int64_t" | "int64" | "longlong" => int(8, true),
            "uint64_t" | "uint64" => int(8, false),
            "float" => VarType::Float,
            "double" => VarType::Double,
            "string" => VarType::String,
            _ => VarType::Block,
        }
    }

    /// Registers it takes, when fixed by the type.
    #[must_use]
    pub fn size(self) -> Option<u16> {
        match self {
            VarType::Bool => Some(1),
            VarType::Int { bytes, .. } => Some(u16::from(bytes)),
            VarType::Float => Some(4),
            VarType::Double => Some(8),
            VarType::String | VarType::Block => None,
        }
    }
}

/// A remote variable's value.
#[derive(Clone, Debug, PartialEq)]
pub enum VarValue {
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i128),
    /// A float or double.
    Float(f64),
    /// Text.
    Text(String),
    /// Raw bytes.
    Bytes(Vec<u8>),
}

impl fmt::Display for VarValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VarValue::Bool(b) => write!(f, "{b}"),
            VarValue::Int(i) => write!(f, "{i}"),
            VarValue::Float(x) => write!(f, "{x}"),
            VarValue::Text(t) => f.write_str(t),
            VarValue::Bytes(b) => {
                for (i, x) in b.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" ")?;
                    }
                    write!(f, "{x:02X}")?;
                }
                Ok(())
            }
        }
    }
}

impl RemoteVar {
    /// Registers it takes (from `offset` on its page).
    #[must_use]
    pub fn len(&self) -> u16 {
        self.kind.size().unwrap_or(self.size).max(1)
    }

    /// Never empty: every variable takes at least one register.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The value in `bytes` (its registers, first to last); `None` if there are too few.
    #[must_use]
    pub fn decode(&self, bytes: &[u8]) -> Option<VarValue> {
        let b = bytes.get(..usize::from(self.len()))?;
        Some(match self.kind {
            VarType::Bool => VarValue::Bool(b.first()? >> self.bitpos.min(7) & 1 == 1),
            VarType::Int { bytes, signed } => {
                let raw = b.iter().fold(0u128, |v, x| v << 8 | u128::from(*x));
                let bits = u32::from(bytes) * 8;
                let v = if signed && bits < 128 && raw >> (bits - 1) & 1 == 1 {
                    raw as i128 - (1i128 << bits)
                } else {
                    raw as i128
                };
                VarValue::Int(v)
            }
            VarType::Float => VarValue::Float(f64::from(f32::from_be_bytes(b.try_into().ok()?))),
            VarType::Double => VarValue::Float(f64::from_be_bytes(b.try_into().ok()?)),
            VarType::String => {
                let end = b.iter().position(|x| *x == 0).unwrap_or(b.len());
                VarValue::Text(String::from_utf8_lossy(b.get(..end)?).into_owned())
            }
            VarType::Block => VarValue::Bytes(b.to_vec()),
        })
    }

    /// The register bytes for `text` (for a boolean, `current` is the register as it is:
    /// only its bit changes). Checks the type's range and the variable's min/max.
    pub fn encode(&self, text: &str, current: &[u8]) -> Result<Vec<u8>, String> {
        let t = text.trim();
        let len = usize::from(self.len());
        let range = |v: f64| match (self.min, self.max) {
            (Some(lo), _) if v < lo => Err(format!("{t} is below the minimum {lo}")),
            (_, Some(hi)) if v > hi => Err(format!("{t} is above the maximum {hi}")),
            _ => Ok(()),
        };
        match self.kind {
            VarType::Bool => {
                let on = match t.to_ascii_lowercase().as_str() {
                    "true" | "1" | "on" | "yes" => true,
                    "false" | "0" | "off" | "no" => false,
                    _ => return Err(format!("{t:?} is not true or false")),
                };
                let bit = 1u8 << self.bitpos.min(7);
                let byte = current.first().copied().unwrap_or_default();
                Ok(vec![if on { byte | bit } else { byte & !bit }])
            }
            VarType::Int { bytes, signed } => {
                let v = super::number(t)
                    .map(i128::from)
                    .or_else(|| t.parse::<u64>().ok().map(i128::from))
                    .ok_or_else(|| format!("{t:?} is not a whole number"))?;
                let bits = u32::from(bytes) * 8;
                let (lo, hi) = if signed {
                    (-(1i128 << (bits - 1)), (1i128 << (bits - 1)) - 1)
                } else {
                    (0, (1i128 << bits) - 1)
                };
                if v < lo || v > hi {
                    return Err(format!("{v} does not fit {bytes} byte(s) ({lo}…{hi})"));
                }
                range(v as f64)?;
                let raw = (v as u128).to_be_bytes();
                Ok(raw[16 - usize::from(bytes)..].to_vec())
            }
            VarType::Float | VarType::Double => {
                let v: f64 = t.parse().map_err(|_| format!("{t:?} is not a number"))?;
                if !v.is_finite() {
                    return Err(format!("{t:?} is not a finite number"));
                }
                range(v)?;
                Ok(if self.kind == VarType::Float {
                    (v as f32).to_be_bytes().to_vec()
                } else {
                    v.to_be_bytes().to_vec()
                })
            }
            VarType::String => {
                if t.len() > len {
                    return Err(format!("the text is {} bytes; {len} fit", t.len()));
                }
                let mut b = t.as_bytes().to_vec();
                b.resize(len, 0);
                Ok(b)
            }
            VarType::Block => {
                let b = t
                    .split(|c: char| c == ',' || c.is_whitespace())
                    .filter(|x| !x.is_empty())
                    .map(|x| {
                        super::number(x)
                            .or_else(|| i64::from_str_radix(x, 16).ok())
                            .and_then(|v| u8::try_from(v).ok())
                            .ok_or_else(|| format!("{x:?} is not a byte"))
                    })
                    .collect::<Result<Vec<u8>, String>>()?;
                if b.len() != len {
                    return Err(format!("{} bytes given; the block has {len}", b.len()));
                }
                Ok(b)
            }
        }
    }
}
