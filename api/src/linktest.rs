//! `POST /api/linktest`: the request and the report (also `vscp-proxy linktest --json`).

use serde::{Deserialize, Serialize};

/// Body of `POST /api/linktest`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinktestRequest {
    /// Allow-listed target name.
    pub target: String,
    /// Login user (empty: no login).
    #[serde(default)]
    pub user: String,
    /// Login password.
    #[serde(default)]
    pub password: String,
    /// Proxy token, when the proxy wants one.
    #[serde(default)]
    pub token: Option<String>,
}

/// Result of one check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The server did what the protocol says.
    Pass,
    /// It did not.
    Fail,
    /// It refused the command (`-OK`), which the protocol allows.
    NotSupported,
}

/// One check with its evidence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    /// Check name.
    pub name: String,
    /// Verdict.
    pub outcome: Outcome,
    /// What was found.
    pub detail: String,
    /// The exchange (`C: …` / `S: …`) that the verdict rests on.
    pub exchange: Vec<String>,
}

/// A whole linktest run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// Server address.
    pub server: String,
    /// Checks in order.
    pub checks: Vec<Check>,
    /// Passed checks.
    pub passed: usize,
    /// Failed checks.
    pub failed: usize,
    /// Checks the server does not support.
    pub not_supported: usize,
    /// The server wants a login and none was given: the checks did not run.
    #[serde(default)]
    pub needs_login: bool,
}

impl Report {
    /// A report with its counts.
    #[must_use]
    pub fn new(server: &str, checks: Vec<Check>) -> Report {
        let count = |o| checks.iter().filter(|c| c.outcome == o).count();
        Report {
            server: server.to_string(),
            passed: count(Outcome::Pass),
            failed: count(Outcome::Fail),
            not_supported: count(Outcome::NotSupported),
            needs_login: false,
            checks,
        }
    }

    /// Human-readable report, failed exchanges included.
    #[must_use]
    pub fn text(&self) -> String {
        let mut s = format!("linktest {}\n", self.server);
        for c in &self.checks {
            let tag = match c.outcome {
                Outcome::Pass => "PASS",
                Outcome::Fail => "FAIL",
                Outcome::NotSupported => "n/s ",
            };
            s.push_str(&format!("{tag}  {:<20} {}\n", c.name, c.detail));
            if c.outcome == Outcome::Fail {
                for l in &c.exchange {
                    s.push_str(&format!("        {l}\n"));
                }
            }
        }
        s.push_str(&format!(
            "linktest: {} checks passed, {} failed, {} not supported\n",
            self.passed, self.failed, self.not_supported
        ));
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_json_round_trip() {
        let r = Report::new(
            "h:1",
            vec![Check {
                name: "noop".into(),
                outcome: Outcome::NotSupported,
                detail: "-OK".into(),
                exchange: vec!["C: NOOP".into()],
            }],
        );
        let json = serde_json::to_string(&r).unwrap();
        assert!(json.contains(r#""outcome":"not_supported""#), "{json}");
        assert_eq!(serde_json::from_str::<Report>(&json).unwrap(), r);
        assert_eq!(r.not_supported, 1);
    }
}
