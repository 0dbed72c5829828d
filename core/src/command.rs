//! Commands of the link protocol as a typed enum ↔ one text line (protocol.md §3).

use std::{fmt, str::FromStr};

use crate::event::{Event, EventParseError, TimeForm};
use crate::filter::{FilterParseError, FilterPart};
use crate::guid::{Guid, GuidError};
use crate::line::MAX_LINE;
use crate::measure_request::MeasurementRequest;
use crate::number::{self, NumberError};

/// Argument of `INTERFACE`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum InterfaceArg {
    /// `INTERFACE LIST` (always sent with `LIST`: a bare `INTERFACE` crashes some servers).
    List,
    /// `INTERFACE CLOSE <guid>` (deprecated).
    Close(Guid),
}

/// One command line, client → server.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Command {
    /// `NOOP`.
    Noop,
    /// `HELP [cmd]`.
    Help(Option<String>),
    /// `QUIT`: the server answers and closes.
    Quit,
    /// `USER name`.
    User(String),
    /// `PASS password`.
    Pass(String),
    /// `CHALLENGE`: the status text is a session id.
    Challenge,
    /// `SEND event`.
    Send(Event),
    /// `RETR [n]`: up to n events (1 when absent).
    Retr(Option<u32>),
    /// `RCVLOOP`: stream events until `QUITLOOP`.
    RcvLoop,
    /// `QUITLOOP`.
    QuitLoop,
    /// `CDTA` / `CHKDATA`: number of queued events.
    ChkData,
    /// `CLRA` / `CLRALL`: drop queued events.
    ClrAll,
    /// `STAT`: statistics line.
    Stat,
    /// `INFO`: status line.
    Info,
    /// `CHID` / `GETCHID`: channel id.
    ChId,
    /// `SGID` / `SETGUID`.
    SetGuid(Guid),
    /// `GGID` / `GETGUID`.
    GetGuid,
    /// `VERS` / `VERSION`.
    Version,
    /// `SFLT` / `SETFILTER`.
    SetFilter(FilterPart),
    /// `SMSK` / `SETMASK`.
    SetMask(FilterPart),
    /// `TEST [arg]`.
    Test(Option<String>),
    /// `SHUTDOWN`.
    Shutdown,
    /// `RESTART`.
    Restart,
    /// `INTERFACE LIST` / `INTERFACE CLOSE guid`.
    Interface(InterfaceArg),
    /// `WCYD` / `WHATCANYOUDO`: capability word.
    Wcyd,
    /// `MEASUREMENT format,level,type,value[,…]` (vscpd): send a measurement event.
    Measurement(MeasurementRequest),
    /// `BINARY`: switch to binary framing (never sent by this toolkit on its own).
    Binary,
    /// `+`: repeat the previous command; `+n`: the n-th of the `++` list (0 = newest).
    Repeat(Option<u8>),
    /// `++`: list the commands `+n` can repeat, newest first.
    History,
    /// Any other word, sent as typed (custom commands should start with `X`).
    Custom {
        /// The command word.
        word: String,
        /// Everything after the word.
        arg: Option<String>,
    },
}

/// Why a command line could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CommandParseError {
    /// Nothing but blanks.
    #[error("empty command")]
    Empty,
    /// Longer than [`MAX_LINE`] or holding CR/LF.
    #[error("a command must be one line of at most {MAX_LINE} bytes")]
    NotOneLine,
    /// A word the protocol does not define.
    #[error("unknown command {0:?}")]
    Unknown(String),
    /// The command needs an argument.
    #[error("{0} needs an argument")]
    MissingArgument(&'static str),
    /// A numeric argument.
    #[error("{cmd}: {got:?}: {why}")]
    BadNumber {
        /// Command word.
        cmd: &'static str,
        /// The text found.
        got: String,
        /// What was wrong.
        why: NumberError,
    },
    /// The event of `SEND`.
    #[error("SEND: {0}")]
    Event(#[from] EventParseError),
    /// The filter of `SFLT`/`SMSK`.
    #[error("filter: {0}")]
    Filter(#[from] FilterParseError),
    /// The arguments of `MEASUREMENT`.
    #[error("MEASUREMENT: {0}")]
    Measurement(String),
    /// The GUID of `SGID`/`INTERFACE CLOSE`.
    #[error("GUID: {0}")]
    Guid(#[from] GuidError),
}

/// One command of the link protocol as the console's help and completion list it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CommandInfo {
    /// The word sent (short form).
    pub word: &'static str,
    /// Other words servers take for it.
    pub aliases: &'static [&'static str],
    /// Its argument, if any, as a user types it.
    pub args: &'static str,
    /// Privilege level a server wants for it (0–15).
    pub privilege: u8,
    /// What it does.
    pub help: &'static str,
}

const fn info(
    word: &'static str,
    aliases: &'static [&'static str],
    args: &'static str,
    privilege: u8,
    help: &'static str,
) -> CommandInfo {
    CommandInfo {
        word,
        aliases,
        args,
        privilege,
        help,
    }
}

