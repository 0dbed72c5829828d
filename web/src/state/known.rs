//! Known nodes: the names the user gave nodes (or that scans, MDFs and standard registers
//! told), by GUID. They name nodes everywhere (log, detail, charts, filters), are kept in the
//! browser, and go out and come in as JSON: `[{"guid": "FF:…", "name": "Kitchen relay"}]`.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use vscp_core::Guid;

/// Names by GUID.
pub type KnownNodes = HashMap<Guid, String>;

/// Longest name kept, characters.
pub const MAX_NAME: usize = 64;

/// One known node as exported.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KnownNode {
    /// The node's GUID, written in full.
    pub guid: String,
    /// Its name.
    pub name: String,
}

/// The known nodes as a list sorted by name (for the page, storage and export).
#[must_use]
pub fn to_list(known: &KnownNodes) -> Vec<KnownNode> {
    let mut list: Vec<KnownNode> = known
        .iter()
        .map(|(g, n)| KnownNode {
            guid: g.to_string(),
            name: n.clone(),
        })
        .collect();
    list.sort_by(|a, b| {
        a.name
            .to_lowercase()
            .cmp(&b.name.to_lowercase())
            .then(a.guid.cmp(&b.guid))
    });
    list
}

/// A name as kept: trimmed and at most [`MAX_NAME`] characters (`None`: no name).
#[must_use]
pub fn clean_name(name: &str) -> Option<String> {
    let name: String = name.trim().chars().take(MAX_NAME).collect();
    (!name.is_empty()).then_some(name)
}

/// Reads a list (an export, or what storage kept); entries without a readable GUID or a
/// name are counted, not kept.
#[must_use]
pub fn from_list(list: &[KnownNode]) -> (KnownNodes, usize) {
    let mut known = KnownNodes::new();
    let mut bad = 0;
    for k in list {
        match (k.guid.parse::<Guid>(), clean_name(&k.name)) {
            (Ok(g), Some(name)) => {
                known.insert(g, name);
            }
            _ => bad += 1,
        }
    }
    (known, bad)
}

/// Reads an exported JSON file.
pub fn from_json(text: &str) -> Result<(KnownNodes, usize), String> {
    let list: Vec<KnownNode> = serde_json::from_str(text)
        .map_err(|e| format!("not a known-nodes file ([{{\"guid\":…,\"name\":…}}]): {e}"))?;
    Ok(from_list(&list))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_reads_back_and_bad_entries_are_counted() {
        let g = Guid([
            0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xF5, 0, 1, 0, 0, 0, 0, 0, 3,
        ]);
        let known = KnownNodes::from([(g, "Kitchen relay".to_string())]);
        let json = serde_json::to_string(&to_list(&known)).unwrap();
        assert_eq!(from_json(&json), Ok((known, 0)));
        let (k, bad) = from_json(r#"[{"guid":"1:2","name":"x"},{"guid":"FF:FF:FF:FF:FF:FF:FF:F5:00:01:00:00:00:00:00:04","name":"  "}]"#).unwrap();
        assert_eq!((k.len(), bad), (0, 2));
        assert!(from_json("{}").is_err());
        assert_eq!(
            clean_name(&"x".repeat(100)).map(|n| n.len()),
            Some(MAX_NAME)
        );
    }
}
