//! Optional figures: SEND throughput and NOOP round-trip reliability.

use std::time::Instant;

use vscp_api::{Check, Outcome};
use vscp_core::{Command, Event};

use super::{Options, check, driver::Driver};

/// `--throughput` and `--rounds`, when asked for.
pub(super) async fn checks(d: &mut Driver, o: &Options) -> Vec<Check> {
    let mut checks = Vec::new();
    if o.throughput > 0 {
        let t = Instant::now();
        let mut ok = 0u32;
        for i in 0..o.throughput {
            let ev = Event {
                class: 20,
                kind: 5,
                data: vec![(i >> 8) as u8, i as u8],
                ..Event::default()
            };
            ok += u32::from(d.run(Command::Send(ev)).await.0.is_ok_and(|r| r.ok));
        }
        let rate = f64::from(ok) / t.elapsed().as_secs_f64();
        let outcome = if ok == o.throughput {
            Outcome::Pass
        } else {
            Outcome::Fail
        };
        checks.push(check(
            "throughput",
            outcome,
            format!(
                "{ok}/{} SEND acknowledged, {rate:.0} SEND/s (one at a time)",
                o.throughput
            ),
            vec![],
        ));
    }
    if o.rounds > 0 {
        let mut times = Vec::with_capacity(o.rounds as usize);
        let mut failed = 0;
        for _ in 0..o.rounds {
            let t = Instant::now();
            if !d.run(Command::Noop).await.0.is_ok_and(|r| r.ok) {
                failed += 1;
            }
            times.push(t.elapsed());
        }
        times.sort();
        let p = |q: f64| {
            times
                .get(((times.len() as f64 - 1.0) * q) as usize)
                .copied()
                .unwrap_or_default()
        };
        let outcome = if failed == 0 {
            Outcome::Pass
        } else {
            Outcome::Fail
        };
        checks.push(check(
            "reliability",
            outcome,
            format!(
                "{} NOOP round trips, {failed} failed, p50 {:?}, p99 {:?}",
                o.rounds,
                p(0.5),
                p(0.99)
            ),
            vec![],
        ));
    }
    checks
}
