//! Who may send what: the privilege level (0–15) a link-protocol line needs, as the spec
//! sets it per command (the levels of [`COMMANDS`]), with `+`/`+n` resolved to the command
//! they repeat, SENDs that configure a node (register writes, nickname changes, bootloader
//! events) at the engineer's level, and anything unknown or unreadable at the admin's.
//!
//! Pure: a proxy keeps one [`LineGate`] per session and asks it about each line a user sends;
//! the gate remembers what went through, as the server does, so that repeats are judged by
//! what they repeat.

use std::collections::VecDeque;

use crate::command::{COMMANDS, Command};
use crate::event::Event;

/// The level of a viewer (may watch: RETR, RCVLOOP).
pub const VIEWER: u8 = 2;
/// The level of an operator (may also SEND events).
pub const OPERATOR: u8 = 4;
/// The level of an engineer (may also configure: filters, GUID, register writes, firmware).
pub const ENGINEER: u8 = 6;
/// The level of an admin (everything, also TEST, SHUTDOWN, RESTART, INTERFACE).
pub const ADMIN: u8 = 15;

/// Commands a server keeps for `+n` (the `++` list).
const HISTORY: usize = 10;

/// The level of a role name (`viewer`, `operator`, `engineer`, `admin`).
#[must_use]
pub fn role_level(role: &str) -> Option<u8> {
    match role.trim().to_ascii_lowercase().as_str() {
        "viewer" => Some(VIEWER),
        "operator" => Some(OPERATOR),
        "engineer" => Some(ENGINEER),
        "admin" => Some(ADMIN),
        _ => None,
    }
}

/// Does this event configure a node (CLASS1.PROTOCOL / CLASS2.PROTOCOL writes, nickname
/// changes, the bootloader's events)?
#[must_use]
pub fn configures(event: &Event) -> bool {
    let Some(ev) = event.as_level1() else {
        // CLASS2.PROTOCOL: write register (2), and everything from there on is configuration
        return event.class == 1024 && event.kind >= 2;
    };
    // Level I protocol (also over Level II as class 512): set nickname (6), drop nickname (8),
    // write register (11), enter bootloader … activate new image (12–22), extended page write
    // (38), bootloader block check / abort (54–57)
    ev.class == 0 && matches!(ev.kind, 6 | 8 | 11..=22 | 38 | 54..=57)
}

/// The level a command needs, `history` being what the server has seen, newest first.
#[must_use]
pub fn required(command: &Command, history: &[Command]) -> u8 {
    match command {
        Command::Repeat(n) => {
            // `+` repeats the newest; a repeat of nothing is answered by the server itself
            match history.get(usize::from(n.unwrap_or(0))) {
                Some(c) => required(c, &[]),
                None => 0,
            }
        }
        Command::Send(ev) if configures(ev) => ENGINEER.max(command.privilege()),
        Command::Custom { .. } => ADMIN,
        other => other.privilege(),
    }
}

/// The level a line needs that cannot be read as a command: its word's level when the word
/// is known (a SEND that cannot be read may be anything: an engineer's), else the admin's.
#[must_use]
pub fn required_unreadable(line: &str) -> u8 {
    let word = line
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_ascii_uppercase();
    match COMMANDS
        .iter()
        .find(|c| c.word == word || c.aliases.contains(&word.as_str()))
    {
        Some(c) if c.word == "SEND" => ENGINEER,
        Some(c) if c.word.starts_with('+') => ADMIN,
        Some(c) => c.privilege,
        None => ADMIN,
    }
}

/// An event class, or one type of it, that an account may SEND: `CLASS` or `CLASS:TYPE`
/// (decimal or `0x` hex). A Level I event sent over Level II (class 512–1023) counts as its
/// Level I class.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EventRule {
    /// The class.
    pub class: u16,
    /// The type, or any.
    pub kind: Option<u16>,
}

impl EventRule {
    /// Does it allow this event?
    #[must_use]
    pub fn allows(&self, event: &Event) -> bool {
        let fits = |e: &Event| e.class == self.class && self.kind.is_none_or(|k| k == e.kind);
        fits(event) || event.as_level1().is_some_and(|e| fits(&e))
    }
}

impl std::fmt::Display for EventRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.kind {
            Some(kind) => write!(f, "{}:{kind}", self.class),
            None => write!(f, "{}", self.class),
        }
    }
}

impl std::str::FromStr for EventRule {
    type Err = String;

    fn from_str(s: &str) -> Result<EventRule, String> {
        let number = |t: &str| {
            crate::number::parse_max(t, u64::from(u16::MAX))
                .map(|v| v as u16)
                .map_err(|e| format!("{t:?} in event rule {s:?}: {e}"))
        };
        let (class, kind) = match s.split_once(':') {
            Some((c, k)) => (number(c)?, Some(number(k)?)),
            None => (number(s)?, None),
        };
        Ok(EventRule { class, kind })
    }
}

/// A line refused for a user's level, or for an event the account may not send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Denied {
    /// The level it needs.
    pub needs: u8,
    /// What the account lacks.
    pub lacks: Lacks,
}

