//! What keeps a browser session honest, for link and MQTT sessions alike: an idle clock that
//! only real traffic resets (pings and pongs do not), and pings whose pongs must come back.
//! A browser that stops reading blocks the session's sends; the idle clock runs apart from
//! them, so such a session still ends.

use std::{
    sync::atomic::{AtomicBool, Ordering},
    time::Duration,
};

use tokio::time::{Instant, Interval, MissedTickBehavior};
use vscp_api::CloseCode;

use super::Refusal;

/// Times the idle clock looks for traffic within one idle time: the session ends at most a
/// quarter of the idle time late, and traffic costs no clock read.
const LOOKS_PER_IDLE: u32 = 4;

/// Traffic either way and the pings in flight, shared by a session's futures (one task).
pub(crate) struct Liveness {
    /// Traffic passed since the idle clock last looked.
    seen: AtomicBool,
    idle: Duration,
    /// A ping is out and its pong has not come back.
    awaiting_pong: AtomicBool,
    ping: Option<Duration>,
}

impl Liveness {
    /// A clock that ends the session after `idle` without traffic, pinging every `ping`.
    pub(crate) fn new(idle: Duration, ping: Option<Duration>) -> Liveness {
        Liveness {
            seen: AtomicBool::new(false),
            idle,
            awaiting_pong: AtomicBool::new(false),
            ping,
        }
    }

    /// Real traffic passed (a message either way).
    pub(crate) fn touch(&self) {
        self.seen.store(true, Ordering::Relaxed);
    }

    /// A pong came back.
    pub(crate) fn pong(&self) {
        self.awaiting_pong.store(false, Ordering::Relaxed);
    }

    /// Resolves with the idle refusal once no traffic passed for the idle time (give or take
    /// a quarter of it, never sooner).
    pub(crate) async fn expired(&self) -> Refusal {
        let step = (self.idle / LOOKS_PER_IDLE).max(Duration::from_millis(1));
        let mut quiet_since = Instant::now();
        loop {
            tokio::time::sleep(step).await;
            let now = Instant::now();
            if self.seen.swap(false, Ordering::Relaxed) {
                quiet_since = now;
            } else if now >= quiet_since + self.idle {
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
