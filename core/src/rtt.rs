//! Round-trip estimates in the manner of RFC 6298 (integer ms), and the time-out they give:
//! used by the sessions that talk to nodes through a server (registers, the bootloader).

/// Time-out bounds, ms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Limits {
    /// Before any round trip was measured.
    pub initial_ms: u64,
    /// Shortest.
    pub min_ms: u64,
    /// Longest.
    pub max_ms: u64,
}

/// The smoothed round trip and its variation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Rtt {
    srtt: Option<u64>,
    rttvar: u64,
}

impl Rtt {
    /// Takes one measured round trip, ms.
    pub(crate) fn sample(&mut self, r: u64) {
        match self.srtt {
            None => {
                self.srtt = Some(r);
                self.rttvar = r / 2;
            }
            Some(s) => {
                self.rttvar = (3 * self.rttvar + s.abs_diff(r)) / 4;
                self.srtt = Some((7 * s + r) / 8);
            }
        }
    }

    /// The smoothed round trip, once one was measured.
    pub(crate) fn srtt(&self) -> Option<u64> {
        self.srtt
    }

    /// The time-out for a first try, ms.
    pub(crate) fn timeout(&self, l: Limits) -> u64 {
        self.srtt
            .map_or(l.initial_ms, |s| s + 4 * self.rttvar.max(10))
            .clamp(l.min_ms, l.max_ms)
    }
}
