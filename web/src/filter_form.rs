//! The filter forms as typed: the log's own filter and the server filter (`SFLT`/`SMSK`).
//! Every field takes a name or a number; what a field does not understand is said, per field,
//! and leaves that part of the filter out.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use vscp_core::{Filter, Guid, names};

use crate::state::{NodeMatch, ViewFilter};

/// A field the user could not be understood in, and why.
pub type FieldError = (&'static str, String);

/// The log filter as typed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ViewFilterFields {
    /// Class: a name (`CLASS1.INFORMATION`, `information`) or a number.
    pub class: String,
    /// Type: a name (`ON`, with or without the class) or a number.
    pub kind: String,
    /// Node: a nickname, a node's name, or a GUID.
    pub node: String,
    /// Highest priority number shown (0–7).
    pub prio: String,
    /// Text found anywhere in the row.
    pub text: String,
}

/// A number written in decimal or `0x` hex.
fn number<T: TryFrom<u64>>(text: &str) -> Option<T> {
    let t = text.trim();
    let v = match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok()?,
        None => t.parse().ok()?,
    };
    T::try_from(v).ok()
}

/// A class by name or number.
pub fn read_class(text: &str) -> Result<Option<u16>, String> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(None);
    }
    number(t)
        .or_else(|| names::class_by_name(t))
        .map(Some)
        .ok_or_else(|| format!("no class named {t:?}"))
}

/// A type as read: one type (with the class it implies, if any), or a name found in
/// several classes (any of them).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TypeMatch {
    /// This type number, in this class when known.
    One(Option<u16>, u16),
    /// Any of these (class, type).
    AnyOf(Vec<(u16, u16)>),
}

/// A type by name or number, within `class` when known; a name alone gives the classes
/// that have it.
pub fn read_type(text: &str, class: Option<u16>) -> Result<Option<TypeMatch>, String> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(None);
    }
    if let Some(n) = number(t) {
        return Ok(Some(TypeMatch::One(class, n)));
    }
    if let Some(c) = class {
        return names::type_by_name(c, t)
            .map(|k| Some(TypeMatch::One(Some(c), k)))
            .ok_or_else(|| match names::class_name(c) {
                Some(name) => format!("{name} has no type named {t:?}"),
                None => format!("class {c} has no type named {t:?}"),
            });
    }
    match names::types_named(t).as_slice() {
        [] => Err(format!("no type named {t:?}")),
        [(c, k)] => Ok(Some(TypeMatch::One(Some(*c), *k))),
        many => Ok(Some(TypeMatch::AnyOf(many.to_vec()))),
    }
}

/// A node by nickname, GUID, or the name it is known by.
pub fn read_node(text: &str, known: &HashMap<Guid, String>) -> Result<Option<NodeMatch>, String> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(None);
    }
    if let Some(n) = number(t) {
        return Ok(Some(NodeMatch::Nickname(n)));
    }
    if let Ok(g) = t.parse::<Guid>() {
        return Ok(Some(NodeMatch::Guid(g)));
    }
    let want = t.to_lowercase();
    let exact: Vec<Guid> = known
        .iter()
        .filter(|(_, n)| n.to_lowercase() == want)
        .map(|(g, _)| *g)
        .collect();
    let found = if exact.is_empty() {
        known
            .iter()
            .filter(|(_, n)| n.to_lowercase().contains(&want))
            .map(|(g, _)| *g)
            .collect()
    } else {
        exact
    };
    match found.as_slice() {
        [g] => Ok(Some(NodeMatch::Guid(*g))),
        [] => Err(format!(
            "no node named {t:?} (a nickname 0–255, a GUID, or a known node's name)"
        )),
        many => Err(format!(
            "{} nodes are named like {t:?}: be more exact",
            many.len()
        )),
    }
}

/// The value read, or `None` with why said in `errors`.
fn keep<T>(
    errors: &mut Vec<FieldError>,
    field: &'static str,
    r: Result<Option<T>, String>,
) -> Option<T> {
    r.map_err(|e| errors.push((field, e))).ok().flatten()
}

