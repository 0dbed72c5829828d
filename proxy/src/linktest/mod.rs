//! linktest: checks a VSCP link-protocol server against protocol.md, built on vscp-core's
//! `ClientSession` (main connection) plus a raw connection for hostile input and timing.
//! One file per group of checks; the report types are vscp-api's (the console reads them).

mod commands;
mod driver;
mod events;
mod hostile;
mod load;

use std::time::Duration;

use vscp_api::{Check, Outcome, Report};
use vscp_core::{Command, Reply, SessionEvent, State};

use driver::Driver;

/// What to test.
#[derive(Clone, Debug)]
pub struct Options {
    /// `HOST:PORT`.
    pub addr: String,
    /// Login, if the server wants one.
    pub credentials: Option<(String, String)>,
    /// SEND this many events for a throughput figure (0 = skip).
    pub throughput: u32,
    /// NOOP round trips for the reliability run (0 = skip).
    pub rounds: u32,
}

fn check(name: &str, outcome: Outcome, detail: impl Into<String>, exchange: Vec<String>) -> Check {
    Check {
        name: name.to_string(),
        outcome,
        detail: detail.into(),
        exchange,
    }
}

/// A command check: `-OK` is "not supported", a reply that does not parse is a failure.
fn decoded(
    name: &str,
    r: Result<Reply, String>,
    ex: Vec<String>,
    f: impl Fn(&Reply) -> Result<String, String>,
) -> Check {
    match r {
        Ok(r) if r.ok => match f(&r) {
            Ok(v) => check(name, Outcome::Pass, v, ex),
            Err(e) => check(name, Outcome::Fail, e, ex),
        },
        Ok(r) => check(name, Outcome::NotSupported, format!("-OK {}", r.text), ex),
        Err(e) => check(name, Outcome::Fail, e, ex),
    }
}

/// Runs every check and returns the report.
pub async fn run(o: &Options) -> Report {
    let mut d = match Driver::connect(o).await {
        Ok(d) => d,
        Err(e) => {
            return Report::new(
                &o.addr,
                vec![check("connect", Outcome::Fail, e.to_string(), vec![])],
            );
        }
    };
    let (mut checks, ready) = greeting_and_login(&mut d, o).await;
    if !ready {
        return Report::new(&o.addr, checks);
    }
    checks.extend(commands::checks(&mut d).await);
    if o.credentials.is_none() && wants_login(&mut d).await {
        return Report {
            needs_login: true,
            ..Report::new(
                &o.addr,
                vec![check(
                    "login",
                    Outcome::Fail,
                    "the server wants a login: give --user and --password",
                    d.log().to_vec(),
                )],
            )
        };
    }
    checks.extend(events::checks(&mut d, o).await);
    checks.extend(load::checks(&mut d, o).await);
    let _ = d.run(Command::Quit).await;
    checks.extend(hostile::checks(o).await);
    Report::new(&o.addr, checks)
}

/// Does the server refuse a command that needs a login (`CDTA`) for want of one?
async fn wants_login(d: &mut Driver) -> bool {
    let (r, _) = d.run(Command::ChkData).await;
    r.is_ok_and(|r| {
        let text = r.text.to_ascii_lowercase();
        !r.ok
            && ["log in", "log on", "login", "logon", "accredit"]
                .iter()
                .any(|w| text.contains(w))
    })
}

/// The greeting and (with credentials) the login; true when the session is ready.
async fn greeting_and_login(d: &mut Driver, o: &Options) -> (Vec<Check>, bool) {
    let mut checks = Vec::new();
    let ready = d
        .pump(Duration::from_secs(10), |evs| {
            evs.iter().any(|e| {
                matches!(
                    e,
                    SessionEvent::State(State::Ready) | SessionEvent::Closed(_)
                )
            })
        })
        .await;
    let greeted = d.events.iter().find_map(|e| match e {
        SessionEvent::Connected { banner } => Some(banner.len()),
        _ => None,
    });
    let closed = d.events.iter().find_map(|e| match e {
        SessionEvent::Closed(r) => Some(r.to_string()),
        _ => None,
    });
    checks.push(match greeted {
        Some(n) => check(
            "greeting",
            Outcome::Pass,
            format!("+OK after {n} banner line(s)"),
            d.log().to_vec(),
        ),
        None => check(
            "greeting",
            Outcome::Fail,
            closed
                .clone()
                .unwrap_or("no +OK greeting within 5 s".into()),
            d.log().to_vec(),
        ),
    });
    if o.credentials.is_some() {
        checks.push(match (ready, &closed) {
            (true, None) => check(
                "login",
                Outcome::Pass,
                "USER/PASS accepted",
                d.log().to_vec(),
            ),
            (_, reason) => check(
                "login",
                Outcome::Fail,
                reason.clone().unwrap_or("no reply".into()),
                d.log().to_vec(),
            ),
        });
    }
    (checks, ready && closed.is_none())
}
