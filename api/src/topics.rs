//! The MQTT topic layout the bridge publishes and the console reads, under a prefix
//! (`vscp` by default): events at `{prefix}/{guid}/{class}/{type}/…` (written by vscp-core),
//! each bridge's retained server list at `{prefix}/servers/{bridge}`, and commands for one
//! server at `{prefix}/command/{server}`.

use serde::{Deserialize, Serialize};

/// The topic prefix when none is configured.
pub const DEFAULT_PREFIX: &str = "vscp";

/// The topics under one prefix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Topics {
    prefix: String,
}

impl Topics {
    /// The topics under `prefix` (a trailing `/` is dropped; empty: [`DEFAULT_PREFIX`]).
    #[must_use]
    pub fn new(prefix: &str) -> Topics {
        let prefix = prefix.trim_end_matches('/');
        Topics {
            prefix: if prefix.is_empty() {
                DEFAULT_PREFIX
            } else {
                prefix
            }
            .to_string(),
        }
    }

    /// The prefix.
    #[must_use]
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Where a bridge announces its servers (retained).
    #[must_use]
    pub fn servers(&self, bridge: &str) -> String {
        format!("{}/servers/{bridge}", self.prefix)
    }

    /// The filter for every bridge's server list.
    #[must_use]
    pub fn all_servers(&self) -> String {
        self.servers("+")
    }

    /// Is `topic` a bridge's server list?
    #[must_use]
    pub fn is_servers(&self, topic: &str) -> bool {
        topic
            .strip_prefix(&self.prefix)
            .is_some_and(|rest| rest.starts_with("/servers/"))
    }

    /// Where commands for `server` go.
    #[must_use]
    pub fn command(&self, server: &str) -> String {
        format!("{}/command/{server}", self.prefix)
    }

    /// The filter for commands to every server.
    #[must_use]
    pub fn all_commands(&self) -> String {
        self.command("+")
    }

    /// The server a command topic is for.
    #[must_use]
    pub fn command_for<'t>(&self, topic: &'t str) -> Option<&'t str> {
        topic
            .strip_prefix(&self.prefix)?
            .strip_prefix("/command/")
            .filter(|s| !s.is_empty() && !s.contains('/'))
    }
}

/// What a bridge announces at [`Topics::servers`]: the servers it sends commands into.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerList {
    /// The bridge (its MQTT client id).
    pub bridge: String,
    /// Its servers' names.
    pub servers: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout() {
        let t = Topics::new("site/");
        assert_eq!(t.servers("b1"), "site/servers/b1");
        assert_eq!(t.all_servers(), "site/servers/+");
        assert!(t.is_servers("site/servers/b1") && !t.is_servers("site/command/a"));
        assert_eq!(t.command("a"), "site/command/a");
        assert_eq!(t.all_commands(), "site/command/+");
        assert_eq!(t.command_for("site/command/a"), Some("a"));
        assert_eq!(t.command_for("site/command/a/b"), None);
        assert_eq!(t.command_for("other/command/a"), None);
        assert_eq!(Topics::new("").prefix(), DEFAULT_PREFIX);
        let list = ServerList {
            bridge: "b1".into(),
            servers: vec!["a".into()],
        };
        let json = serde_json::to_string(&list).unwrap();
        assert_eq!(json, r#"{"bridge":"b1","servers":["a"]}"#);
    }
}