impl ViewFilterFields {
    /// The filter, and what was not understood (those parts are left out).
    pub fn read(&self, known: &HashMap<Guid, String>) -> (ViewFilter, Vec<FieldError>) {
        let mut errors = Vec::new();
        let mut class = keep(&mut errors, "class", read_class(&self.class));
        let (mut kind, mut any_of) = (None, Vec::new());
        match keep(&mut errors, "type", read_type(&self.kind, class)) {
            Some(TypeMatch::One(c, k)) => {
                class = class.or(c);
                kind = Some(k);
            }
            Some(TypeMatch::AnyOf(pairs)) => any_of = pairs,
            None => {}
        }
        let node = keep(&mut errors, "node", read_node(&self.node, known));
        let prio = self.prio.trim();
        let max_priority = if prio.is_empty() {
            None
        } else {
            keep(
                &mut errors,
                "prio",
                number::<u8>(prio)
                    .filter(|p| *p <= 7)
                    .map(Some)
                    .ok_or_else(|| format!("priority is 0–7, not {prio:?}")),
            )
        };
        let filter = ViewFilter {
            class,
            kind,
            any_of,
            node,
            max_priority,
            text: self.text.clone(),
        };
        (filter, errors)
    }
}

/// The server filter as typed: priority, class, type and GUID, each with an optional mask
/// (a value without a mask must match exactly).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServerFilterFields {
    /// Priority 0–7.
    pub prio: String,
    /// Class name or number.
    pub class: String,
    /// Class mask (hex or decimal; empty: all bits when a class is given).
    pub class_mask: String,
    /// Type name or number.
    pub kind: String,
    /// Type mask.
    pub kind_mask: String,
    /// GUID.
    pub guid: String,
    /// GUID mask (a GUID of mask bytes).
    pub guid_mask: String,
}

