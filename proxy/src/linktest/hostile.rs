//! Checks over a raw line connection: commands before login, hostile lines, and the
//! receive loop's keep-alives and QUITLOOP.

use std::time::{Duration, Instant};

use vscp_api::{Check, Outcome};

use vscp_core::Command;

use super::{
    Options, check,
    driver::{Driver, Raw},
};

/// Commands before login must be refused, and that is proven by what they would do:
/// CHID/GGID must not return a value, and a SEND must not reach a logged-in client.
async fn before_login(o: &Options) -> Check {
    let t = Duration::from_secs(5);
    let mut raw = match Raw::connect(&o.addr).await {
        Ok(r) => r,
        Err(e) => return check("before-login", Outcome::Fail, e.to_string(), vec![]),
    };
    let mut watcher = Driver::ready(o).await;
    if let Some(w) = watcher.as_mut() {
        let _ = w.run(Command::ClrAll).await;
    }
    let marker = (std::process::id() & 0xFF) as u8;
    let mut wrong = Vec::new();
    for (cmd, what) in [
        ("CHID", "CHID answered with a channel id"),
        ("GGID", "GGID answered with a GUID"),
        ("RETR 1", "RETR answered"),
    ] {
        raw.send(cmd).await;
        match raw.reply(t).await {
            Some((_, s)) if s.ok => wrong.push(what.to_string()),
            Some(_) => {}
            None => wrong.push(format!("{cmd}: no reply")),
        }
    }
    raw.send(&format!("SEND 0,20,3,,,,-,0,0xB1,{marker}")).await;
    let send_ok = raw.reply(t).await.is_some_and(|(_, s)| s.ok);
    let mut reached = false;
    if let Some(w) = watcher.as_mut() {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let _ = w.run(Command::Retr(Some(100))).await;
        reached = w
            .take_received()
            .iter()
            .any(|e| (e.class, e.kind) == (20, 3) && e.data == [0, 0xB1, marker]);
        let _ = w.run(Command::Quit).await;
    }
    match (send_ok, reached) {
        (_, true) => wrong.insert(
            0,
            "SEND accepted before login: a logged-in client received the event".into(),
        ),
        (true, false) => wrong.insert(0, "SEND accepted before login (+OK)".into()),
        _ => {}
    }
    raw.send("QUIT").await;
    if wrong.is_empty() {
        check(
            "before-login",
            Outcome::Pass,
            "CHID, GGID, RETR and SEND refused before login; the SEND reached no one",
            raw.log.clone(),
        )
    } else {
        check(
            "before-login",
            Outcome::Fail,
            wrong.join("; "),
            raw.log.clone(),
        )
    }
}

/// Checks that need input a correct client never sends, or raw timing.
pub(super) async fn checks(o: &Options) -> Vec<Check> {
    let mut checks = Vec::new();
    let t = Duration::from_secs(5);
    if o.credentials.is_some() {
        checks.push(before_login(o).await);
    }
    let mut raw = match Raw::connect(&o.addr).await {
        Ok(r) => r,
        Err(e) => {
            checks.push(check("raw-connect", Outcome::Fail, e.to_string(), vec![]));
            return checks;
        }
    };
    raw.login(&o.credentials).await;
    // each hostile line must get an answer (or be ignored) and leave the session working
    for (name, line, want_err) in [
        ("unknown-command", "XNOSUCHCOMMAND".to_string(), true),
        ("malformed-event", "SEND 0,20".to_string(), true),
        (
            "over-long-line",
            "SEND ".to_string() + &"1,".repeat(3000),
            false,
        ),
    ] {
        let mark = raw.log.len();
        raw.send(&line).await;
        raw.send("NOOP").await;
        let first = raw.reply(t).await;
        let verdict = match &first {
            Some((_, s)) if want_err && s.ok => {
                raw.reply(t).await; // the NOOP's reply is still to come
                (Outcome::Fail, format!("answered +OK {}", s.text))
            }
            Some((_, s)) if !want_err && s.ok => (
                Outcome::Pass,
                "line dropped silently; session still works".into(),
            ),
            Some(_) => match raw.reply(t).await {
                Some((_, s)) if s.ok => (Outcome::Pass, "-OK, and NOOP still answered".into()),
                _ => (
                    Outcome::Fail,
                    "session stopped answering after the bad line".into(),
                ),
            },
            None => (Outcome::Fail, "no reply".into()),
        };
        checks.push(check(
            name,
            verdict.0,
            verdict.1,
            raw.log.get(mark..).unwrap_or_default().to_vec(),
        ));
    }
    // receive loop: keep-alives at most ~3 s apart, QUITLOOP answered, session usable after
    let mark = raw.log.len();
    raw.send("RCVLOOP").await;
    let entered = raw.reply(t).await.is_some_and(|(_, s)| s.ok);
    let start = Instant::now();
    let mut last = start;
    let (mut longest, mut keepalives, mut lines) = (Duration::ZERO, 0, 0);
    while start.elapsed() < Duration::from_millis(4_500) {
        match raw
            .line(Duration::from_millis(4_500).saturating_sub(start.elapsed()))
            .await
        {
            Some(l) => {
                // any line proves the link alive; +OK lines are the keep-alives
                longest = longest.max(last.elapsed());
                last = Instant::now();
                lines += 1;
                keepalives += usize::from(l.starts_with("+OK"));
            }
            None => break,
        }
    }
    longest = longest.max(last.elapsed());
    let loop_log = raw
        .log
        .get(mark..)
        .unwrap_or_default()
        .iter()
        .take(20)
        .cloned()
        .collect::<Vec<_>>();
    checks.push(match (entered, lines) {
        (false, _) => check(
            "rcvloop",
            Outcome::NotSupported,
            "RCVLOOP refused",
            loop_log,
        ),
        (true, 0) => check(
            "rcvloop-keepalive",
            Outcome::Fail,
            "nothing (no +OK keep-alive) within 4.5 s",
            loop_log,
        ),
        (true, _) if longest > Duration::from_millis(3_500) => check(
            "rcvloop-keepalive",
            Outcome::Fail,
            format!(
                "{keepalives} keep-alives, silent for {:.1} s (> 3.5 s)",
                longest.as_secs_f64()
            ),
            loop_log,
        ),
        (true, _) => check(
            "rcvloop-keepalive",
            Outcome::Pass,
            format!(
                "{keepalives} keep-alives and {} events in 4.5 s, longest silence {:.1} s",
                lines - keepalives,
                longest.as_secs_f64()
            ),
            vec![],
        ),
    });
    if entered {
        let mark = raw.log.len();
        raw.send("QUITLOOP").await;
        raw.send("VERS").await;
        // skip stale +OKs until VERS's data line and status
        let mut ok = false;
        for _ in 0..1000 {
            match raw.line(t).await {
                Some(l) if l.split(',').count() >= 3 && l.split(',').count() <= 4 => {
                    ok = raw.reply(t).await.is_some_and(|(_, s)| s.ok);
                    break;
                }
                Some(_) => {}
                None => break,
            }
        }
        let verdict = if ok {
            (Outcome::Pass, "left the loop; VERS answered")
        } else {
            (Outcome::Fail, "no sane reply after QUITLOOP")
        };
        checks.push(check(
            "quitloop",
            verdict.0,
            verdict.1,
            raw.log.get(mark..).unwrap_or_default().to_vec(),
        ));
    }
    raw.send("QUIT").await;
    checks
}
