//! One tree for both forms of a module description file: XML elements (attributes and
//! child elements) and JSON objects (keys, arrays of repeated keys, scalars) become the same
//! [`Elem`], so the model is read from it once. Size, depth and node count are bounded.

use quick_xml::events::Event as Xml;

use super::MdfError;

/// Largest file accepted.
pub const MAX_BYTES: usize = 2 << 20;
/// Deepest nesting accepted.
const MAX_DEPTH: usize = 32;
/// Most elements accepted.
const MAX_NODES: usize = 200_000;

/// An element: its name, attributes (XML) and text, and its children in order.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Elem {
    pub(crate) name: String,
    pub(crate) attrs: Vec<(String, String)>,
    pub(crate) text: String,
    pub(crate) children: Vec<Elem>,
}

impl Elem {
    /// Children named `name` (case-insensitive).
    pub(crate) fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Elem> {
        self.children
            .iter()
            .filter(move |c| c.name.eq_ignore_ascii_case(name))
    }

    /// The first child named `name`.
    pub(crate) fn child(&self, name: &str) -> Option<&Elem> {
        self.children
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(name))
    }

    /// An attribute, else a child's text: MDFs write most fields either way.
    pub(crate) fn field(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .or_else(|| self.child(name).map(|c| c.text.as_str()))
            .map(str::trim)
    }

    /// Text in English (or without a language), else in any language: XML
    /// `<description lang="en">`, JSON `"description": {"en": …}` or a plain string.
    pub(crate) fn text_in(&self, name: &str) -> Option<String> {
        if let Some((_, v)) = self
            .attrs
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
        {
            return Some(v.trim().to_string());
        }
        let mut any = None;
        for c in self.all(name) {
            let lang = c.field("lang").unwrap_or("en");
            let own = c.text.trim();
            let text = if own.is_empty() {
                // JSON: one child per language
                c.child("en")
                    .or_else(|| c.children.first())
                    .map(|l| l.text.trim().to_string())
                    .unwrap_or_default()
            } else {
                own.replace("\\n", "\n")
            };
            if text.is_empty() {
                continue;
            }
            if lang.eq_ignore_ascii_case("en") || lang.eq_ignore_ascii_case("gb") {
                return Some(text);
            }
            any.get_or_insert(text);
        }
        any
    }
}

/// Counts nodes against the limit.
struct Budget(usize);

impl Budget {
    fn take(&mut self) -> Result<(), MdfError> {
        self.0 += 1;
        if self.0 > MAX_NODES {
            return Err(MdfError::TooLarge);
        }
        Ok(())
    }
}

/// Reads an XML document into its root element.
pub(crate) fn from_xml(text: &str) -> Result<Elem, MdfError> {
    let mut reader = quick_xml::Reader::from_str(text);
    let mut stack: Vec<Elem> = vec![Elem::default()];
    let mut budget = Budget(0);
    loop {
        let at = reader.buffer_position();
        let bad = |e: &dyn std::fmt::Display| MdfError::Xml(format!("at byte {at}: {e}"));
        match reader.read_event().map_err(|e| bad(&e))? {
            Xml::Start(s) => {
                budget.take()?;
                if stack.len() > MAX_DEPTH {
                    return Err(MdfError::TooDeep);
                }
                stack.push(element(&s).map_err(|e| bad(&e))?);
            }
            Xml::Empty(s) => {
                budget.take()?;
                let e = element(&s).map_err(|e| bad(&e))?;
                if let Some(top) = stack.last_mut() {
                    top.children.push(e);
                }
            }
            Xml::End(_) => {
                let done = stack.pop().ok_or_else(|| bad(&"unbalanced end tag"))?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(done),
                    None => return Err(bad(&"unbalanced end tag")),
                }
            }
            Xml::Text(t) => {
                let t = t.unescape().map_err(|e| bad(&e))?;
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&t);
                }
            }
            Xml::CData(t) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&String::from_utf8_lossy(&t));
                }
            }
            Xml::Eof => break,
            _ => {}
        }
    }
    if stack.len() != 1 {
        return Err(MdfError::Xml("the file ends inside an element".into()));
    }
    let mut doc = stack.pop().unwrap_or_default();
    doc.children
        .pop()
        .filter(|_| doc.children.is_empty())
        .ok_or_else(|| MdfError::Xml("not one root element".into()))
}

fn element(s: &quick_xml::events::BytesStart<'_>) -> Result<Elem, quick_xml::Error> {
    let mut e = Elem {
        name: String::from_utf8_lossy(s.local_name().as_ref()).into_owned(),
        ..Elem::default()
    };
    for a in s.attributes() {
        let a = a.map_err(quick_xml::Error::from)?;
        let key = String::from_utf8_lossy(a.key.local_name().as_ref()).into_owned();
        e.attrs.push((key, a.unescape_value()?.into_owned()));
    }
    Ok(e)
}

/// Reads a JSON document into a root element named `vscp`.
pub(crate) fn from_json(text: &str) -> Result<Elem, MdfError> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| MdfError::Json(e.to_string()))?;
    let mut budget = Budget(0);
    let mut root = Elem {
        name: "vscp".into(),
        ..Elem::default()
    };
    fill(&mut root, &value, 0, &mut budget)?;
    Ok(root)
}

fn fill(
    into: &mut Elem,
    value: &serde_json::Value,
    depth: usize,
    budget: &mut Budget,
) -> Result<(), MdfError> {
    use serde_json::Value as V;
    if depth > MAX_DEPTH {
        return Err(MdfError::TooDeep);
    }
    match value {
        V::Object(map) => {
            for (k, v) in map {
                let items: &[V] = match v {
                    V::Array(items) => items,
                    one => std::slice::from_ref(one),
                };
                for item in items {
                    budget.take()?;
                    let mut child = Elem {
                        name: k.clone(),
                        ..Elem::default()
                    };
                    fill(&mut child, item, depth + 1, budget)?;
                    into.children.push(child);
                }
            }
        }
        V::Array(items) => {
            for item in items {
                fill(into, item, depth + 1, budget)?;
            }
        }
        V::String(s) => into.text.clone_from(s),
        V::Number(n) => into.text = n.to_string(),
        V::Bool(b) => into.text = b.to_string(),
        V::Null => {}
    }
    Ok(())
}
