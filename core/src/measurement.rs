//! Measurement events decoded into values with units (protocol.md §11).

use crate::event::Event;
use crate::names;

/// Level I measurement classes using the coding byte (and their 512+ mirrors).
const CODED_CLASSES: [u16; 6] = [10, 11, 12, 13, 14, 15];
/// CLASS2.MEASUREMENT_STR.
pub const CLASS2_MEASUREMENT_STR: u16 = 1040;
/// CLASS2.MEASUREMENT_FLOAT.
pub const CLASS2_MEASUREMENT_FLOAT: u16 = 1060;

/// Data coding of a Level I measurement (coding byte bits 7–5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Coding {
    /// Raw bit field.
    Bits,
    /// Unsigned big-endian bytes.
    Byte,
    /// ASCII decimal string.
    String,
    /// Signed big-endian integer.
    Int,
    /// Normalized integer (exponent byte + mantissa).
    Normalized,
    /// IEEE-754 single.
    Float,
    /// IEEE-754 double.
    Double,
}

/// The value of a measurement.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// A number.
    Number(f64),
    /// Raw bits (never shown as a number).
    Bits(Vec<u8>),
}

/// A decoded measurement.
#[derive(Clone, Debug, PartialEq)]
pub struct Measurement {
    /// Data coding (Level II forms report `String` or `Double`).
    pub coding: Coding,
    /// Unit index 0–3 (Level I) or 0–255 (Level II).
    pub unit: u8,
    /// Sensor index.
    pub sensor: u8,
    /// Zone and sub-zone (Level II only).
    pub zone: Option<(u8, u8)>,
    /// The value.
    pub value: Value,
    /// The measured quantity's type number within CLASS1.MEASUREMENT (e.g. 6 = temperature).
    pub quantity: u16,
    /// Decimals the event carries (a normalized integer's exponent, a string's digits);
    /// `None` for floats, which carry no precision of their own.
    pub decimals: Option<u8>,
}

/// Decimals shown for a float, which carries no precision of its own.
const FLOAT_DECIMALS: usize = 2;
/// Most decimals ever shown.
const MAX_DECIMALS: usize = 6;

/// Why an event is not a readable measurement.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MeasurementError {
    /// Not a measurement class.
    #[error("not a measurement event")]
    NotMeasurement,
    /// No data bytes.
    #[error("measurement without data")]
    NoData,
    /// Coding 111 is reserved.
    #[error("reserved data coding")]
    ReservedCoding,
    /// Data that does not fit its coding.
    #[error("bad measurement data: {0}")]
    BadData(&'static str),
}

fn be_signed(bytes: &[u8]) -> Option<i64> {
    if bytes.is_empty() || bytes.len() > 8 {
        return None;
    }
    let mut v: i64 = if bytes.first()? & 0x80 != 0 { -1 } else { 0 };
    for b in bytes {
        v = (v << 8) | i64::from(*b);
    }
    Some(v)
}

/// The number in an ASCII string and the decimals it is written with.
fn ascii_number(bytes: &[u8]) -> Result<(f64, Option<u8>), MeasurementError> {
    let text =
        std::str::from_utf8(bytes).map_err(|_| MeasurementError::BadData("string is not ASCII"))?;
    let text = text.trim_end_matches('\0').trim();
    let value = text
        .parse()
        .map_err(|_| MeasurementError::BadData("string is not a number"))?;
    let decimals = text.split_once('.').map_or(0, |(_, frac)| {
        frac.bytes().take_while(u8::is_ascii_digit).count()
    });
    Ok((value, u8::try_from(decimals).ok()))
}

/// A Level I value as decoded: coding, unit, sensor, value, decimals carried.
type Level1 = (Coding, u8, u8, Value, Option<u8>);

/// Decodes the Level I coding byte and value of `data` (`data[0]` is the coding byte).
pub fn decode_level1(data: &[u8]) -> Result<Level1, MeasurementError> {
    let (&coding_byte, rest) = data.split_first().ok_or(MeasurementError::NoData)?;
    let unit = (coding_byte >> 3) & 3;
    let sensor = coding_byte & 7;
    let bad = MeasurementError::BadData;
    let mut decimals = Some(0);
    let (coding, value) = match coding_byte >> 5 {
        0 => (Coding::Bits, Value::Bits(rest.to_vec())),
        1 => {
            if rest.is_empty() || rest.len() > 8 {
                return Err(bad("1–8 bytes expected"));
            }
            let v = rest.iter().fold(0u64, |v, b| (v << 8) | u64::from(*b));
            (Coding::Byte, Value::Number(v as f64))
        }
        2 => {
            let (v, d) = ascii_number(rest)?;
            decimals = d;
            (Coding::String, Value::Number(v))
        }
        3 => (
            Coding::Int,
            Value::Number(be_signed(rest).ok_or(bad("1–7 bytes expected"))? as f64),
        ),
        4 => {
            let (&exp, mantissa) = rest.split_first().ok_or(bad("exponent byte missing"))?;
            let m = be_signed(mantissa).ok_or(bad("1–6 mantissa bytes expected"))? as f64;
            let n = i32::from(exp & 0x7F);
            let v = if exp & 0x80 != 0 {
                decimals = u8::try_from(n).ok();
                m / 10f64.powi(n)
            } else {
                m * 10f64.powi(n)
            };
            (Coding::Normalized, Value::Number(v))
        }
        5 => {
            decimals = None;
            let b: [u8; 4] = rest
                .get(..4)
                .and_then(|s| s.try_into().ok())
                .ok_or(bad("4 float bytes expected"))?;
            (
                Coding::Float,
                Value::Number(f64::from(f32::from_be_bytes(b))),
            )
        }
        6 => {
            decimals = None;
            let b: [u8; 8] = rest
                .get(..8)
                .and_then(|s| s.try_into().ok())
                .ok_or(bad("8 double bytes expected"))?;
            (Coding::Double, Value::Number(f64::from_be_bytes(b)))
        }
        _ => return Err(MeasurementError::ReservedCoding),
    };
    Ok((coding, unit, sensor, value, decimals))
}

