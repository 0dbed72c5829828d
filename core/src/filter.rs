//! Filter and mask: `prio,class,type,GUID[,index]` and the bitwise match (protocol.md §6).

use std::{fmt, str::FromStr};

use crate::event::Event;
use crate::guid::{Guid, GuidError};
use crate::number::{self, NumberError};

/// One half of a filter (the `SFLT` filter or the `SMSK` mask): same fields, same text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct FilterPart {
    /// Priority (compared with the event's 3-bit priority).
    pub priority: u8,
    /// Class bits.
    pub class: u16,
    /// Type bits.
    pub kind: u16,
    /// GUID bits.
    pub guid: Guid,
    /// Optional filter index on multi-filter devices (SPEC only; servers ignore it).
    pub index: Option<u8>,
}

/// A filter/mask pair. Mask bit 1 = the event bit must equal the filter bit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Filter {
    /// The values to compare with.
    pub filter: FilterPart,
    /// Which bits to compare.
    pub mask: FilterPart,
}

/// Why a filter or mask text could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FilterParseError {
    /// Fewer than the four fields `prio,class,type,GUID`.
    #[error("filter needs 4 fields (priority,class,type,GUID), got {got}")]
    TooFewFields {
        /// Fields found.
        got: usize,
    },
    /// A numeric field that is not a number or out of range.
    #[error("filter field {field}: {got:?}: {why}")]
    BadNumber {
        /// Field name.
        field: &'static str,
        /// The text found.
        got: String,
        /// What was wrong with it.
        why: NumberError,
    },
    /// The GUID field.
    #[error(transparent)]
    BadGuid(#[from] GuidError),
}

impl FilterPart {
    /// Matches everything as a mask (all ones).
    pub const ALL_ONES: FilterPart = FilterPart {
        priority: 7,
        class: 0xFFFF,
        kind: 0xFFFF,
        guid: Guid::BROADCAST,
        index: None,
    };
}

impl FilterPart {
    /// Do class and type fit the Level I widths (class ≤ 0x1FF, type ≤ 0xFF) of servers
    /// whose filter is a CAN identifier?
    #[must_use]
    pub fn fits_level1(&self) -> bool {
        self.class <= 0x1FF && self.kind <= 0xFF
    }

    /// The part in Level I widths: class and type cut to 9 and 8 bits.
    #[must_use]
    pub fn level1(&self) -> FilterPart {
        FilterPart {
            class: self.class & 0x1FF,
            kind: self.kind & 0xFF,
            ..*self
        }
    }
}

impl FromStr for FilterPart {
    type Err = FilterParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let fields: Vec<&str> = text.splitn(6, ',').collect();
        let [prio, class, kind, guid, rest @ ..] = fields.as_slice() else {
            return Err(FilterParseError::TooFewFields { got: fields.len() });
        };
        fn n<T: TryFrom<u64> + number::Bounded>(
            field: &'static str,
            t: &str,
        ) -> Result<T, FilterParseError> {
            number::parse(t).map_err(|why| FilterParseError::BadNumber {
                field,
                got: t.to_string(),
                why,
            })
        }
        let index = match rest.first() {
            Some(t) if !t.trim().is_empty() => Some(n("index", t)?),
            _ => None,
        };
        Ok(FilterPart {
            priority: n("priority", prio)?,
            class: n("class", class)?,
            kind: n("type", kind)?,
            guid: guid.parse()?,
            index,
        })
    }
}

impl fmt::Display for FilterPart {
    /// Decimal numbers and the full 16-byte GUID (some servers reject `-` here).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{},{},{},{}",
            self.priority, self.class, self.kind, self.guid
        )?;
        if let Some(i) = self.index {
            write!(f, ",{i}")?;
        }
        Ok(())
    }
}

impl Filter {
    /// Lets every event pass (all zeros; the state after connect).
    pub const PASS_ALL: Filter = Filter {
        filter: FilterPart {
            priority: 0,
            class: 0,
            kind: 0,
            guid: Guid::ZERO,
            index: None,
        },
        mask: FilterPart {
            priority: 0,
            class: 0,
            kind: 0,
            guid: Guid::ZERO,
            index: None,
        },
    };

    /// Does `event` pass this filter?
    #[must_use]
    pub fn matches(&self, event: &Event) -> bool {
        let (f, m) = (&self.filter, &self.mask);
        ((event.priority() ^ f.priority) & m.priority) == 0
            && ((event.class ^ f.class) & m.class) == 0
            && ((event.kind ^ f.kind) & m.kind) == 0
            && event
                .guid
                .0
                .iter()
                .zip(f.guid.0)
                .zip(m.guid.0)
                .all(|((e, f), m)| (e ^ f) & m == 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn nickname_filter() {
        let flt = Filter {
            filter: FilterPart {
                guid: Guid::ZERO.with_nickname(1),
                ..FilterPart::default()
            },
            mask: FilterPart {
                guid: Guid::ZERO.with_nickname(0xFF),
                ..FilterPart::default()
            },
        };
        let mut ev = Event::new(20, 3);
        ev.guid = Guid::BROADCAST.with_nickname(1);
        assert!(flt.matches(&ev));
        ev.guid = ev.guid.with_nickname(2);
        assert!(!flt.matches(&ev));
        assert!(Filter::PASS_ALL.matches(&ev));
    }

    #[test]
    fn text_round_trip() {
        let part: FilterPart = "1,20,3,-,8".parse().unwrap();
        assert_eq!(part.to_string().parse::<FilterPart>().unwrap(), part);
        assert!(matches!(
            "1,x,3,-".parse::<FilterPart>(),
            Err(FilterParseError::BadNumber { field: "class", .. })
        ));
    }
}
