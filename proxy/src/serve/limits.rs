//! Connection counting: a total cap and a per-IP cap, released when a guard drops; and the caps
//! themselves, fitted to the file descriptors the process may open.

use std::{
    collections::HashMap,
    net::IpAddr,
    sync::{Arc, Mutex},
};

/// Counts live sessions.
#[derive(Clone, Debug)]
pub(crate) struct ConnLimits {
    inner: Arc<Mutex<Counts>>,
    max_total: usize,
    max_per_ip: usize,
}

#[derive(Debug, Default)]
struct Counts {
    total: usize,
    per_ip: HashMap<IpAddr, usize>,
}

/// A counted session; dropping it frees the slot.
#[derive(Debug)]
pub(crate) struct ConnGuard {
    limits: ConnLimits,
    ip: IpAddr,
}

impl ConnLimits {
    pub(crate) fn new(max_total: usize, max_per_ip: usize) -> ConnLimits {
        ConnLimits {
            inner: Arc::default(),
            max_total,
            max_per_ip,
        }
    }

    /// Takes a slot for `ip`, or `None` when a cap is reached.
    pub(crate) fn acquire(&self, ip: IpAddr) -> Option<ConnGuard> {
        let mut c = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let n = c.per_ip.get(&ip).copied().unwrap_or(0);
        if c.total >= self.max_total || n >= self.max_per_ip {
            return None;
        }
        c.total += 1;
        c.per_ip.insert(ip, n + 1);
        Some(ConnGuard {
            limits: self.clone(),
            ip,
        })
    }
}

impl Drop for ConnGuard {
    fn drop(&mut self) {
        let mut c = self.limits.inner.lock().unwrap_or_else(|e| e.into_inner());
        c.total = c.total.saturating_sub(1);
        if let Some(n) = c.per_ip.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                c.per_ip.remove(&self.ip);
            }
        }
    }
}

/// Raw TCP connections accepted beyond the websocket cap (page loads, API calls).
const EXTRA_HTTP_CONNS: usize = 256;
/// File descriptors kept free for the process itself (listener, files, logs).
const RESERVED_FDS: u64 = 64;

/// Websocket sessions and raw connections, within the file descriptors the process may open
/// (the soft limit is raised to the hard one first). Each session holds a browser and a node
/// socket, and with `--demo` the demo's end of the node socket too.
pub(super) fn connection_caps(args: &crate::config::Args) -> (usize, usize) {
    let limit = rlimit::increase_nofile_limit(u64::MAX).unwrap_or(1024);
    let per_session: u64 = if args.demo { 3 } else { 2 };
    let budget = limit.saturating_sub(RESERVED_FDS);
    let sessions = (args.max_conns as u64).min(budget / per_session).max(1);
    let raw = (args.max_conns as u64 + EXTRA_HTTP_CONNS as u64)
        .min(budget.saturating_sub(sessions * (per_session - 1)))
        .max(1);
    if sessions < args.max_conns as u64 {
        tracing::warn!(
            fd_limit = limit,
            sessions,
            "--max-conns lowered to what the file descriptor limit allows"
        );
    }
    (sessions as usize, raw as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_and_release() {
        let l = ConnLimits::new(3, 2);
        let a: IpAddr = "127.0.0.1".parse().unwrap();
        let b: IpAddr = "127.0.0.2".parse().unwrap();
        let g1 = l.acquire(a).unwrap();
        let _g2 = l.acquire(a).unwrap();
        assert!(l.acquire(a).is_none(), "per-IP cap");
        let _g3 = l.acquire(b).unwrap();
        assert!(l.acquire(b).is_none(), "total cap");
        drop(g1);
        assert!(l.acquire(a).is_some());
    }
}
