//! Live charts: every measurement stream seen (node, quantity, sensor index), the ones the user
//! picked with their points (time, value), pause, and the points as CSV.

use std::collections::{BTreeMap, VecDeque};

use vscp_core::{Event, Guid, Measurement, measurement::Value, names};

/// Points kept per series (the oldest go first).
pub const SERIES_CAPACITY: usize = 20_000;
/// Series charted at once.
pub const MAX_SERIES: usize = 8;

/// One measurement stream: a sensor of a node measuring one quantity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SeriesKey {
    /// The node.
    pub guid: Guid,
    /// The quantity (type within CLASS1.MEASUREMENT, e.g. 6 = temperature).
    pub quantity: u16,
    /// Sensor index.
    pub sensor: u8,
}

/// What is known of a stream.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Stream {
    /// Unit symbol of its last value.
    pub unit: String,
    /// Values seen.
    pub count: u64,
    /// Last value.
    pub last: f64,
}

/// A charted stream.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Series {
    /// Which stream.
    pub key: Option<SeriesKey>,
    /// Its points: receive time (ms since the epoch) and value.
    pub points: VecDeque<(u64, f64)>,
}

/// Streams seen and the series charted.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Charts {
    /// Every stream seen.
    pub streams: BTreeMap<SeriesKey, Stream>,
    /// The charted series, in the order picked.
    pub series: Vec<Series>,
    /// No new points while paused.
    pub paused: bool,
    /// Bumped when what a chart shows changes (so it is drawn again).
    pub version: u64,
}

impl Charts {
    /// Takes a measurement (already decoded from `event`).
    pub fn see(&mut self, event: &Event, m: &Measurement, now_ms: u64) {
        let Value::Number(v) = m.value else {
            return;
        };
        let key = SeriesKey {
            guid: event.guid,
            quantity: m.quantity,
            sensor: m.sensor,
        };
        let s = self.streams.entry(key).or_default();
        s.count += 1;
        s.last = v;
        if s.unit.is_empty() {
            s.unit = m.unit_symbol().unwrap_or_default().to_string();
        }
        if self.paused {
            return;
        }
        if let Some(series) = self.series.iter_mut().find(|x| x.key == Some(key)) {
            if series.points.len() >= SERIES_CAPACITY {
                series.points.pop_front();
            }
            series.points.push_back((now_ms, v));
            self.version += 1;
        }
    }

    /// Charts a stream, or stops charting it; false when the chart is full.
    pub fn toggle(&mut self, key: SeriesKey) -> bool {
        self.version += 1;
        if let Some(i) = self.series.iter().position(|s| s.key == Some(key)) {
            self.series.remove(i);
            return true;
        }
        if self.series.len() >= MAX_SERIES {
            return false;
        }
        self.series.push(Series {
            key: Some(key),
            points: VecDeque::new(),
        });
        true
    }

    /// Drops the points (the picked series stay).
    pub fn clear(&mut self) {
        for s in &mut self.series {
            s.points.clear();
        }
        self.version += 1;
    }

    /// `time_ms,iso_time,series,value,unit` rows of every charted point, oldest first per series.
    #[must_use]
    pub fn to_csv(&self, label: impl Fn(&SeriesKey) -> String) -> String {
        let mut out = String::from("time_ms,time_utc,series,value,unit\n");
        for s in &self.series {
            let Some(key) = &s.key else { continue };
            let name = label(key).replace('"', "'");
            let unit = self
                .streams
                .get(key)
                .map(|x| x.unit.as_str())
                .unwrap_or_default();
            for (t, v) in &s.points {
                out.push_str(&format!(
                    "{t},{},\"{name}\",{v},{unit}\n",
                    vscp_core::utc_string(t.saturating_mul(1_000_000))
                ));
            }
        }
        out
    }
}

/// `temperature sensor 0`.
#[must_use]
pub fn quantity_label(key: &SeriesKey) -> String {
    let q = names::type_name(10, key.quantity)
        .map(|n| n.to_lowercase().replace('_', " "))
        .unwrap_or_else(|| format!("quantity {}", key.quantity));
    format!("{q} sensor {}", key.sensor)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(v: f32, nick: u8) -> Event {
        let mut data = vec![0xA8];
        data.extend(v.to_be_bytes());
        let mut e = Event::new(10, 6);
        e.guid = Guid([1; 16]).with_nickname(nick);
        e.data = data;
        e
    }

    #[test]
    fn picked_series_collect_points_pause_and_export() {
        let mut c = Charts::default();
        let e = temp(21.5, 1);
        let m = Measurement::from_event(&e).unwrap();
        c.see(&e, &m, 1_000);
        let key = *c.streams.keys().next().unwrap();
        assert_eq!(c.streams[&key].unit, "°C");
        assert!(c.series.is_empty());
        assert!(c.toggle(key));
        c.see(&e, &m, 2_000);
        c.paused = true;
        c.see(&e, &m, 3_000);
        assert_eq!(c.series[0].points, VecDeque::from([(2_000, 21.5)]));
        assert_eq!(c.streams[&key].count, 3);
        let csv = c.to_csv(quantity_label);
        assert_eq!(
            csv.lines().nth(1),
            Some("2000,1970-01-01T00:00:02Z,\"temperature sensor 0\",21.5,°C")
        );
        assert!(c.toggle(key));
        assert!(c.series.is_empty());
    }
}