/// Why a line was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lacks {
    /// The level the line needs.
    Level,
    /// A rule allowing this class and type.
    Event(u16, u16),
    /// A SEND the gate cannot read may be any event: an account with event rules may not.
    ReadableEvent,
}

impl Denied {
    fn level(needs: u8) -> Denied {
        Denied {
            needs,
            lacks: Lacks::Level,
        }
    }

    /// The reply the user gets instead of the server's (with its line end).
    #[must_use]
    pub fn reply(&self) -> String {
        match self.lacks {
            Lacks::Level => format!("-OK - Not allowed (needs privilege {})\r\n", self.needs),
            Lacks::Event(class, kind) => format!(
                "-OK - Not allowed (this account may not send class {class} type {kind})\r\n"
            ),
            Lacks::ReadableEvent => {
                "-OK - Not allowed (this account may send only events it can read)\r\n".into()
            }
        }
    }
}

/// One session's gate: judges each line against the user's level (and the account's event
/// rules, if it has any) and remembers what went through for repeats.
#[derive(Clone, Debug, Default)]
pub struct LineGate {
    history: VecDeque<Command>,
    /// Events the account may SEND (empty: any its level allows).
    events: Vec<EventRule>,
}

impl LineGate {
    /// A gate for an account that may SEND only events these rules allow (none: any).
    #[must_use]
    pub fn with_events(events: Vec<EventRule>) -> LineGate {
        LineGate {
            history: VecDeque::new(),
            events,
        }
    }

