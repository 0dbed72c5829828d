//! Connection counting: a total cap and a per-IP cap, released when a guard drops.

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
