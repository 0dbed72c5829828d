//! Counters for `/metrics` (Prometheus text format): sessions open and in all, lines each
//! way, bytes to browsers, and how sessions ended or were refused, by close code.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use vscp_api::CloseCode;

/// The proxy's counters; updated once per message, not per line.
#[derive(Debug)]
pub(crate) struct Metrics {
    sessions_open: AtomicU64,
    sessions: AtomicU64,
    lines_to_node: AtomicU64,
    lines_to_browser: AtomicU64,
    bytes_to_browser: AtomicU64,
    browser_closed: AtomicU64,
    /// Sessions ended by the proxy, by the position of their code in [`CloseCode::ALL`].
    ended: Vec<AtomicU64>,
    /// Websockets refused before bridging, likewise.
    refused: Vec<AtomicU64>,
    /// Lines not forwarded: above the account's privilege level.
    lines_refused_privilege: AtomicU64,
    /// Logins refused: wrong name or password, and too many failures.
    logins_refused_wrong: AtomicU64,
    logins_refused_limited: AtomicU64,
}

impl Default for Metrics {
    fn default() -> Metrics {
        let per_code = || CloseCode::ALL.iter().map(|_| AtomicU64::new(0)).collect();
        Metrics {
            sessions_open: AtomicU64::new(0),
            sessions: AtomicU64::new(0),
            lines_to_node: AtomicU64::new(0),
            lines_to_browser: AtomicU64::new(0),
            bytes_to_browser: AtomicU64::new(0),
            browser_closed: AtomicU64::new(0),
            ended: per_code(),
            refused: per_code(),
            lines_refused_privilege: AtomicU64::new(0),
            logins_refused_wrong: AtomicU64::new(0),
            logins_refused_limited: AtomicU64::new(0),
        }
    }
}

fn slot(list: &[AtomicU64], code: CloseCode) -> Option<&AtomicU64> {
    CloseCode::ALL
        .iter()
        .position(|c| *c == code)
        .and_then(|i| list.get(i))
}

impl Metrics {
    /// A session starts bridging.
    pub(crate) fn opened(&self) {
        self.sessions.fetch_add(1, Relaxed);
        self.sessions_open.fetch_add(1, Relaxed);
    }

    /// A session ended: by the proxy with `code`, or (`None`) by the browser.
    pub(crate) fn closed(&self, code: Option<CloseCode>) {
        self.sessions_open.fetch_sub(1, Relaxed);
        match code.and_then(|c| slot(&self.ended, c)) {
            Some(n) => n.fetch_add(1, Relaxed),
            None => self.browser_closed.fetch_add(1, Relaxed),
        };
    }

    /// A websocket was refused with `code`.
    pub(crate) fn refused(&self, code: CloseCode) {
        if let Some(n) = slot(&self.refused, code) {
            n.fetch_add(1, Relaxed);
        }
    }

    /// Lines written to a node.
    pub(crate) fn to_node(&self, lines: u64) {
        self.lines_to_node.fetch_add(lines, Relaxed);
    }

    /// One message of `lines` lines and `bytes` bytes sent to a browser.
    pub(crate) fn to_browser(&self, lines: u64, bytes: u64) {
        self.lines_to_browser.fetch_add(lines, Relaxed);
        self.bytes_to_browser.fetch_add(bytes, Relaxed);
    }

    /// The counters in Prometheus text format.
    /// A line above the account's level was answered by the proxy, not forwarded.
    pub(crate) fn line_refused(&self) {
        self.lines_refused_privilege.fetch_add(1, Relaxed);
    }

    /// A login was refused (`limited`: too many failures).
    pub(crate) fn login_refused(&self, limited: bool) {
        let n = if limited {
            &self.logins_refused_limited
        } else {
            &self.logins_refused_wrong
        };
        n.fetch_add(1, Relaxed);
    }

