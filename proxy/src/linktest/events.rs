//! Events: filters and the queue, SEND and its round trip, GUID and time forms, Level I over
//! Level II.

use std::time::Duration;

use vscp_api::{Check, Outcome};
use vscp_core::{Adaptation, Command, Event, FilterPart, ProtocolError, SessionEvent};

use super::{Options, check, decoded, driver::Driver};

/// Was a command answered `+OK`? (`None`: refused; the exchange tells why.)
fn accepted(r: &Result<vscp_core::Reply, String>) -> bool {
    r.as_ref().is_ok_and(|r| r.ok)
}

/// Did this session learn that the server wants Level I filter widths?
fn narrowed(d: &Driver) -> bool {
    d.events
        .iter()
        .any(|e| matches!(e, SessionEvent::Adapted(Adaptation::Level1Filters)))
}

/// Sets a filter and mask; whether both were taken, and in which widths.
async fn set_filter(
    d: &mut Driver,
    filter: FilterPart,
    mask: FilterPart,
    ex: &mut Vec<String>,
) -> Result<&'static str, String> {
    let mut refused = Vec::new();
    for cmd in [Command::SetFilter(filter), Command::SetMask(mask)] {
        let word = cmd.word().to_string();
        let (r, e) = d.run(cmd).await;
        ex.extend(e);
        match r {
            Ok(r) if r.ok => {}
            Ok(r) => refused.push(format!("{word}: -OK {}", r.text)),
            Err(e) => refused.push(format!("{word}: {e}")),
        }
    }
    match (refused.is_empty(), narrowed(d)) {
        (true, true) => Ok("in Level I widths only (the wide form was refused)"),
        (true, false) => Ok("in the full Level II widths"),
        (false, true) => Err(format!("{} (also in Level I widths)", refused.join("; "))),
        (false, false) => Err(refused.join("; ")),
    }
}

