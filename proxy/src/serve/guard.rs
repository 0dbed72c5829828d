//! Who may talk to the proxy at all: the Host a request names (against DNS rebinding) and
//! a per-IP cap on raw TCP connections before any HTTP byte; plus rate-limited warnings so
//! a flood of refusals cannot flood the log.

use std::{
    net::IpAddr,
    sync::{
        Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

/// Which `Host` headers are accepted.
#[derive(Clone, Debug, Default)]
pub(crate) struct HostPolicy {
    /// `--allow-host` names, lower case.
    allowed: Vec<String>,
}

impl HostPolicy {
    pub(crate) fn new(allowed: &[String]) -> HostPolicy {
        HostPolicy {
            allowed: allowed.iter().map(|h| h.to_ascii_lowercase()).collect(),
        }
    }

    /// An IP literal or `localhost` always (no DNS answer can change what they name);
    /// any other name only when allowed by `--allow-host`.
    pub(crate) fn allows(&self, host: &str) -> bool {
        let host = host.trim().to_ascii_lowercase();
        let name = strip_port(&host);
        name.trim_matches(['[', ']']).parse::<IpAddr>().is_ok()
            || name == "localhost"
            || name.ends_with(".localhost")
            || self.allowed.iter().any(|a| *a == host || *a == name)
    }
}

/// `example.org:8080` → `example.org`; `[::1]:80` → `[::1]`; `::1` stays.
fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        return host
            .split_once(']')
            .map_or(host, |(h, _)| &host[..h.len() + 1]);
    }
    match host.rsplit_once(':') {
        Some((h, port)) if !h.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => host,
    }
}

/// At most `per_window` log lines per window; the rest are counted and reported with the next.
#[derive(Debug)]
pub(crate) struct Throttle {
    per_window: u64,
    window: Duration,
    state: Mutex<(Instant, u64)>,
    suppressed: AtomicU64,
}

impl Throttle {
    pub(crate) fn new(per_window: u64, window: Duration) -> Throttle {
        Throttle {
            per_window,
            window,
            state: Mutex::new((Instant::now(), 0)),
            suppressed: AtomicU64::new(0),
        }
    }

    /// `Some(n)` when a line may be written now (`n` lines were suppressed before it).
    pub(crate) fn admit(&self) -> Option<u64> {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if s.0.elapsed() >= self.window {
            *s = (Instant::now(), 0);
        }
        if s.1 >= self.per_window {
            self.suppressed.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        s.1 += 1;
        Some(self.suppressed.swap(0, Ordering::Relaxed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts() {
        let p = HostPolicy::new(&["console.example".into()]);
        for ok in [
            "127.0.0.1:8080",
            "localhost:8080",
            "LOCALHOST",
            "[::1]:8080",
            "192.168.1.20",
            "console.example",
            "Console.Example:443",
            "app.localhost:1",
        ] {
            assert!(p.allows(ok), "{ok}");
        }
        for bad in [
            "rebind.example:8080",
            "127.0.0.1.nip.io",
            "localhost.evil.example",
            "",
            "console.example.evil",
        ] {
            assert!(!p.allows(bad), "{bad}");
        }
    }

    #[test]
    fn throttle_counts_what_it_holds_back() {
        let t = Throttle::new(2, Duration::from_secs(60));
        assert_eq!(t.admit(), Some(0));
        assert_eq!(t.admit(), Some(0));
        assert_eq!(t.admit(), None);
        assert_eq!(t.admit(), None);
        assert_eq!(t.suppressed.load(Ordering::Relaxed), 2);
    }
}
