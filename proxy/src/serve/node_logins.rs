//! Node logins the proxy keeps (`--node-logins FILE`, named by `--node NAME=HOST:PORT,login=ENTRY`):
//! the proxy logs in to such a node itself, and the browser never learns the password.
//!
//! ```toml
//! [hall]
//! user = "admin"
//! password = "secret"
//! ```

use std::collections::HashMap;

use anyhow::Context;
use serde::Deserialize;
use vscp_api::Login;

use crate::config::Args;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    user: String,
    password: String,
}

/// The login of each target that has one, by target name.
pub(super) type NodeLogins = HashMap<String, Login>;

/// Reads `--node-logins` and pairs each `--node …,login=ENTRY` with its entry; refuses
/// entries that do not exist, and node logins on a proxy anyone may use (no --users, no --token).
pub(super) fn load(args: &Args) -> anyhow::Result<NodeLogins> {
    let wanted: Vec<_> = args
        .nodes
        .iter()
        .filter_map(|n| Some((n.name.clone(), n.login.clone()?)))
        .collect();
    let Some(path) = &args.node_logins else {
        anyhow::ensure!(
            wanted.is_empty(),
            "--node {},login=…: give the logins with --node-logins FILE",
            wanted[0].0
        );
        return Ok(NodeLogins::new());
    };
    anyhow::ensure!(
        args.users.is_some() || args.token.is_some(),
        "--node-logins needs --users or --token: otherwise whoever reaches the proxy is logged in to the nodes"
    );
    let text = std::fs::read_to_string(path).with_context(|| format!("{}", path.display()))?;
    let entries = parse(&text).with_context(|| format!("{}", path.display()))?;
    wanted
        .into_iter()
        .map(|(target, entry)| {
            let login = entries.get(&entry).cloned().with_context(|| {
                format!(
                    "--node {target},login={entry}: no [{entry}] in {}",
                    path.display()
                )
            })?;
            Ok((target, login))
        })
        .collect()
}

fn parse(text: &str) -> anyhow::Result<HashMap<String, Login>> {
    let entries: HashMap<String, Entry> = toml::from_str(text)?;
    Ok(entries
        .into_iter()
        .map(|(name, e)| {
            (
                name,
                Login {
                    user: e.user,
                    password: e.password,
                },
            )
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_read_and_checked() {
        let logins = parse("[hall]\nuser = \"admin\"\npassword = \"pw\"\n").unwrap();
        assert_eq!(logins["hall"].user, "admin");
        assert!(parse("[hall]\nuser = \"admin\"\n").is_err(), "no password");
        assert!(parse("[hall]\nuser = \"a\"\npassword = \"b\"\nport = 1\n").is_err());
    }
}