/// Every command this toolkit knows, in the order of the reference.
pub const COMMANDS: &[CommandInfo] = &[
    info(
        "+",
        &[],
        "[n]",
        0,
        "repeat the last command, or the n-th of the ++ list (0 = newest)",
    ),
    info(
        "++",
        &[],
        "",
        0,
        "list the commands + can repeat, newest first",
    ),
    info("NOOP", &[], "", 0, "no operation; +OK"),
    info("HELP", &[], "[command]", 0, "the server's help text"),
    info("QUIT", &["EXIT"], "", 0, "close the connection"),
    info("USER", &[], "name", 0, "user name for the login"),
    info("PASS", &[], "password", 0, "password for the login"),
    info("CHALLENGE", &[], "", 0, "a session id for a hashed login"),
    info(
        "SEND",
        &[],
        "head,class,type,obid,datetime,timestamp,GUID,data…",
        4,
        "send an event",
    ),
    info(
        "RETR",
        &["RETRIEVE"],
        "[n]",
        2,
        "fetch up to n queued events",
    ),
    info(
        "RCVLOOP",
        &["RECEIVELOOP"],
        "",
        2,
        "stream events until QUITLOOP",
    ),
    info("QUITLOOP", &[], "", 2, "leave the receive loop"),
    info(
        "CDTA",
        &["CHKDATA", "CHECKDATA"],
        "",
        1,
        "number of queued events",
    ),
    info(
        "CLRA",
        &["CLRALL", "CLEARALL"],
        "",
        1,
        "drop the queued events",
    ),
    info("STAT", &[], "", 1, "statistics counters"),
    info("INFO", &[], "", 1, "channel status and last error"),
    info("CHID", &["GETCHID"], "", 1, "channel id"),
    info("SGID", &["SETGUID"], "GUID", 6, "set the channel GUID"),
    info("GGID", &["GETGUID"], "", 1, "channel GUID"),
    info("VERS", &["VERSION"], "", 0, "server version"),
    info(
        "SFLT",
        &["SETFILTER"],
        "priority,class,type,GUID",
        6,
        "set the filter",
    ),
    info(
        "SMSK",
        &["SETMASK"],
        "priority,class,type,GUID",
        6,
        "set the mask",
    ),
    info("TEST", &[], "[arg]", 15, "server self-test"),
    info("SHUTDOWN", &[], "", 15, "shut the server down"),
    info("RESTART", &[], "", 15, "restart the server"),
    info(
        "INTERFACE",
        &["CLIENT"],
        "LIST | CLOSE GUID",
        15,
        "list the server's interfaces",
    ),
    info("WCYD", &["WHATCANYOUDO"], "", 0, "capabilities (64 bits)"),
    info(
        "MEASUREMENT",
        &[],
        "format,level,type,value[,…]",
        4,
        "send a measurement event (vscpd)",
    ),
    info(
        "BINARY",
        &[],
        "",
        0,
        "binary framing (not used by this toolkit)",
    ),
];

impl Command {
    /// The catalogue entry of this command (`None` for a custom word).
    #[must_use]
    pub fn info(&self) -> Option<&'static CommandInfo> {
        let word = self.word();
        COMMANDS.iter().find(|c| c.word == word)
    }

    /// Privilege level a server wants for this command (custom words: 0).
    #[must_use]
    pub fn privilege(&self) -> u8 {
        self.info().map_or(0, |c| c.privilege)
    }
}

fn need<'a>(arg: Option<&'a str>, cmd: &'static str) -> Result<&'a str, CommandParseError> {
    arg.ok_or(CommandParseError::MissingArgument(cmd))
}

