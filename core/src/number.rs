//! Numbers as the link protocol writes them: decimal, `0x` hex or `0b` binary.
//!
//! Leading zeros are decimal (never octal, unlike the C reference), surrounding
//! blanks are ignored, and every value is range-checked by the caller's type.

use std::fmt;

/// Why a numeric field could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumberError {
    /// The field was empty (after trimming).
    Empty,
    /// Not a decimal, `0x` hex or `0b` binary number.
    Bad,
    /// A number, but too large for the field.
    OutOfRange,
}

/// Parses an unsigned number no larger than `max`.
pub(crate) fn parse_max(text: &str, max: u64) -> Result<u64, NumberError> {
    // fast path: plain decimal of up to 19 digits (cannot overflow u64)
    let raw = text.as_bytes();
    if !raw.is_empty() && raw.len() < 20 {
        let mut v = 0u64;
        let mut plain = true;
        for &c in raw {
            let d = c.wrapping_sub(b'0');
            if d > 9 {
                plain = false;
                break;
            }
            v = v * 10 + u64::from(d);
        }
        if plain {
            return if v > max {
                Err(NumberError::OutOfRange)
            } else {
                Ok(v)
            };
        }
    }
    let t = text.trim_ascii();
    let bytes = t.as_bytes();
    let (radix, digits) = match bytes {
        [] => return Err(NumberError::Empty),
        [b'0', b'x' | b'X', rest @ ..] => (16, rest),
        [b'0', b'b' | b'B', rest @ ..] => (2, rest),
        _ => (10, bytes),
    };
    if digits.is_empty() {
        return Err(NumberError::Bad);
    }
    let mut value: u64 = 0;
    let mut overflow = false;
    for &b in digits {
        let d = match b {
            b'0'..=b'9' => u64::from(b - b'0'),
            b'a'..=b'f' => u64::from(b - b'a' + 10),
            b'A'..=b'F' => u64::from(b - b'A' + 10),
            _ => return Err(NumberError::Bad),
        };
        if d >= radix {
            return Err(NumberError::Bad);
        }
        match value.checked_mul(radix).and_then(|v| v.checked_add(d)) {
            Some(v) => value = v,
            None => overflow = true,
        }
    }
    if overflow || value > max {
        return Err(NumberError::OutOfRange);
    }
    Ok(value)
}

/// Parses a number into any unsigned integer type, checking its range.
pub(crate) fn parse<T: TryFrom<u64> + Bounded>(text: &str) -> Result<T, NumberError> {
    let v = parse_max(text, T::MAX_U64)?;
    T::try_from(v).map_err(|_| NumberError::OutOfRange)
}

/// Unsigned integer types with their maximum as `u64`.
pub(crate) trait Bounded {
    const MAX_U64: u64;
}
macro_rules! bounded {
    ($($t:ty),*) => { $(impl Bounded for $t { const MAX_U64: u64 = <$t>::MAX as u64; })* };
}
bounded!(u8, u16, u32, u64);

impl fmt::Display for NumberError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NumberError::Empty => "empty number",
            NumberError::Bad => "not a number (decimal, 0x hex or 0b binary)",
            NumberError::OutOfRange => "number out of range",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn bases_and_ranges() {
        for (text, want) in [
            ("35", Ok(35)),
            ("0x23", Ok(35)),
            ("0X23", Ok(35)),
            ("0b101", Ok(5)),
            ("010", Ok(10)),
            ("08", Ok(8)),
            (" 3 ", Ok(3)),
            ("", Err(NumberError::Empty)),
            ("x", Err(NumberError::Bad)),
            ("0x", Err(NumberError::Bad)),
            ("0b2", Err(NumberError::Bad)),
            ("-1", Err(NumberError::Bad)),
            ("256", Err(NumberError::OutOfRange)),
            ("99999999999999999999999", Err(NumberError::OutOfRange)),
        ] {
            assert_eq!(parse::<u8>(text), want, "{text:?}");
        }
    }
}
