//! The chart panel's list of streams, made from the charts and the known nodes.

use std::rc::Rc;

use super::*;

/// A measurement stream as the chart panel lists it.
#[derive(Clone, Debug, PartialEq)]
pub struct ChartRow {
    /// The stream.
    pub key: SeriesKey,
    /// `temp (node 1) temperature sensor 0`.
    pub label: String,
    /// Unit symbol.
    pub unit: String,
    /// Values seen.
    pub count: u64,
    /// Last value.
    pub last: f64,
    /// Position among the charted series (for its colour), if charted.
    pub charted: Option<usize>,
    /// Points charted.
    pub points: usize,
}

impl Console {
    /// What the chart panel lists: every stream, named after its node.
    pub(super) fn refresh_chart_rows(&mut self) {
        let rows: Vec<ChartRow> = self
            .charts
            .streams
            .iter()
            .map(|(key, s)| {
                let charted = self.charts.series.iter().position(|x| x.key == Some(*key));
                ChartRow {
                    key: *key,
                    label: self.series_label(key),
                    unit: s.unit.clone(),
                    count: s.count,
                    last: s.last,
                    charted,
                    points: charted.map_or(0, |i| self.charts.series[i].points.len()),
                }
            })
            .collect();
        if *self.chart_rows != rows {
            self.chart_rows = Rc::new(rows);
        }
    }

    /// `temp (node 1) temperature sensor 0`.
    #[must_use]
    pub fn series_label(&self, key: &SeriesKey) -> String {
        format!(
            "{} {}",
            crate::format::node_label(&key.guid, &self.node_names),
            quantity_label(key)
        )
    }
}