impl Command {
    /// The canonical command word (short forms, as protocol.md says to send).
    #[must_use]
    pub fn word(&self) -> &str {
        match self {
            Command::Noop => "NOOP",
            Command::Help(_) => "HELP",
            Command::Quit => "QUIT",
            Command::User(_) => "USER",
            Command::Pass(_) => "PASS",
            Command::Challenge => "CHALLENGE",
            Command::Send(_) => "SEND",
            Command::Retr(_) => "RETR",
            Command::RcvLoop => "RCVLOOP",
            Command::QuitLoop => "QUITLOOP",
            Command::ChkData => "CDTA",
            Command::ClrAll => "CLRA",
            Command::Stat => "STAT",
            Command::Info => "INFO",
            Command::ChId => "CHID",
            Command::SetGuid(_) => "SGID",
            Command::GetGuid => "GGID",
            Command::Version => "VERS",
            Command::SetFilter(_) => "SFLT",
            Command::SetMask(_) => "SMSK",
            Command::Test(_) => "TEST",
            Command::Shutdown => "SHUTDOWN",
            Command::Restart => "RESTART",
            Command::Interface(_) => "INTERFACE",
            Command::Wcyd => "WCYD",
            Command::Measurement(_) => "MEASUREMENT",
            Command::Binary => "BINARY",
            Command::Repeat(_) => "+",
            Command::History => "++",
            Command::Custom { word, .. } => word,
        }
    }

    /// Parses a line as a user typed it: known words become typed commands, any
    /// other single word is passed through as [`Command::Custom`].
    pub fn parse_lenient(line: &str) -> Result<Command, CommandParseError> {
        match line.parse() {
            Err(CommandParseError::Unknown(word)) => {
                let arg = line
                    .trim()
                    .split_once(char::is_whitespace)
                    .map(|(_, a)| a.trim().to_string());
                Ok(Command::Custom {
                    word,
                    arg: arg.filter(|a| !a.is_empty()),
                })
            }
            other => other,
        }
    }
}

impl FromStr for Command {
    type Err = CommandParseError;

    fn from_str(line: &str) -> Result<Self, Self::Err> {
        if line.len() > MAX_LINE || line.contains(['\r', '\n']) {
            return Err(CommandParseError::NotOneLine);
        }
        let line = line.trim();
        if line.is_empty() {
            return Err(CommandParseError::Empty);
        }
        let (word, arg) = match line.split_once(char::is_whitespace) {
            Some((w, a)) => (w, Some(a.trim()).filter(|a| !a.is_empty())),
            None => (line, None),
        };
        let opt = |a: Option<&str>| a.map(str::to_string);
        let upper = word.to_ascii_uppercase();
        // long forms and aliases resolve through the catalogue: one list of them
        let canonical = COMMANDS
            .iter()
            .find(|c| c.aliases.contains(&upper.as_str()))
            .map_or(upper.as_str(), |c| c.word);
        Ok(match canonical {
            "NOOP" => Command::Noop,
            "HELP" => Command::Help(opt(arg)),
            "QUIT" => Command::Quit,
            "USER" => Command::User(need(arg, "USER")?.to_string()),
            "PASS" => Command::Pass(need(arg, "PASS")?.to_string()),
            "CHALLENGE" => Command::Challenge,
            "SEND" => Command::Send(Event::read_sent(need(arg, "SEND")?)?),
            "RETR" => Command::Retr(match arg {
                None => None,
                Some(a) => Some(
                    number::parse(a).map_err(|why| CommandParseError::BadNumber {
                        cmd: "RETR",
                        got: a.to_string(),
                        why,
                    })?,
                ),
            }),
            "RCVLOOP" => Command::RcvLoop,
            "QUITLOOP" => Command::QuitLoop,
            "CDTA" => Command::ChkData,
            "CLRA" => Command::ClrAll,
            "STAT" => Command::Stat,
            "INFO" => Command::Info,
            "CHID" => Command::ChId,
            "SGID" => Command::SetGuid(need(arg, "SGID")?.parse()?),
            "GGID" => Command::GetGuid,
            "VERS" => Command::Version,
            "SFLT" => Command::SetFilter(need(arg, "SFLT")?.parse()?),
            "SMSK" => Command::SetMask(need(arg, "SMSK")?.parse()?),
            "TEST" => Command::Test(opt(arg)),
            "SHUTDOWN" => Command::Shutdown,
            "RESTART" => Command::Restart,
            "INTERFACE" => {
                match arg.map(|a| a.split_once(char::is_whitespace).unwrap_or((a, ""))) {
                    None => Command::Interface(InterfaceArg::List),
                    Some((sub, _)) if sub.eq_ignore_ascii_case("LIST") => {
                        Command::Interface(InterfaceArg::List)
                    }
                    Some((sub, g)) if sub.eq_ignore_ascii_case("CLOSE") => {
                        Command::Interface(InterfaceArg::Close(
                            need(Some(g).filter(|g| !g.is_empty()), "INTERFACE CLOSE")?.parse()?,
                        ))
                    }
                    Some((sub, _)) => {
                        return Err(CommandParseError::Unknown(format!("INTERFACE {sub}")));
                    }
                }
            }
            "WCYD" => Command::Wcyd,
            "MEASUREMENT" => Command::Measurement(
                MeasurementRequest::parse(need(arg, "MEASUREMENT")?)
                    .map_err(CommandParseError::Measurement)?,
            ),
            "BINARY" => Command::Binary,
            "+" => Command::Repeat(None),
            "++" => Command::History,
            w if w.len() > 1 && w.starts_with('+') => {
                Command::Repeat(Some(number::parse(&w[1..]).map_err(|why| {
                    CommandParseError::BadNumber {
                        cmd: "+",
                        got: w.to_string(),
                        why,
                    }
                })?))
            }
            _ => return Err(CommandParseError::Unknown(word.to_string())),
        })
    }
}

