//! The chart panel: every measurement stream seen (tick to chart it), pause, clear, CSV, the
//! canvas the chart is drawn on, and the values under the mouse.

use std::rc::Rc;

use yew::prelude::*;

use crate::{
    Msg,
    state::{Action, ChartRow},
};

/// Props of [`ChartPanel`].
#[derive(Properties, PartialEq)]
pub struct ChartPanelProps {
    /// The streams.
    pub rows: Rc<Vec<ChartRow>>,
    /// Charts paused.
    pub paused: bool,
    /// Values under the mouse.
    pub hover: Option<String>,
    /// The canvas (drawn by the app after rendering).
    pub canvas: NodeRef,
    /// Dark theme?
    pub dark: bool,
    /// Where user actions go.
    pub on: Callback<Msg>,
}

/// Canvas height for one unit's panel, and the least height, px.
const PANEL_HEIGHT: usize = 240;
const MIN_HEIGHT: usize = 380;

/// The chart panel.
#[function_component(ChartPanel)]
pub fn chart_panel(p: &ChartPanelProps) -> Html {
    let on = &p.on;
    let mut units: Vec<&str> = p
        .rows
        .iter()
        .filter(|r| r.charted.is_some())
        .map(|r| r.unit.as_str())
        .collect();
    units.sort_unstable();
    units.dedup();
    let height = (PANEL_HEIGHT * units.len()).max(MIN_HEIGHT);
    let moved = on.reform(|e: MouseEvent| Msg::ChartHover(Some((e.offset_x(), e.offset_y()))));
    html! {
        <section class="panel charts" id="charts">
            <h2>{"Live charts"}</h2>
            <div class="toolbar">
                <button id="chart-pause" onclick={on.reform(|_| Msg::Act(Action::PauseCharts))}>{ if p.paused { "resume" } else { "pause" } }</button>
                <button id="chart-clear" onclick={on.reform(|_| Msg::Act(Action::ClearCharts))}>{"clear"}</button>
                <button id="chart-csv" onclick={on.reform(|_| Msg::ExportChart)}>{"CSV"}</button>
                <span id="chart-hover" class="hint">{ p.hover.clone().unwrap_or_else(|| "move the mouse over the chart for values".into()) }</span>
            </div>
            <canvas id="chart" ref={p.canvas.clone()} width="960" height={height.to_string()}
                onmousemove={moved} onmouseleave={on.reform(|_| Msg::ChartHover(None))}></canvas>
            <table id="chart-streams" class="node-table">
                <thead><tr><th></th><th>{"stream"}</th><th>{"unit"}</th><th>{"last"}</th><th>{"values"}</th><th>{"points"}</th></tr></thead>
                <tbody>
                { for p.rows.iter().map(|r| {
                    let key = r.key;
                    let swatch = r.charted.map(|i| format!("background:{}", crate::chart::colour(i, p.dark))).unwrap_or_default();
                    html! {
                        <tr data-guid={key.guid.to_string()} data-quantity={key.quantity.to_string()}>
                            <td><input type="checkbox" aria-label={format!("chart {}", r.label)} checked={r.charted.is_some()}
                                onchange={on.reform(move |_| Msg::Act(Action::ToggleSeries(key)))} /></td>
                            <td><span class="swatch" style={swatch}></span>{ &r.label }</td>
                            <td>{ &r.unit }</td>
                            <td>{ format!("{:.2}", r.last) }</td>
                            <td>{ r.count }</td>
                            <td class="points">{ r.points }</td>
                        </tr>
                    }
                }) }
                </tbody>
            </table>
            if p.rows.is_empty() {
                <p class="hint">{"No measurement received yet."}</p>
            }
        </section>
    }
}
