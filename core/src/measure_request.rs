//! The `MEASUREMENT` command of vscpd: a measurement given as numbers, turned into the
//! measurement event a node would send (protocol.md §11 codings).
//!
//! `MEASUREMENT format,level,type,value[,unit,guid,sensoridx,zone,subzone,destguid]`:
//! format `0`/`FLOAT` or `1`/`STRING`; level `0`/`LEVEL1` (CLASS1.MEASUREMENT) or
//! `1`/`2`/`LEVEL2` (CLASS2.MEASUREMENT_FLOAT / _STR), as vscpd reads them.

use std::fmt;

use crate::event::Event;
use crate::guid::Guid;
use crate::measurement::{CLASS2_MEASUREMENT_FLOAT, CLASS2_MEASUREMENT_STR};
use crate::number;

/// CLASS1.MEASUREMENT.
const CLASS1_MEASUREMENT: u16 = 10;
/// Level I coding bits 7–5: ASCII string (010) and IEEE-754 single (101).
const CODING_STRING: u8 = 0b010 << 5;
const CODING_FLOAT: u8 = 0b101 << 5;
/// Priority of the event (normal), as vscpd sends it.
const NORMAL_PRIORITY: u8 = 3;

/// How the value travels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ValueFormat {
    /// IEEE-754 (single in Level I, double in Level II).
    Float,
    /// ASCII decimal.
    String,
}

/// The arguments of `MEASUREMENT`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MeasurementRequest {
    /// Float or string coding.
    pub format: ValueFormat,
    /// Level II event (else Level I).
    pub level2: bool,
    /// Measurement type (e.g. 6 = temperature).
    pub kind: u16,
    /// The value as a finite decimal number, kept as written.
    pub value: String,
    /// Unit index (0–3 for Level I).
    pub unit: u8,
    /// GUID of the event (`-`: the server's).
    pub guid: Guid,
    /// Sensor index (0–7 for Level I).
    pub sensor: u8,
    /// Zone (Level II).
    pub zone: u8,
    /// Sub-zone (Level II).
    pub subzone: u8,
    /// Destination for Level I over Level II.
    pub dest: Option<Guid>,
}

/// A number argument, or what is wrong with it.
fn num<T: TryFrom<u64> + number::Bounded>(s: &str, what: &str) -> Result<T, String> {
    number::parse(s).map_err(|e| format!("{what} {s:?}: {e}"))
}

impl MeasurementRequest {
    /// Reads the comma-separated arguments; the error says which one is wrong.
    pub fn parse(arg: &str) -> Result<MeasurementRequest, String> {
        let mut f = arg.split(',').map(str::trim);
        let mut next = |what: &str| {
            f.next()
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .ok_or_else(|| format!("missing {what}"))
        };
        let format = match next("format")?.to_ascii_uppercase().as_str() {
            "0" | "FLOAT" => ValueFormat::Float,
            "1" | "STRING" => ValueFormat::String,
            other => return Err(format!("format {other:?}: expected 0/FLOAT or 1/STRING")),
        };
        let level2 = match next("level")?.to_ascii_uppercase().as_str() {
            "0" | "LEVEL1" => false,
            "1" | "2" | "LEVEL2" => true,
            other => return Err(format!("level {other:?}: expected 0/LEVEL1 or 1/LEVEL2")),
        };
        let kind = num(&next("type")?, "type")?;
        let value = next("value")?;
        if !value.parse::<f64>().is_ok_and(f64::is_finite) {
            return Err(format!("value {value:?} is not a number"));
        }
        let mut optional = |_: &str| f.next().filter(|s| !s.is_empty() && *s != "-");
        let unit = optional("unit").map_or(Ok(0), |s| num(s, "unit"))?;
        let guid = optional("guid").map_or(Ok(Guid::ZERO), |s| {
            s.parse().map_err(|e| format!("guid: {e}"))
        })?;
        let sensor = optional("sensor").map_or(Ok(0), |s| num(s, "sensor index"))?;
        let zone = optional("zone").map_or(Ok(0), |s| num(s, "zone"))?;
        let subzone = optional("subzone").map_or(Ok(0), |s| num(s, "subzone"))?;
        let dest = optional("destguid")
            .map(|s| s.parse().map_err(|e| format!("destguid: {e}")))
            .transpose()?;
        if f.next().is_some() {
            return Err("more than 10 arguments".into());
        }
        Ok(MeasurementRequest {
            format,
            level2,
            kind,
            value,
            unit,
            guid,
            sensor,
            zone,
            subzone,
            dest,
        })
    }

