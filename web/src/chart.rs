//! Draws the charted series on a canvas with plotters: a time axis (local time of day),
//! one line per series in its own colour with its unit in the legend; and answers which
//! values lie under the mouse.

use plotters::prelude::*;
use plotters_canvas::CanvasBackend;
use web_sys::HtmlCanvasElement;

use crate::state::{Charts, SeriesKey};

/// Pixel → (time ms, value) of the last drawing.
pub type CoordMap = Box<dyn Fn((i32, i32)) -> Option<(f64, f64)>>;

/// The series' colours, in order, on a light background.
const COLOURS: [RGBColor; 8] = [
    RGBColor(11, 102, 208),
    RGBColor(192, 38, 45),
    RGBColor(19, 128, 59),
    RGBColor(168, 100, 0),
    RGBColor(120, 60, 180),
    RGBColor(0, 140, 150),
    RGBColor(90, 90, 90),
    RGBColor(200, 60, 140),
];

/// The same colours, lightened to read on the dark background.
const COLOURS_DARK: [RGBColor; 8] = [
    RGBColor(110, 175, 255),
    RGBColor(255, 120, 125),
    RGBColor(80, 215, 130),
    RGBColor(245, 185, 80),
    RGBColor(190, 150, 255),
    RGBColor(70, 210, 220),
    RGBColor(185, 185, 185),
    RGBColor(255, 130, 200),
];

fn rgb(i: usize, dark: bool) -> RGBColor {
    let palette = if dark { &COLOURS_DARK } else { &COLOURS };
    palette[i % palette.len()]
}

/// The colour of the `i`-th series, as CSS.
#[must_use]
pub fn colour(i: usize, dark: bool) -> String {
    let RGBColor(r, g, b) = rgb(i, dark);
    format!("rgb({r},{g},{b})")
}

/// Draws every charted series, one panel per unit (each with its own value axis) over a
/// shared time axis; returns the pixel-to-data map for hovering.
pub fn draw(
    canvas: &HtmlCanvasElement,
    charts: &Charts,
    label: &dyn Fn(&SeriesKey) -> String,
    dark: bool,
) -> Result<CoordMap, String> {
    let backend = CanvasBackend::with_canvas_object(canvas.clone()).ok_or("no canvas")?;
    let root = backend.into_drawing_area();
    let (bg, fg) = if dark {
        (RGBColor(28, 32, 39), RGBColor(230, 233, 238))
    } else {
        (WHITE, RGBColor(27, 31, 36))
    };
    root.fill(&bg).map_err(|e| e.to_string())?;
    let unit_of = |key: &SeriesKey| {
        charts
            .streams
            .get(key)
            .map(|x| x.unit.clone())
            .unwrap_or_default()
    };
    // the units in the order their first series was charted
    let mut units: Vec<String> = Vec::new();
    for key in charts.series.iter().filter_map(|s| s.key.as_ref()) {
        let unit = unit_of(key);
        if !units.contains(&unit) {
            units.push(unit);
        }
    }
    if units.is_empty() {
        units.push(String::new());
    }
    let (mut t0, mut t1) = (f64::MAX, f64::MIN);
    for (t, _) in charts.series.iter().flat_map(|s| s.points.iter()) {
        t0 = t0.min(*t as f64);
        t1 = t1.max(*t as f64);
    }
    if t0 > t1 {
        // nothing yet: an empty minute around now
        let now = js_sys::Date::now();
        (t0, t1) = (now - 60_000.0, now);
    }
    if t1 - t0 < 1_000.0 {
        t0 = t1 - 1_000.0;
    }
    let text = ("sans-serif", 13).into_font().color(&fg);
    let mut maps = Vec::new();
    for (area, unit) in root.split_evenly((units.len(), 1)).iter().zip(&units) {
        let in_unit: Vec<(usize, &crate::state::Series)> = charts
            .series
            .iter()
            .enumerate()
            .filter(|(_, s)| s.key.as_ref().is_some_and(|k| unit_of(k) == *unit))
            .collect();
        let (mut lo, mut hi) = (f64::MAX, f64::MIN);
        for (_, v) in in_unit.iter().flat_map(|(_, s)| s.points.iter()) {
            lo = lo.min(*v);
            hi = hi.max(*v);
        }
        if lo > hi {
            (lo, hi) = (0.0, 1.0);
        }
        let pad = ((hi - lo) * 0.08).max(0.5);
        let mut chart = ChartBuilder::on(area)
            .margin(10)
            .x_label_area_size(28)
            .y_label_area_size(64)
            .build_cartesian_2d(t0..t1, (lo - pad)..(hi + pad))
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .axis_style(fg)
            .light_line_style(fg.mix(0.08))
            .bold_line_style(fg.mix(0.2))
            .label_style(text.clone())
            .x_labels(6)
            .x_label_formatter(&|t| {
                crate::format::time_of_day(*t as u64)
                    .chars()
                    .take(8)
                    .collect()
            })
            .y_desc(unit.as_str())
            .y_label_formatter(&|v| format!("{v:.1}"))
            .draw()
            .map_err(|e| e.to_string())?;
        for (i, s) in &in_unit {
            let Some(key) = &s.key else { continue };
            let colour = rgb(*i, dark);
            chart
                .draw_series(LineSeries::new(
                    s.points.iter().map(|(t, v)| (*t as f64, *v)),
                    colour.stroke_width(2),
                ))
                .map_err(|e| e.to_string())?
                .label(format!("{} [{unit}]", label(key)))
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 16, y)], colour.stroke_width(2))
                });
            if s.points.len() <= 200 {
                chart
                    .draw_series(
                        s.points
                            .iter()
                            .map(|(t, v)| Circle::new((*t as f64, *v), 2, colour.filled())),
                    )
                    .map_err(|e| e.to_string())?;
            }
        }
        if !in_unit.is_empty() {
            chart
                .configure_series_labels()
                .background_style(bg.mix(0.85))
                .border_style(fg.mix(0.3))
                .label_font(text.clone())
                .position(SeriesLabelPosition::UpperLeft)
                .draw()
                .map_err(|e| e.to_string())?;
        }
        maps.push(chart.into_coord_trans());
    }
    root.present().map_err(|e| e.to_string())?;
    // the time under the mouse, from whichever panel it is over
    Ok(Box::new(move |px| maps.iter().find_map(|m| m(px))))
}

/// Each series' value nearest in time to `t` (ms), as `label: value unit`, with the time.
#[must_use]
pub fn hover(charts: &Charts, t: f64, label: &dyn Fn(&SeriesKey) -> String) -> Option<String> {
    let mut parts = Vec::new();
    let mut at = None;
    for s in &charts.series {
        let Some(key) = &s.key else { continue };
        let i = s.points.partition_point(|(pt, _)| (*pt as f64) < t);
        let near = [i.checked_sub(1), Some(i)]
            .into_iter()
            .flatten()
            .filter_map(|j| s.points.get(j))
            .min_by(|a, b| (a.0 as f64 - t).abs().total_cmp(&(b.0 as f64 - t).abs()));
        if let Some((pt, v)) = near {
            let unit = charts
                .streams
                .get(key)
                .map(|x| x.unit.as_str())
                .unwrap_or_default();
            // float sensors report f32: three decimals say all they measured
            let v = format!("{v:.3}");
            let v = v.trim_end_matches('0').trim_end_matches('.');
            parts.push(format!("{}: {v} {unit}", label(key)));
            at.get_or_insert(*pt);
        }
    }
    let at = at?;
    Some(format!(
        "{} — {}",
        crate::format::time_of_day(at),
        parts.join(" · ")
    ))
}