impl ServerFilterFields {
    /// The filter and mask for `SFLT`/`SMSK`, or what was not understood.
    pub fn read(&self) -> Result<Filter, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut f = Filter::PASS_ALL;
        let mut mask = |field: &'static str, text: &str, all: u16| -> u16 {
            let t = text.trim();
            if t.is_empty() {
                return all;
            }
            number(t).unwrap_or_else(|| {
                errors.push((
                    field,
                    format!("a mask is a number (0x… or decimal), not {t:?}"),
                ));
                0
            })
        };
        let prio = self.prio.trim();
        let prio_value = (!prio.is_empty()).then(|| number::<u8>(prio).filter(|p| *p <= 7));
        let class = read_class(&self.class);
        let kind = read_type(&self.kind, class.clone().ok().flatten());
        let class_mask = mask("class mask", &self.class_mask, 0xFFFF);
        let kind_mask = mask("type mask", &self.kind_mask, 0xFFFF);
        match prio_value {
            Some(Some(p)) => {
                f.filter.priority = p;
                f.mask.priority = 7;
            }
            Some(None) => errors.push(("priority", format!("priority is 0–7, not {prio:?}"))),
            None => {}
        }
        let class = match (class, &kind) {
            (Ok(c), Ok(Some(TypeMatch::One(implied, _)))) => c.or(*implied),
            (Ok(c), _) => c,
            (Err(e), _) => {
                errors.push(("class", e));
                None
            }
        };
        if let Some(c) = class {
            f.filter.class = c;
            f.mask.class = class_mask;
        }
        match kind {
            Ok(Some(TypeMatch::One(_, k))) => {
                f.filter.kind = k;
                f.mask.kind = kind_mask;
            }
            Ok(Some(TypeMatch::AnyOf(pairs))) => errors.push((
                "type",
                format!(
                    "{:?} is a type in {} classes: give the class",
                    self.kind.trim(),
                    pairs.len()
                ),
            )),
            Ok(None) => {}
            Err(e) => errors.push(("type", e)),
        }
        let guid = |field: &'static str, text: &str, errors: &mut Vec<FieldError>| {
            let t = text.trim();
            if t.is_empty() {
                return None;
            }
            t.parse::<Guid>()
                .map_err(|e| errors.push((field, format!("{e}"))))
                .ok()
        };
        if let Some(g) = guid("GUID", &self.guid, &mut errors) {
            f.filter.guid = g;
            f.mask.guid =
                guid("GUID mask", &self.guid_mask, &mut errors).unwrap_or(Guid([0xFF; 16]));
        }
        if errors.is_empty() {
            Ok(f)
        } else {
            Err(errors)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn view_filter_takes_names_and_numbers_and_says_what_it_does_not_understand() {
        let node = Guid([
            0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xF5, 0, 1, 0, 0, 0, 0, 0, 2,
        ]);
        let known = HashMap::from([(node, "Kitchen relay".to_string())]);
        let fields = ViewFilterFields {
            class: "information".into(),
            kind: "node heartbeat".into(),
            node: "kitchen".into(),
            prio: "3".into(),
            text: String::new(),
        };
        let (f, errors) = fields.read(&known);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(
            (f.class, f.kind, f.max_priority),
            (Some(20), Some(9), Some(3))
        );
        assert_eq!(f.node, Some(NodeMatch::Guid(node)));
        // a type alone that is in one class gives the class
        let (f, _) = ViewFilterFields {
            kind: "NODE_HEARTBEAT".into(),
            ..Default::default()
        }
        .read(&known);
        assert_eq!((f.class, f.kind), (Some(20), Some(9)));
        let (f, errors) = ViewFilterFields {
            class: "0x14".into(),
            kind: "nonsense".into(),
            node: "attic".into(),
            prio: "9".into(),
            ..Default::default()
        }
        .read(&known);
        assert_eq!(f.class, Some(20));
        let fields: Vec<&str> = errors.iter().map(|(f, _)| *f).collect();
        assert_eq!(fields, ["type", "node", "prio"]);
        assert!(
            errors[0].1.contains("CLASS1.INFORMATION has no type named"),
            "{errors:?}"
        );
        // a type in several classes passes any of them
        let (f, errors) = ViewFilterFields {
            kind: "temperature".into(),
            ..Default::default()
        }
        .read(&known);
        assert!(errors.is_empty() && f.class.is_none() && f.any_of.contains(&(10, 6)));
        let (f, _) = ViewFilterFields {
            node: "3".into(),
            ..Default::default()
        }
        .read(&known);
        assert_eq!(f.node, Some(NodeMatch::Nickname(3)));
    }

    #[test]
    fn server_filter_form_with_names_and_masks() {
        let f = ServerFilterFields {
            class: "CLASS1.CONTROL".into(),
            kind: "turnon".into(),
            ..Default::default()
        }
        .read()
        .unwrap();
        assert_eq!(
            (f.filter.class, f.mask.class, f.filter.kind, f.mask.kind),
            (30, 0xFFFF, 5, 0xFFFF)
        );
        assert_eq!(f.mask.guid, Guid::ZERO);
        assert_eq!(ServerFilterFields::default().read(), Ok(Filter::PASS_ALL));
        let f = ServerFilterFields {
            prio: "2".into(),
            class: "10".into(),
            class_mask: "0x1F0".into(),
            guid: "FF:FF:FF:FF:FF:FF:FF:F5:00:01:00:00:00:00:00:01".into(),
            guid_mask: "FF:FF:FF:FF:FF:FF:FF:FF:FF:FF:FF:FF:FF:FF:FF:00".into(),
            ..Default::default()
        }
        .read()
        .unwrap();
        assert_eq!(
            (f.filter.priority, f.mask.priority, f.mask.class),
            (2, 7, 0x1F0)
        );
        assert_eq!(f.mask.guid.0[15], 0);
        let errors = ServerFilterFields {
            class: "nope".into(),
            kind_mask: "zz".into(),
            guid: "1:2".into(),
            ..Default::default()
        }
        .read()
        .unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|(f, _)| *f).collect();
        assert_eq!(fields, ["type mask", "class", "GUID"]);
    }
}
