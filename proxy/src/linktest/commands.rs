//! The query commands, as a table: each is sent once and its reply decoded.

use vscp_api::{Check, Outcome};
use vscp_core::{Capabilities, Command, InterfaceArg, Reply};

use super::{decoded, driver::Driver};

/// How a reply is read into the report's detail.
type Decode = fn(&Reply) -> Result<String, String>;

fn text<T: std::fmt::Display, E: std::fmt::Display>(r: Result<T, E>) -> Result<String, String> {
    r.map(|v| v.to_string()).map_err(|e| e.to_string())
}

/// One query check: its name, the command, how its reply must read.
type Query = (&'static str, fn() -> Command, Decode);

/// The query checks, in the order they run.
const QUERIES: [Query; 8] = [
    ("noop", || Command::Noop, |_| Ok("+OK".into())),
    ("vers", || Command::Version, |r| text(r.version())),
    (
        "wcyd",
        || Command::Wcyd,
        |r| {
            text(
                r.capabilities()
                    .map(|c| format!("{c}: {}", c.names().join(", "))),
            )
        },
    ),
    ("chid", || Command::ChId, |r| text(r.channel_id())),
    (
        "ggid",
        || Command::GetGuid,
        |r| r.guid().map(|g| g.to_string()).map_err(|e| e.to_string()),
    ),
    (
        "stat",
        || Command::Stat,
        |r| {
            r.stat()
                .map(|_| "7 counters".into())
                .map_err(|e| e.to_string())
        },
    ),
    (
        "info",
        || Command::Info,
        |r| r.info().map(|i| i.error_str).map_err(|e| e.to_string()),
    ),
    (
        "challenge",
        || Command::Challenge,
        |r| {
            r.challenge()
                .map(|s| format!("{} hex digits", s.len()))
                .map_err(|e| e.to_string())
        },
    ),
];

/// Every query, then `INTERFACE LIST` (required when WCYD claims several interfaces).
pub(super) async fn checks(d: &mut Driver) -> Vec<Check> {
    let mut checks = Vec::new();
    let mut caps: Option<Capabilities> = None;
    for (name, command, decode) in QUERIES {
        let command = command();
        let (r, ex) = d.run(command.clone()).await;
        if command == Command::Wcyd {
            caps = r.as_ref().ok().and_then(|r| r.capabilities().ok());
        }
        checks.push(decoded(name, r, ex, decode));
    }
    let (r, ex) = d.run(Command::Interface(InterfaceArg::List)).await;
    let multi = caps.is_some_and(|c| c.has(61));
    checks.push(
        match decoded("interface", r, ex, |r| {
            r.interfaces()
                .map(|i| format!("{} interface(s)", i.len()))
                .map_err(|e| e.to_string())
        }) {
            c if c.outcome == Outcome::NotSupported && multi => Check {
                outcome: Outcome::Fail,
                detail: format!("WCYD says multi-interface but {}", c.detail),
                ..c
            },
            c => c,
        },
    );
    checks
}