/// Filter, queue and event checks on the main connection.
pub(super) async fn checks(d: &mut Driver, o: &Options) -> Vec<Check> {
    let mut checks = Vec::new();
    // a filter that blocks everything (class 511 type 255 exactly: fits Level I servers too)
    let block: FilterPart = "0,511,255,-".parse().unwrap_or_default();
    let exact: FilterPart = "0,0xFFFF,0xFFFF,-".parse().unwrap_or_default();
    let mut ex = Vec::new();
    let filtered = set_filter(d, block, exact, &mut ex).await;
    // CLRA and CDTA are judged on their own replies; the filter only decides whether
    // the count must be 0
    let (clra, e) = d.run(Command::ClrAll).await;
    ex.extend(e);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (r, e) = d.run(Command::ChkData).await;
    ex.extend(e);
    let count = r.as_ref().map(|r| (r.ok, r.count()));
    checks.push(match (accepted(&clra), count, &filtered) {
        (true, Ok((true, Ok(0))), _) => check(
            "clra-cdta",
            Outcome::Pass,
            "CDTA = 0 after CLRA",
            ex.clone(),
        ),
        (true, Ok((true, Ok(n))), Ok(_)) => check(
            "clra-cdta",
            Outcome::Fail,
            format!("CDTA = {n} after CLRA with a filter that blocks everything"),
            ex.clone(),
        ),
        (true, Ok((true, Ok(n))), Err(_)) => check(
            "clra-cdta",
            Outcome::Pass,
            format!(
                "CLRA answered, CDTA = {n} (events kept arriving: the blocking filter was refused)"
            ),
            ex.clone(),
        ),
        (false, ..) => check(
            "clra-cdta",
            Outcome::NotSupported,
            "CLRA refused",
            ex.clone(),
        ),
        (true, Ok((false, _)), _) => check(
            "clra-cdta",
            Outcome::NotSupported,
            "CDTA refused",
            ex.clone(),
        ),
        (_, other, _) => check(
            "clra-cdta",
            Outcome::Fail,
            match other {
                Err(e) => format!("CDTA got no reply: {e}"),
                Ok((_, Err(e))) => format!("CDTA reply is not a count: {e}"),
                Ok(_) => "CDTA reply is not a count".into(),
            },
            ex.clone(),
        ),
    });

    // exact filter on class 20 type 3 on a second connection, then send type 4 and type 3
    // from the first: only type 3 may arrive. Servers show a client's event to the other
    // clients (most not back to the sender); without a second connection, the same one is used.
    let mut second = Driver::ready(o).await;
    let via = if second.is_some() {
        "on a second connection"
    } else {
        "on the sending connection"
    };
    let mut ex = Vec::new();
    let pass_type3: FilterPart = "0,20,3,-".parse().unwrap_or_default();
    let rx = second.as_mut().unwrap_or(&mut *d);
    let filter_set = set_filter(rx, pass_type3, exact, &mut ex).await;
    ex.extend(rx.run(Command::ClrAll).await.1);
    let marker = d.marker();
    let probe = |kind: u16| Event {
        class: 20,
        kind,
        data: vec![0, 0xA5, marker],
        ..Event::default()
    };
    let mut sent_ok = true;
    for kind in [4, 3] {
        let (r, e) = d.run(Command::Send(probe(kind))).await;
        sent_ok &= accepted(&r);
        ex.extend(e);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rx = second.as_mut().unwrap_or(&mut *d);
    let (_, e) = rx.run(Command::Retr(Some(100))).await;
    ex.extend(e);
    let received = rx.take_received();
    let bad_lines: Vec<String> = rx
        .events
        .iter()
        .filter_map(|e| match e {
            SessionEvent::ProtocolError(ProtocolError::BadEvent { line, error }) => {
                Some(format!("{line} ({error})"))
            }
            _ => None,
        })
        .collect();
    let bad_count = bad_lines.len();
    let first_bad = bad_lines.first().cloned();
    let got: Vec<Event> = received
        .iter()
        .filter(|e| e.data.get(1..) == Some(&[0xA5, marker][..]))
        .cloned()
        .collect();
    if let Some(mut r) = second.take() {
        let _ = r.run(Command::Quit).await;
    }
    checks.push(match sent_ok {
        false => check(
            "send",
            Outcome::Fail,
            "SEND of a plain Level I event refused",
            ex.clone(),
        ),
        true => check("send", Outcome::Pass, "SEND accepted", vec![]),
    });
    // every field of every event the server wrote must read
    let unread: Vec<String> = received
        .iter()
        .filter(|e| !e.unread.is_empty())
        .map(|e| {
            let why: Vec<String> = e.unread.iter().map(ToString::to_string).collect();
            format!("{} in {e}", why.join("; "))
        })
        .chain(bad_lines)
        .collect();
    // every line that came counts, read or not
    let lines = received.len() + bad_count;
    checks.push(match unread.first() {
        Some(first) => check(
            "event-fields",
            Outcome::Fail,
            format!(
                "{} of {lines} received event line(s) had a field that cannot be read: {first}",
                unread.len(),
            ),
            unread.iter().take(10).cloned().collect(),
        ),
        None if received.is_empty() => check(
            "event-fields",
            Outcome::NotSupported,
            format!("no event arrived {via} to read"),
            vec![],
        ),
        None => check(
            "event-fields",
            Outcome::Pass,
            format!("every field of {} received event(s) read", received.len()),
            vec![],
        ),
    });
    let looped = got.iter().any(|e| e.kind == 3);
    checks.push(
        match (&filter_set, looped, got.iter().any(|e| e.kind == 4)) {
            (Err(why), ..) => check(
                "filter",
                Outcome::NotSupported,
                format!("filter refused: {why}"),
                ex.clone(),
            ),
            (_, _, true) => check(
                "filter",
                Outcome::Fail,
                "an event the filter/mask should block came through",
                ex.clone(),
            ),
            (Ok(widths), true, false) => check(
                "filter",
                Outcome::Pass,
                format!("only the matching event arrived {via}; filter taken {widths}"),
                vec![],
            ),
            (Ok(_), false, false) => not_arrived("filter", via, first_bad.as_deref(), bad_count),
        },
    );
    checks.push(match got.iter().find(|e| e.kind == 3) {
        Some(e) if e.class == 20 && e.data == probe(3).data => check(
            "event-round-trip",
            Outcome::Pass,
            format!("arrived {via} as {e}"),
            vec![],
        ),
        Some(e) => check(
            "event-round-trip",
            Outcome::Fail,
            format!("came back changed: {e}"),
            ex.clone(),
        ),
        None => not_arrived("event-round-trip", via, first_bad.as_deref(), bad_count),
    });
    let open: FilterPart = "0,0,0,-".parse().unwrap_or_default();
    for cmd in [Command::SetFilter(open), Command::SetMask(open)] {
        let _ = d.run(cmd).await;
    }

    // GUID forms: `-` and the full GUID
    let mut ex = Vec::new();
    let mut refused = Vec::new();
    for (what, line) in [
        ("`-`", "0,20,3,,,,-,0,1,35"),
        (
            "a full GUID",
            "0,20,3,,,,FF:FF:FF:FF:FF:FF:FF:FE:00:05:93:14:02:32:00:01,0,1,35",
        ),
    ] {
        let (r, e) = d.run(exact_send(line)).await;
        if !accepted(&r) {
            refused.push(what);
        }
        ex.extend(e);
    }
    checks.push(if refused.is_empty() {
        check(
            "guid-forms",
            Outcome::Pass,
            "SEND with `-` and with a full GUID",
            ex,
        )
    } else {
        check(
            "guid-forms",
            Outcome::Fail,
            format!("SEND with {} refused", refused.join(" and ")),
            ex,
        )
    });
    // time forms, each sent exactly as written
    let mut ex = Vec::new();
    let (mut takes, mut refuses) = (Vec::new(), Vec::new());
    for (what, line) in [
        ("legacy datetime", "0,20,3,,2001-11-02T18:00:01,,-,0,1,35"),
        ("datetime with Z", "0,20,3,,2001-11-02T18:00:01Z,,-,0,1,35"),
        ("ns timestamp", "0,20,3,,,1004724001000000000,-,0,1,35"),
        ("no time", "0,20,3,,,,-,0,1,35"),
    ] {
        let (r, e) = d.run(exact_send(line)).await;
        if accepted(&r) {
            &mut takes
        } else {
            &mut refuses
        }
        .push(what);
        ex.extend(e);
    }
    let said = format!(
        "takes: {}; refuses: {}",
        if takes.is_empty() {
            "none".into()
        } else {
            takes.join(", ")
        },
        if refuses.is_empty() {
            "none".into()
        } else {
            refuses.join(", ")
        }
    );
    checks.push(if takes.contains(&"legacy datetime") {
        check("time-forms", Outcome::Pass, said, ex)
    } else {
        check(
            "time-forms",
            Outcome::Fail,
            format!("the legacy datetime of the spec is refused; {said}"),
            ex,
        )
    });
    let iface: vscp_core::Guid = "FF:FF:FF:FF:FF:FF:FF:F5:00:01:00:00:00:00:00:00"
        .parse()
        .unwrap_or_default();
    let wrapped = Event {
        class: 20,
        kind: 3,
        data: vec![0, 1, 35],
        ..Event::default()
    }
    .level1_over_level2(iface, 1);
    let (r, ex) = d.run(Command::Send(wrapped)).await;
    checks.push(decoded("level1-over-level2", r, ex, |_| {
        Ok("class 532 accepted".into())
    }));

    checks
}

/// The check when no sent event could be read on the receiving connection: not supported
/// when nothing came, failed when lines came that could not be read (shown with why).
fn not_arrived(id: &str, via: &str, first_bad: Option<&str>, bad: usize) -> Check {
    match first_bad {
        None => check(
            id,
            Outcome::NotSupported,
            format!("no sent event arrived {via}"),
            vec![],
        ),
        Some(line) => check(
            id,
            Outcome::Fail,
            format!(
                "{bad} event line(s) arrived {via} but could not be read, so the sent event \
                 cannot be told among them: {line}"
            ),
            vec![line.to_string()],
        ),
    }
}

/// A SEND written exactly as given (the session would write a known time its own way).
fn exact_send(line: &str) -> Command {
    Command::Custom {
        word: "SEND".into(),
        arg: Some(line.into()),
    }
}
