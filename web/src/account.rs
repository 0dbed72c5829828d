//! The account the page is logged in to the proxy with (`/api/me`), when the proxy has
//! accounts (`--users`): what it may do, so that actions above its level are disabled with
//! the reason instead of failing at the node.

use serde::Deserialize;
use vscp_core::{
    Command, Event,
    policy::{self, EventRule},
};

/// The page's standing with the proxy.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Account {
    /// Not asked yet.
    #[default]
    Unknown,
    /// The proxy has no accounts: everything the node allows.
    Open,
    /// The proxy has accounts and the page is not logged in (with the last login's error).
    LoggedOut(Option<String>),
    /// Logged in.
    LoggedIn {
        /// Account name.
        user: String,
        /// Privilege level 0–15.
        level: u8,
        /// Events it may SEND (empty: any its level allows).
        send: Vec<EventRule>,
    },
}

/// `/api/me`'s answer.
#[derive(Deserialize)]
pub struct Me {
    accounts: bool,
    user: Option<String>,
    level: Option<u8>,
    #[serde(default)]
    send: Vec<String>,
}

impl From<Me> for Account {
    fn from(me: Me) -> Account {
        match (me.accounts, me.user, me.level) {
            (false, _, _) => Account::Open,
            (true, Some(user), Some(level)) => Account::LoggedIn {
                user,
                level,
                send: me.send.iter().filter_map(|r| r.parse().ok()).collect(),
            },
            (true, _, _) => Account::LoggedOut(None),
        }
    }
}

/// A level's role name, or the number.
#[must_use]
pub fn level_name(level: u8) -> String {
    match level {
        policy::VIEWER => "viewer".into(),
        policy::OPERATOR => "operator".into(),
        policy::ENGINEER => "engineer".into(),
        policy::ADMIN => "admin".into(),
        n => format!("level {n}"),
    }
}

impl Account {
    /// Why an action needing privilege `needs` is not allowed (`None`: it is).
    #[must_use]
    pub fn denies(&self, needs: u8) -> Option<String> {
        match self {
            Account::Unknown | Account::Open => None,
            Account::LoggedOut(_) => Some("log in to the proxy first".into()),
            Account::LoggedIn { user, level, .. } if *level < needs => Some(format!(
                "needs privilege {needs} ({}); {user} is {} ({level})",
                level_name(needs),
                level_name(*level)
            )),
            Account::LoggedIn { .. } => None,
        }
    }

    /// Why sending this event is not allowed: the level it needs (a register write, the
    /// bootloader: an engineer's), or the account's event rules.
    #[must_use]
    pub fn denies_send(&self, event: &Event) -> Option<String> {
        let needs = policy::required(&Command::Send(event.clone()), &[]);
        self.denies(needs).or_else(|| match self {
            Account::LoggedIn { user, send, .. }
                if !send.is_empty() && !send.iter().any(|r| r.allows(event)) =>
            {
                Some(format!(
                    "{user} may send only {}",
                    send.iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            }
            _ => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn levels_and_rules_say_why() {
        let me: Me = serde_json::from_str(
            r#"{"accounts":true,"user":"ann","level":4,"send":["20:3","bad"]}"#,
        )
        .unwrap();
        let ann = Account::from(me);
        assert_eq!(ann.denies(policy::OPERATOR), None);
        assert_eq!(
            ann.denies(policy::ENGINEER).as_deref(),
            Some("needs privilege 6 (engineer); ann is operator (4)")
        );
        let ev = |line: &str| line.parse::<Event>().unwrap();
        assert_eq!(ann.denies_send(&ev("0,20,3,,,,-,1")), None);
        assert_eq!(
            ann.denies_send(&ev("0,20,4,,,,-,1")).as_deref(),
            Some("ann may send only 20:3")
        );
        assert!(
            ann.denies_send(&ev("0,0,11,,,,-,1,2,3")).is_some(),
            "a register write"
        );
        let open: Me = serde_json::from_str(r#"{"accounts":false}"#).unwrap();
        assert_eq!(Account::from(open).denies(policy::ADMIN), None);
        assert!(Account::LoggedOut(None).denies(0).is_some());
    }
}