impl Measurement {
    /// Decodes a measurement event: Level I classes 10–15 (and 522–527 over Level II),
    /// CLASS2.MEASUREMENT_STR and CLASS2.MEASUREMENT_FLOAT.
    pub fn from_event(event: &Event) -> Result<Measurement, MeasurementError> {
        let level1 = event.as_level1();
        if let Some(ev) = level1
            .as_deref()
            .filter(|e| CODED_CLASSES.contains(&e.class))
        {
            let (coding, unit, sensor, value, decimals) = decode_level1(&ev.data)?;
            let quantity = if ev.class == 15 {
                ev.kind
            } else {
                ev.kind + 256 * (ev.class.saturating_sub(10) % 5)
            };
            return Ok(Measurement {
                coding,
                unit,
                sensor,
                zone: None,
                value,
                quantity,
                decimals,
            });
        }
        let head = |d: &[u8]| -> Result<(u8, u8, u8, u8), MeasurementError> {
            match d {
                [s, z, sz, u, ..] => Ok((*s, *z, *sz, *u)),
                [] => Err(MeasurementError::NoData),
                _ => Err(MeasurementError::BadData(
                    "sensor,zone,subzone,unit expected",
                )),
            }
        };
        let payload = event.data.get(4..).unwrap_or_default();
        let (coding, value, decimals) = match event.class {
            CLASS2_MEASUREMENT_STR => {
                let (v, d) = ascii_number(payload)?;
                (Coding::String, Value::Number(v), d)
            }
            CLASS2_MEASUREMENT_FLOAT => {
                let b: [u8; 8] = payload
                    .get(..8)
                    .and_then(|s| s.try_into().ok())
                    .ok_or(MeasurementError::BadData("8 double bytes expected"))?;
                (Coding::Double, Value::Number(f64::from_be_bytes(b)), None)
            }
            _ => return Err(MeasurementError::NotMeasurement),
        };
        let (sensor, zone, subzone, unit) = head(&event.data)?;
        Ok(Measurement {
            coding,
            unit,
            sensor,
            zone: Some((zone, subzone)),
            value,
            quantity: event.kind,
            decimals,
        })
    }

    /// The unit's symbol, e.g. `°C`, when known.
    #[must_use]
    pub fn unit_symbol(&self) -> Option<&'static str> {
        names::unit(self.quantity, self.unit)
    }

    /// `value unit`, e.g. `21.5 °C`, for display: at the precision the event carries, a
    /// float at two decimals (more only where two would show a non-zero value as 0).
    #[must_use]
    pub fn display(&self) -> String {
        match &self.value {
            Value::Number(v) => {
                let places = match self.decimals {
                    Some(d) => usize::from(d).min(MAX_DECIMALS),
                    None if *v != 0.0 && v.abs() < 0.01 => MAX_DECIMALS,
                    None => FLOAT_DECIMALS,
                };
                let text = format!("{v:.places$}");
                match self.unit_symbol() {
                    Some(u) if !u.is_empty() => format!("{text} {u}"),
                    _ => text.to_string(),
                }
            }
            Value::Bits(b) => {
                let bits: Vec<String> = b.iter().map(|x| format!("{x:08b}")).collect();
                format!("bits {}", bits.join(" "))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn temperature_with_unit() {
        let mut ev = Event::new(10, 6);
        ev.data = vec![0x88, 0x81, 0x01, 0x07];
        let m = Measurement::from_event(&ev).unwrap();
        assert_eq!(m.display(), "26.3 °C");
        let mut f = Event::new(10, 6);
        f.data = vec![0xA8, 0x41, 0xAB, 0x0E, 0x56]; // f32 21.382…
        // a float carries no precision: two decimals, not its noise
        assert_eq!(Measurement::from_event(&f).unwrap().display(), "21.38 °C");
        let mut s = Event::new(10, 6);
        s.data = [&[0x48][..], b"21.50"].concat(); // a string: the decimals it is written with
        assert_eq!(Measurement::from_event(&s).unwrap().display(), "21.50 °C");
        let mut n = Event::new(10, 6);
        n.data = vec![0x88, 0x83, 0x00, 0x64]; // 100 × 10^-3: three decimals carried
        assert_eq!(Measurement::from_event(&n).unwrap().display(), "0.100 °C");
        let mut tiny = Event::new(10, 6);
        tiny.data = [vec![0xA8], 0.000_42f32.to_be_bytes().to_vec()].concat();
        assert_eq!(
            Measurement::from_event(&tiny).unwrap().display(),
            "0.000420 °C"
        );
        let wrapped = ev.level1_over_level2(crate::Guid::ZERO, 1);
        assert_eq!(
            Measurement::from_event(&wrapped).unwrap().display(),
            "26.3 °C"
        );
        assert_eq!(
            Measurement::from_event(&Event::new(20, 3)),
            Err(MeasurementError::NotMeasurement)
        );
    }
}