    /// May a user of `level` send `line` (one line, without its line end)? The level it
    /// needs when it may; blank lines pass.
    pub fn check(&mut self, line: &str, level: u8) -> Result<u8, Denied> {
        if line.trim().is_empty() {
            return Ok(0);
        }
        let history: Vec<Command> = self.history.iter().cloned().collect();
        let (needs, remembered) = match Command::parse_lenient(line) {
            Ok(command) => {
                let needs = required(&command, &history);
                // the server keeps what a repeat repeats, not the `+`
                let kept = match &command {
                    Command::Repeat(n) => history.get(usize::from(n.unwrap_or(0))).cloned(),
                    Command::History => None,
                    other => Some(other.clone()),
                };
                (needs, kept)
            }
            Err(_) => (required_unreadable(line), None),
        };
        if needs > level {
            return Err(Denied::level(needs));
        }
        if !self.events.is_empty() {
            match &remembered {
                Some(Command::Send(ev)) if !self.events.iter().any(|r| r.allows(ev)) => {
                    return Err(Denied {
                        needs,
                        lacks: Lacks::Event(ev.class, ev.kind),
                    });
                }
                // a SEND the gate cannot read could be any event: not for a limited account
                None if Command::parse_lenient(line).is_err()
                    && required_unreadable(line) == ENGINEER =>
                {
                    return Err(Denied {
                        needs,
                        lacks: Lacks::ReadableEvent,
                    });
                }
                _ => {}
            }
        }
        if let Some(c) = remembered {
            self.history.push_front(c);
            self.history.truncate(HISTORY);
        }
        Ok(needs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn levels_as_the_spec_sets_them() {
        let mut g = LineGate::default();
        for (line, needs) in [
            ("NOOP", 0),
            ("vers", 0),
            ("STAT", 1),
            ("CHID", 1),
            ("RETR 5", 2),
            ("RCVLOOP", 2),
            ("SEND 0,20,3,,,,-,1,2", 4),
            ("SMSK 0,0,0,-", 6),
            ("SETGUID FF:FF:FF:FF:FF:FF:FF:FF:FF:FF:FF:FF:FF:FF:FF:FF", 6),
            ("shutdown", 15),
            ("  Restart  ", 15),
            ("INTERFACE LIST", 15),
            ("XFROBNICATE", 15),
        ] {
            assert_eq!(
                g.check(line, 0).err().map_or(0, |d| d.needs),
                needs,
                "{line}"
            );
        }
        // register writes and the bootloader over SEND need an engineer
        let write = "SEND 0,0,11,,,,-,1,2,3";
        assert_eq!(g.check(write, OPERATOR), Err(Denied::level(ENGINEER)));
        assert_eq!(g.check(write, ENGINEER), Ok(ENGINEER));
        let l2 = "SEND 0,512,38,,,,-,FF,FF,FF,FF,FF,FF,FF,F5,00,01,00,00,00,00,00,00,1,0,0,1,7";
        assert_eq!(g.check(l2, OPERATOR).err().map(|d| d.needs), Some(ENGINEER));
        assert_eq!(
            g.check("SEND garbage", OPERATOR).err().map(|d| d.needs),
            Some(ENGINEER)
        );
        assert_eq!(
            Denied::level(6).reply(),
            "-OK - Not allowed (needs privilege 6)\r\n"
        );
        assert_eq!(role_level("Engineer"), Some(6));
    }

    #[test]
    fn event_rules_limit_sends() {
        let rules = ["10", "20:0x03"].map(|r| r.parse::<EventRule>().unwrap());
        assert_eq!(
            rules[1],
            EventRule {
                class: 20,
                kind: Some(3)
            }
        );
        assert!("10:".parse::<EventRule>().is_err() && "70000".parse::<EventRule>().is_err());
        let mut g = LineGate::with_events(rules.to_vec());
        assert_eq!(g.check("SEND 0,10,6,,,,-,1,2", OPERATOR), Ok(OPERATOR));
        assert_eq!(g.check("SEND 0,20,3,,,,-,1", OPERATOR), Ok(OPERATOR));
        let refused = g.check("SEND 0,20,4,,,,-,1", OPERATOR).unwrap_err();
        assert_eq!(refused.lacks, Lacks::Event(20, 4));
        assert_eq!(
            refused.reply(),
            "-OK - Not allowed (this account may not send class 20 type 4)\r\n"
        );
        // Level I over Level II counts as its Level I class
        let l2 = "SEND 0,522,6,,,,-,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,1,5";
        assert_eq!(g.check(l2, OPERATOR), Ok(OPERATOR));
        // a repeat is judged by the SEND it repeats; an unreadable SEND is not passed
        g.check("SEND 0,10,6,,,,-,1,2", OPERATOR).unwrap();
        assert_eq!(g.check("+", OPERATOR), Ok(OPERATOR));
        assert_eq!(
            g.check("SEND 0,30,x", ADMIN).map_err(|d| d.lacks),
            Err(Lacks::ReadableEvent)
        );
        assert_eq!(g.check("NOOP", VIEWER), Ok(0), "other commands as before");
    }

    #[test]
    fn repeats_are_judged_by_what_they_repeat() {
        let mut g = LineGate::default();
        assert_eq!(g.check("+", VIEWER), Ok(0), "nothing to repeat");
        g.check("SEND 0,0,11,,,,-,1,2,3", ADMIN).unwrap();
        g.check("NOOP", VIEWER).unwrap();
        // the list is now NOOP, the register write
        let needs =
            |g: &mut LineGate, line: &str, level: u8| g.check(line, level).err().map(|d| d.needs);
        assert_eq!(
            needs(&mut g, "+1", OPERATOR),
            Some(ENGINEER),
            "the register write"
        );
        assert_eq!(g.check("+", VIEWER), Ok(0), "repeats NOOP");
        // NOOP, NOOP, the register write
        assert_eq!(needs(&mut g, "+2", OPERATOR), Some(ENGINEER));
        assert_eq!(g.check("+1", VIEWER), Ok(0));
        assert_eq!(g.check("++", VIEWER), Ok(0));
    }

    /// Property tests (native only: proptest does not build for wasm32).
    #[cfg(not(target_arch = "wasm32"))]
    mod properties {
        use super::*;
        use proptest::prelude::*;

        /// A word of `cmd` written as a user might: any case, blanks around it.
        fn spelled(word: &'static str) -> impl Strategy<Value = String> {
            (
                proptest::collection::vec(any::<bool>(), word.len()),
                "[ \t]{0,3}",
                "[ \t]{0,3}",
            )
                .prop_map(move |(upper, before, after)| {
                    let w: String = word
                        .chars()
                        .zip(upper)
                        .map(|(c, u)| {
                            if u {
                                c.to_ascii_uppercase()
                            } else {
                                c.to_ascii_lowercase()
                            }
                        })
                        .collect();
                    format!("{before}{w}{after}")
                })
        }

        /// Commands above an operator's level, in their long and short forms.
        const ABOVE_OPERATOR: [&str; 10] = [
            "SHUTDOWN",
            "RESTART",
            "TEST",
            "INTERFACE",
            "SETGUID",
            "SGID",
            "SFLT",
            "SMSK",
            "SETFILTER",
            "SETMASK",
        ];

        proptest! {
            /// No spelling of a command above an operator's level (any case, blanks, long or
            /// short form, any argument), nor a repeat of one, passes an operator's gate; and any
            /// line that passes needs at most an operator's level as a server reads it.
            #[test]
            fn nothing_above_the_level_passes(
                word in prop::sample::select(ABOVE_OPERATOR.to_vec()).prop_flat_map(spelled),
                arg in "( [0-9A-Fa-f:,-]{0,40})?",
                noise in "[ -~]{0,40}",
            ) {
                let mut g = LineGate::default();
                let line = format!("{word}{arg}");
                prop_assert!(g.check(&line, OPERATOR).is_err(), "{line:?} passed");
                if g.check(&noise, OPERATOR).is_ok() {
                    let needs = Command::parse_lenient(&noise).map_or(0, |c| required(&c, &[]));
                    prop_assert!(needs <= OPERATOR, "{noise:?} passed needing {needs}");
                }
                let mut g = LineGate::default();
                g.check(&line, ADMIN).unwrap();
                for repeat in ["+", "+0", " +0 ", "+00"] {
                    let passed = g.check(repeat, OPERATOR).is_ok();
                    // a line the server could not read is not in its list: nothing to repeat
                    let readable = Command::parse_lenient(&line).is_ok();
                    prop_assert!(!passed || !readable, "{repeat} after {line:?}");
                }
            }
        }
    }
}
