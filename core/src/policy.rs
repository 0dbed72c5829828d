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

/// A line refused for a user's level.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Denied {
    /// The level it needs.
    pub needs: u8,
}

impl Denied {
    /// The reply the user gets instead of the server's (with its line end).
    #[must_use]
    pub fn reply(&self) -> String {
        format!("-OK - Not allowed (needs privilege {})\r\n", self.needs)
    }
}

/// One session's gate: judges each line against the user's level and remembers what went
/// through for repeats.
#[derive(Clone, Debug, Default)]
pub struct LineGate {
    history: VecDeque<Command>,
}

impl LineGate {
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
            return Err(Denied { needs });
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
        assert_eq!(g.check(write, OPERATOR), Err(Denied { needs: ENGINEER }));
        assert_eq!(g.check(write, ENGINEER), Ok(ENGINEER));
        let l2 = "SEND 0,512,38,,,,-,FF,FF,FF,FF,FF,FF,FF,F5,00,01,00,00,00,00,00,00,1,0,0,1,7";
        assert_eq!(g.check(l2, OPERATOR).err().map(|d| d.needs), Some(ENGINEER));
        assert_eq!(
            g.check("SEND garbage", OPERATOR).err().map(|d| d.needs),
            Some(ENGINEER)
        );
        assert_eq!(
            Denied { needs: 6 }.reply(),
            "-OK - Not allowed (needs privilege 6)\r\n"
        );
        assert_eq!(role_level("Engineer"), Some(6));
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
