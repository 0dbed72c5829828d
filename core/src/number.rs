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

/// Decimal text of every byte value, for the fast event writer.
static BYTE_DEC: [&str; 256] = {
    const D: [&str; 256] = [
        "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15", "16",
        "17", "18", "19", "20", "21", "22", "23", "24", "25", "26", "27", "28", "29", "30", "31",
        "32", "33", "34", "35", "36", "37", "38", "39", "40", "41", "42", "43", "44", "45", "46",
        "47", "48", "49", "50", "51", "52", "53", "54", "55", "56", "57", "58", "59", "60", "61",
        "62", "63", "64", "65", "66", "67", "68", "69", "70", "71", "72", "73", "74", "75", "76",
        "77", "78", "79", "80", "81", "82", "83", "84", "85", "86", "87", "88", "89", "90", "91",
        "92", "93", "94", "95", "96", "97", "98", "99", "100", "101", "102", "103", "104", "105",
        "106", "107", "108", "109", "110", "111", "112", "113", "114", "115", "116", "117", "118",
        "119", "120", "121", "122", "123", "124", "125", "126", "127", "128", "129", "130", "131",
        "132", "133", "134", "135", "136", "137", "138", "139", "140", "141", "142", "143", "144",
        "145", "146", "147", "148", "149", "150", "151", "152", "153", "154", "155", "156", "157",
        "158", "159", "160", "161", "162", "163", "164", "165", "166", "167", "168", "169", "170",
        "171", "172", "173", "174", "175", "176", "177", "178", "179", "180", "181", "182", "183",
        "184", "185", "186", "187", "188", "189", "190", "191", "192", "193", "194", "195", "196",
        "197", "198", "199", "200", "201", "202", "203", "204", "205", "206", "207", "208", "209",
        "210", "211", "212", "213", "214", "215", "216", "217", "218", "219", "220", "221", "222",
        "223", "224", "225", "226", "227", "228", "229", "230", "231", "232", "233", "234", "235",
        "236", "237", "238", "239", "240", "241", "242", "243", "244", "245", "246", "247", "248",
        "249", "250", "251", "252", "253", "254", "255",
    ];
    D
};

/// Writes a byte in decimal.
pub(crate) fn push_byte(out: &mut String, b: u8) {
    out.push_str(BYTE_DEC[usize::from(b)]);
}

/// Writes an unsigned number in decimal without going through `fmt`.
pub(crate) fn push_u64(out: &mut String, mut v: u64) {
    if v < 256 {
        push_byte(out, v as u8);
        return;
    }
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    while v > 0 {
        i -= 1;
        if let Some(slot) = buf.get_mut(i) {
            *slot = b'0' + (v % 10) as u8;
        }
        v /= 10;
    }
    if let Some(digits) = buf.get(i..) {
        for &d in digits {
            out.push(char::from(d));
        }
    }
}

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

    #[test]
    fn writer_matches_display() {
        for v in [0u64, 9, 10, 255, 256, 1000, u64::from(u32::MAX), u64::MAX] {
            let mut s = String::new();
            push_u64(&mut s, v);
            assert_eq!(s, v.to_string());
        }
    }
}