    pub(crate) fn render(&self) -> String {
        use std::fmt::Write;
        let mut s = String::with_capacity(4096);
        let mut one = |name: &str, kind: &str, help: &str, samples: &[(String, u64)]| {
            let _ = writeln!(
                s,
                "# HELP vscp_proxy_{name} {help}\n# TYPE vscp_proxy_{name} {kind}"
            );
            for (labels, v) in samples {
                let _ = writeln!(s, "vscp_proxy_{name}{labels} {v}");
            }
        };
        let get = |a: &AtomicU64| a.load(Relaxed);
        one(
            "sessions_open",
            "gauge",
            "Websocket sessions bridged now.",
            &[(String::new(), get(&self.sessions_open))],
        );
        one(
            "sessions_total",
            "counter",
            "Websocket sessions bridged since start.",
            &[(String::new(), get(&self.sessions))],
        );
        one(
            "lines_total",
            "counter",
            "Protocol lines forwarded.",
            &[
                ("{direction=\"to_node\"}".into(), get(&self.lines_to_node)),
                (
                    "{direction=\"to_browser\"}".into(),
                    get(&self.lines_to_browser),
                ),
            ],
        );
        one(
            "refusals_total",
            "counter",
            "Lines and logins the proxy refused, by reason.",
            &[
                (
                    "{reason=\"privilege\"}".into(),
                    get(&self.lines_refused_privilege),
                ),
                (
                    "{reason=\"login_wrong\"}".into(),
                    get(&self.logins_refused_wrong),
                ),
                (
                    "{reason=\"login_limited\"}".into(),
                    get(&self.logins_refused_limited),
                ),
            ],
        );
        one(
            "browser_bytes_total",
            "counter",
            "Bytes of websocket messages sent to browsers.",
            &[(String::new(), get(&self.bytes_to_browser))],
        );
        let by_code = |list: &[AtomicU64], extra: Option<u64>| {
            let mut v: Vec<(String, u64)> = CloseCode::ALL
                .iter()
                .zip(list)
                .map(|(c, n)| (format!("{{code=\"{}\",name=\"{c:?}\"}}", c.code()), get(n)))
                .collect();
            if let Some(n) = extra {
                v.push(("{code=\"1000\",name=\"BrowserClosed\"}".into(), n));
            }
            v
        };
        one(
            "session_ends_total",
            "counter",
            "Sessions ended, by close code.",
            &by_code(&self.ended, Some(get(&self.browser_closed))),
        );
        one(
            "refusals_total",
            "counter",
            "Websockets refused before bridging, by close code.",
            &by_code(&self.refused, None),
        );
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_render_as_prometheus_text() {
        let m = Metrics::default();
        m.opened();
        m.opened();
        m.to_node(3);
        m.to_browser(5, 100);
        m.closed(Some(CloseCode::NodeClosed));
        m.closed(None);
        m.refused(CloseCode::TargetNotAllowed);
        let t = m.render();
        assert!(t.contains("vscp_proxy_sessions_open 0\n"), "{t}");
        assert!(t.contains("vscp_proxy_sessions_total 2\n"));
        assert!(t.contains("vscp_proxy_lines_total{direction=\"to_node\"} 3\n"));
        assert!(t.contains("vscp_proxy_lines_total{direction=\"to_browser\"} 5\n"));
        assert!(t.contains("vscp_proxy_browser_bytes_total 100\n"));
        assert!(t.contains(&format!(
            "vscp_proxy_session_ends_total{{code=\"{}\",name=\"NodeClosed\"}} 1\n",
            CloseCode::NodeClosed.code()
        )));
        assert!(t.contains("name=\"BrowserClosed\"} 1\n"));
        assert!(t.contains(&format!(
            "vscp_proxy_refusals_total{{code=\"{}\",name=\"TargetNotAllowed\"}} 1\n",
            CloseCode::TargetNotAllowed.code()
        )));
        assert!(
            t.lines()
                .all(|l| l.starts_with('#') || l.starts_with("vscp_proxy_"))
        );
    }
}
