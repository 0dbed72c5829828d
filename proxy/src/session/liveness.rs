//! What keeps a browser session honest, for link and MQTT sessions alike: an idle clock that
//! only real traffic resets (pings and pongs do not), and pings whose pongs must come back.
//! A browser that stops reading blocks the session's sends; the idle clock runs apart from
//! them, so such a session still ends.

use std::{
    sync::atomic::{AtomicBool, AtomicU64, Ordering},
    time::Duration,
};

use tokio::time::{Instant, Interval, MissedTickBehavior};
use vscp_api::CloseCode;

use super::Refusal;

/// Last traffic either way and the pings in flight, shared by a session's futures (one task).
pub(crate) struct Liveness {
    base: Instant,
    /// Last traffic, ms since `base`.
    last: AtomicU64,
    idle: Duration,
    /// A ping is out and its pong has not come back.
    awaiting_pong: AtomicBool,
    ping: Option<Duration>,
}

impl Liveness {
    /// A clock that ends the session after `idle` without traffic, pinging every `ping`.
    pub(crate) fn new(idle: Duration, ping: Option<Duration>) -> Liveness {
        Liveness {
            base: Instant::now(),
            last: AtomicU64::new(0),
            idle,
            awaiting_pong: AtomicBool::new(false),
            ping,
        }
    }

    /// Real traffic passed (a message either way).
    pub(crate) fn touch(&self) {
        self.last
            .store(self.base.elapsed().as_millis() as u64, Ordering::Relaxed);
    }

    /// A pong came back.
    pub(crate) fn pong(&self) {
        self.awaiting_pong.store(false, Ordering::Relaxed);
    }

    fn deadline(&self) -> Instant {
        self.base + Duration::from_millis(self.last.load(Ordering::Relaxed)) + self.idle
    }

    /// Resolves with the idle refusal once no traffic passed for the idle time.
    pub(crate) async fn expired(&self) -> Refusal {
        loop {
            tokio::time::sleep_until(self.deadline()).await;
            if self.deadline() <= Instant::now() {
                return Refusal::new(
                    CloseCode::IdleTimeout,
                    format!("idle for {} s", self.idle.as_secs()),
                );
            }
        }
    }

    /// The ping timer of a session (none without pings).
    pub(crate) fn pinger(&self) -> Option<Interval> {
        self.ping.map(|every| {
            let mut t = tokio::time::interval_at(Instant::now() + every, every);
            t.set_missed_tick_behavior(MissedTickBehavior::Delay);
            t
        })
    }

    /// Waits for the next ping time; `Err` when the last ping was never answered.
    pub(crate) async fn next_ping(&self, t: &mut Option<Interval>) -> Result<(), Refusal> {
        match t {
            Some(t) => {
                t.tick().await;
            }
            None => std::future::pending::<()>().await,
        }
        if self.awaiting_pong.swap(true, Ordering::Relaxed) {
            return Err(Refusal::new(
                CloseCode::NoPong,
                "no pong: the browser is gone",
            ));
        }
        Ok(())
    }
}
