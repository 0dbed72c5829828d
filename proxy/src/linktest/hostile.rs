//! Checks over a raw line connection: commands before login, hostile lines, and the
//! receive loop's keep-alives and QUITLOOP.

use std::time::{Duration, Instant};

use vscp_api::{Check, Outcome};

use super::{Options, check, driver::Raw};

/// Checks that need input a correct client never sends, or raw timing.
pub(super) async fn checks(o: &Options) -> Vec<Check> {
    let mut checks = Vec::new();
    let t = Duration::from_secs(5);
    if o.credentials.is_some() {
        match Raw::connect(&o.addr).await {
            Ok(mut raw) => {
                raw.send("RETR 1").await;
                let verdict = match raw.reply(t).await {
                    Some((_, s)) if !s.ok => (Outcome::Pass, format!("-OK {}", s.text)),
                    Some(_) => (Outcome::Fail, "RETR answered without login".into()),
                    None => (Outcome::Fail, "no reply".into()),
                };
                checks.push(check("before-login", verdict.0, verdict.1, raw.log.clone()));
            }
            Err(e) => checks.push(check("before-login", Outcome::Fail, e.to_string(), vec![])),
        }
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