impl Command {
    /// The line to send (without CRLF), with an event's known time written in `form`.
    #[must_use]
    pub fn line_with(&self, form: TimeForm) -> String {
        match self {
            Command::Send(ev) if form != TimeForm::AsHeld => {
                let mut s = String::from("SEND ");
                ev.write_with(&mut s, form);
                s
            }
            other => other.to_string(),
        }
    }
}

impl fmt::Display for Command {
    /// The line to send, without CRLF.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.word())?;
        match self {
            Command::Repeat(Some(n)) => write!(f, "{n}"),
            Command::Help(Some(a))
            | Command::Test(Some(a))
            | Command::User(a)
            | Command::Pass(a) => {
                write!(f, " {a}")
            }
            Command::Custom { arg: Some(a), .. } => write!(f, " {a}"),
            Command::Send(ev) => write!(f, " {ev}"),
            Command::Retr(Some(n)) => write!(f, " {n}"),
            Command::SetGuid(g) => write!(f, " {g}"),
            Command::SetFilter(p) | Command::SetMask(p) => write!(f, " {p}"),
            Command::Measurement(m) => write!(f, " {m}"),
            Command::Interface(InterfaceArg::List) => f.write_str(" LIST"),
            Command::Interface(InterfaceArg::Close(g)) => write!(f, " CLOSE {g}"),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn long_and_short_names() {
        for (line, want) in [
            ("chkdata", "CDTA"),
            ("CLRALL", "CLRA"),
            ("getguid", "GGID"),
            ("version", "VERS"),
            ("whatcanyoudo", "WCYD"),
            ("interface", "INTERFACE LIST"),
            ("retr 0x10", "RETR 16"),
            (
                "setfilter 1,20,3,-",
                "SFLT 1,20,3,00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00",
            ),
            ("send 0,20,3,,,,-,0,1,35", "SEND 0,20,3,0,,,-,0,1,35"),
            ("user  admin ", "USER admin"),
        ] {
            assert_eq!(line.parse::<Command>().unwrap().to_string(), want);
        }
    }

    #[test]
    fn the_catalogue_names_every_command_and_alias_the_parser_knows() {
        for c in COMMANDS {
            let arg = match c.word {
                "USER" | "PASS" => " x",
                "SEND" => " 0,20,3,,,,-",
                "SGID" => " -",
                "SFLT" | "SMSK" => " 0,0,0,-",
                "MEASUREMENT" => " 0,0,6,21.5",
                _ => "",
            };
            for w in std::iter::once(&c.word).chain(c.aliases) {
                let cmd: Command = format!("{w}{arg}")
                    .parse()
                    .unwrap_or_else(|e| panic!("{w}: {e}"));
                assert_eq!(cmd.word(), c.word, "{w}");
                assert_eq!(cmd.privilege(), c.privilege);
            }
        }
        assert_eq!("SHUTDOWN".parse::<Command>().unwrap().privilege(), 15);
        assert_eq!(Command::parse_lenient("XFOO").unwrap().privilege(), 0);
    }

    #[test]
    fn errors() {
        assert_eq!("".parse::<Command>(), Err(CommandParseError::Empty));
        assert_eq!(
            "FOO x".parse::<Command>(),
            Err(CommandParseError::Unknown("FOO".into()))
        );
        assert_eq!(
            "SEND".parse::<Command>(),
            Err(CommandParseError::MissingArgument("SEND"))
        );
        assert_eq!(
            "NOOP\r\nQUIT".parse::<Command>(),
            Err(CommandParseError::NotOneLine)
        );
        assert!(matches!(
            "SEND 0,20".parse::<Command>(),
            Err(CommandParseError::Event(_))
        ));
        assert_eq!(
            Command::parse_lenient("XPING 1 2").unwrap(),
            Command::Custom {
                word: "XPING".into(),
                arg: Some("1 2".into())
            }
        );
    }
}