    /// The event to send, or why the arguments do not make one.
    pub fn to_event(&self) -> Result<Event, String> {
        let number: f64 = self
            .value
            .parse()
            .map_err(|_| "value is not a number".to_string())?;
        let mut ev = if self.level2 {
            let mut data = vec![self.sensor, self.zone, self.subzone, self.unit];
            let class = match self.format {
                ValueFormat::Float => {
                    data.extend(number.to_be_bytes());
                    CLASS2_MEASUREMENT_FLOAT
                }
                ValueFormat::String => {
                    data.extend(self.value.bytes());
                    CLASS2_MEASUREMENT_STR
                }
            };
            Event {
                class,
                kind: self.kind,
                data,
                ..Event::default()
            }
        } else {
            if self.kind > 255 || self.unit > 3 || self.sensor > 7 {
                return Err("Level I: type ≤ 255, unit ≤ 3, sensor index ≤ 7".into());
            }
            let index = self.unit << 3 | self.sensor;
            let data = match self.format {
                ValueFormat::Float => {
                    let mut d = vec![CODING_FLOAT | index];
                    d.extend((number as f32).to_be_bytes());
                    d
                }
                ValueFormat::String if self.value.len() <= 7 => {
                    let mut d = vec![CODING_STRING | index];
                    d.extend(self.value.bytes());
                    d
                }
                ValueFormat::String => {
                    return Err("Level I: a string value has at most 7 characters".into());
                }
            };
            let ev = Event {
                class: CLASS1_MEASUREMENT,
                kind: self.kind,
                data,
                ..Event::default()
            };
            match self.dest {
                Some(d) => ev.level1_over_level2(d, d.nickname()),
                None => ev,
            }
        };
        ev.guid = self.guid;
        ev.set_priority(NORMAL_PRIORITY);
        Ok(ev)
    }
}

impl fmt::Display for MeasurementRequest {
    /// The arguments as `MEASUREMENT` takes them (all ten when a destination is given).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let format = match self.format {
            ValueFormat::Float => 0,
            ValueFormat::String => 1,
        };
        write!(
            f,
            "{format},{},{},{},{},{},{},{},{}",
            u8::from(self.level2),
            self.kind,
            self.value,
            self.unit,
            if self.guid.is_zero() {
                "-".to_string()
            } else {
                self.guid.to_string()
            },
            self.sensor,
            self.zone,
            self.subzone
        )?;
        match &self.dest {
            Some(d) => write!(f, ",{d}"),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measurement::{Measurement, Value};
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn encodes_what_the_decoder_reads_back() {
        for (arg, class, value, unit, sensor) in [
            ("0,0,6,21.5,1", 10, 21.5, 1, 0),
            ("FLOAT,LEVEL1,6,-3.25,2,-,5", 10, -3.25, 2, 5),
            ("1,0,6,21.5,1", 10, 21.5, 1, 0),
            ("0,1,6,1013.25,0,-,2,1,3", 1060, 1013.25, 0, 2),
            ("STRING,LEVEL2,35,45.5,3", 1040, 45.5, 3, 0),
        ] {
            let req = MeasurementRequest::parse(arg).unwrap();
            let ev = req.to_event().unwrap();
            assert_eq!(ev.class, class, "{arg}");
            let m = Measurement::from_event(&ev).unwrap();
            assert_eq!(m.value, Value::Number(value), "{arg}");
            assert_eq!((m.unit, m.sensor), (unit, sensor), "{arg}");
            assert_eq!(
                MeasurementRequest::parse(&req.to_string()),
                Ok(req),
                "{arg}"
            );
        }
    }

    #[test]
    fn bad_arguments_say_which() {
        for (arg, want) in [
            ("", "missing format"),
            ("0", "missing level"),
            ("2,0,6,1", "format"),
            ("0,5,6,1", "level"),
            ("0,0,6", "missing value"),
            ("0,0,6,abc", "not a number"),
            ("0,0,6,inf", "not a number"),
            ("0,0,x,1", "type"),
            ("0,0,6,1,1,zz", "guid"),
            ("0,0,6,1,0,-,0,0,0,-,extra", "more than 10"),
        ] {
            let e = MeasurementRequest::parse(arg).unwrap_err();
            assert!(e.contains(want), "{arg}: {e}");
        }
        let too_big = MeasurementRequest::parse("0,0,6,1,4").unwrap();
        assert!(too_big.to_event().is_err());
        let long = MeasurementRequest::parse("1,0,6,12345.678").unwrap();
        assert!(long.to_event().is_err());
    }
}
