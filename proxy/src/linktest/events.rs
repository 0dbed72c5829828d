//! Events: filters and the queue, SEND and its round trip, GUID and time forms, Level I over
//! Level II.

use std::time::Duration;

use vscp_api::{Check, Outcome};
use vscp_core::{Command, Event};

use super::{Options, check, decoded, driver::Driver};

/// Filter, queue and event checks on the main connection.
pub(super) async fn checks(d: &mut Driver, o: &Options) -> Vec<Check> {
    let mut checks = Vec::new();
    // filter that blocks everything, then the queue must stay empty
    let block: vscp_core::FilterPart = "0,65535,65535,-".parse().unwrap_or_default();
    let exact: vscp_core::FilterPart = "0,0xFFFF,0xFFFF,-".parse().unwrap_or_default();
    let mut ex = Vec::new();
    let mut ok = true;
    for cmd in [
        Command::SetFilter(block),
        Command::SetMask(exact),
        Command::ClrAll,
    ] {
        let (r, e) = d.run(cmd).await;
        ok &= r.is_ok_and(|r| r.ok);
        ex.extend(e);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (r, e) = d.run(Command::ChkData).await;
    ex.extend(e);
    checks.push(match (ok, r.map(|r| r.count())) {
        (true, Ok(Ok(0))) => check(
            "clra-cdta",
            Outcome::Pass,
            "queue empty after CLRA with a blocking filter",
            ex,
        ),
        (true, Ok(Ok(n))) => check(
            "clra-cdta",
            Outcome::Fail,
            format!("CDTA = {n} with a filter that blocks everything"),
            ex,
        ),
        (false, _) => check(
            "clra-cdta",
            Outcome::NotSupported,
            "SFLT/SMSK/CLRA refused",
            ex,
        ),
        (_, other) => check(
            "clra-cdta",
            Outcome::Fail,
            format!("bad CDTA reply: {other:?}"),
            ex,
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
    let pass_type3: vscp_core::FilterPart = "0,20,3,-".parse().unwrap_or_default();
    let exact: vscp_core::FilterPart = "0,0xFFFF,0xFFFF,-".parse().unwrap_or_default();
    for cmd in [
        Command::SetFilter(pass_type3),
        Command::SetMask(exact),
        Command::ClrAll,
    ] {
        let rx = second.as_mut().unwrap_or(&mut *d);
        ex.extend(rx.run(cmd).await.1);
    }
    let marker = (d.start.elapsed().as_nanos() & 0xFF) as u8;
    let probe = |kind: u16| Event {
        class: 20,
        kind,
        data: vec![0, 0xA5, marker],
        ..Event::default()
    };
    let mut sent_ok = true;
    for kind in [4, 3] {
        let (r, e) = d.run(Command::Send(probe(kind))).await;
        sent_ok &= r.is_ok_and(|r| r.ok);
        ex.extend(e);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rx = second.as_mut().unwrap_or(&mut *d);
    let (_, e) = rx.run(Command::Retr(Some(100))).await;
    ex.extend(e);
    let got: Vec<Event> = rx
        .take_received()
        .into_iter()
        .filter(|e| e.data.get(1..) == Some(&[0xA5, marker][..]))
        .collect();
    if let Some(mut r) = second.take() {
        let _ = r.run(Command::Quit).await;
    }
    let looped = got.iter().any(|e| e.kind == 3);
    checks.push(match (sent_ok, looped, got.iter().any(|e| e.kind == 4)) {
        (false, ..) => check(
            "send",
            Outcome::Fail,
            "SEND of a plain Level I event refused",
            ex.clone(),
        ),
        _ => check("send", Outcome::Pass, "SEND accepted", vec![]),
    });
    checks.push(match (looped, got.iter().any(|e| e.kind == 4)) {
        (_, true) => check(
            "filter",
            Outcome::Fail,
            "an event the filter/mask should block came through",
            ex.clone(),
        ),
        (true, false) => check(
            "filter",
            Outcome::Pass,
            format!("only the matching event arrived {via}"),
            vec![],
        ),
        (false, false) => check(
            "filter",
            Outcome::NotSupported,
            format!("no sent event arrived {via}"),
            vec![],
        ),
    });
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
        None => check(
            "event-round-trip",
            Outcome::NotSupported,
            format!("no sent event arrived {via}"),
            vec![],
        ),
    });
    let open: vscp_core::FilterPart = "0,0,0,-".parse().unwrap_or_default();
    for cmd in [Command::SetFilter(open), Command::SetMask(open)] {
        let _ = d.run(cmd).await;
    }

    // GUID forms and Level I over Level II in SEND
    let mut ex = Vec::new();
    let mut accepted = true;
    for line in [
        "0,20,3,,,,-,0,1,35",
        "0,20,3,,,,FF:FF:FF:FF:FF:FF:FF:FE:00:05:93:14:02:32:00:01,0,1,35",
        "0,20,3,,2001-11-02T18:00:01,,-,0,1,35",
    ] {
        if let Ok(ev) = line.parse::<Event>() {
            let (r, e) = d.run(Command::Send(ev)).await;
            accepted &= r.is_ok_and(|r| r.ok);
            ex.extend(e);
        }
    }
    checks.push(check(
        "guid-and-time-forms",
        if accepted {
            Outcome::Pass
        } else {
            Outcome::Fail
        },
        "SEND with `-`, full GUID, legacy datetime",
        ex,
    ));
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
