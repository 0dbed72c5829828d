//! The event log: counters, and a virtualized list that renders only the rows in view.

use std::{collections::HashMap, rc::Rc};

use vscp_core::Guid;
use yew::prelude::*;

use crate::{
    Msg,
    format::{class_label, hex, node_label, time_of_day, type_label},
    state::{Geometry, LogWindow},
};

/// The counters above the list.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// Events in the last second.
    pub rate: usize,
    /// Events received.
    pub total: u64,
    /// Rows pushed out by the log's cap.
    pub evicted: u64,
    /// Paused?
    pub paused: bool,
    /// Events not shown while paused.
    pub paused_skipped: u64,
}

/// Props of [`EventLog`].
#[derive(Properties, PartialEq)]
pub struct EventLogProps {
    /// The rows in view and the counts.
    pub window: Rc<LogWindow>,
    /// The counters.
    pub counters: Counters,
    /// Selected row.
    pub selected: Option<u64>,
    /// Node names by GUID.
    pub node_names: Rc<HashMap<Guid, String>>,
    /// The scrolled element (the app scrolls it).
    pub log_ref: NodeRef,
    /// Following the newest row?
    pub follow: bool,
    /// Where the list is scrolled to, px.
    pub scroll_top: i32,
    /// Where user actions go.
    pub on: Callback<Msg>,
}

/// Rows moved by a key: ↑/↓ one, PgUp/PgDn a screen, Home/End to the ends.
fn key_step(key: &str, g: Geometry) -> Option<i64> {
    Some(match key {
        "ArrowDown" => 1,
        "ArrowUp" => -1,
        "PageDown" => g.page(),
        "PageUp" => -g.page(),
        "Home" => i64::MIN,
        "End" => i64::MAX,
        _ => return None,
    })
}

/// The log list with its counters.
#[function_component(EventLog)]
pub fn event_log(p: &EventLogProps) -> Html {
    let on = &p.on;
    let w = &p.window;
    let c = p.counters;
    let onscroll = on.reform(|e: web_sys::Event| {
        Msg::Scroll(e.target_unchecked_into::<web_sys::Element>().scroll_top())
    });
    let g = w.geometry;
    let onkeydown = {
        let on = on.clone();
        Callback::from(move |e: KeyboardEvent| {
            let key = e.key();
            if key == "Escape" {
                on.emit(Msg::Select(None));
            } else if let Some(step) = key_step(&key, g) {
                e.prevent_default();
                on.emit(Msg::Step(step));
            }
        })
    };
    let total_height = w.shown as i32 * g.row;
    // rows below the last one in view, while not following: said on the way back to them
    let below = (w.shown as i32 - (p.scroll_top + g.height) / g.row).max(0);
    html! {
        <>
        <div class="counters" id="counters">
            <span>{ format!("{} events/s", c.rate) }</span>
            <span id="total">{ format!("{} received", c.total) }</span>
            <span id="shown">{ format!("{} shown", w.shown) }</span>
            <span id="hidden">{ format!("{} hidden by filter", w.hidden) }</span>
            if c.evicted > 0 { <span>{ format!("{} rolled out", c.evicted) }</span> }
            if c.paused { <span class="err">{ format!("paused ({} not shown)", c.paused_skipped) }</span> }
        </div>
        <div class="log-head row" aria-hidden="true"><span>{"time"}</span><span>{"prio"}</span><span>{"class"}</span><span>{"type"}</span><span>{"node / GUID"}</span><span>{"data"}</span><span>{"value"}</span></div>
        <div class="log" id="log" ref={p.log_ref.clone()} style={format!("height:{}px", g.height)} onscroll={onscroll}
            tabindex="0" aria-label="event log: ↑/↓, PgUp/PgDn, Home/End select a row, Esc clears" {onkeydown}>
            if w.shown == 0 {
                // also loads the log's monospace font before the first events need it
                <p class="empty">{ if w.hidden > 0 { "All events are hidden by the filter." } else { "No events yet. Connect to a node to see its events here." } }</p>
            }
            <div style={format!("height:{total_height}px")}>
            // rows in flow inside a moved window, unkeyed: a new frame rewrites the texts of
            // the same row elements instead of creating new ones
            <div class="window" style={format!("transform:translateY({}px)", w.first as i32 * g.row)}>
            { for w.rows.iter().map(|r| {
                let seq = r.seq;
                let e = &r.event;
                html! {
                    <div class={classes!("row", "ev", (p.selected == Some(seq)).then_some("sel"))}
                        onclick={on.reform(move |_| Msg::Select(Some(seq)))}>
                        if e.unread.is_empty() {
                            <span class="t">{ time_of_day(r.received_ms) }</span>
                        } else {
                            <span class="t unread" title={e.unread.iter().map(|u| u.to_string()).collect::<Vec<_>>().join("; ")}>
                                { format!("⚠ {}", time_of_day(r.received_ms)) }</span>
                        }
                        <span class="p">{ e.priority() }</span>
                        <span class="cls">{ class_label(e.class) }</span>
                        <span class="typ">{ type_label(e.class, e.kind) }</span>
                        <span class="guid" title={e.guid.to_string()}>{ node_label(&e.guid, &p.node_names) }</span>
                        <span class="data">{ hex(&e.data) }</span>
                        <span class="val">{ r.decoded.clone().unwrap_or_default() }</span>
                    </div>
                }
            }) }
            </div>
            </div>
        </div>
        if !p.follow && w.shown > 0 {
            <div class="follow-off" id="follow-off" role="status">
                <span>{ if p.selected.is_some() { "Not following: a row is selected." } else { "Not following the newest rows." } }</span>
                <button id="jump-newest" type="button" onclick={on.reform(|_| Msg::Follow(true))}>
                    { if below > 0 { format!("↓ follow newest ({below} below)") } else { "↓ follow newest".to_string() } }
                </button>
            </div>
        }
        </>
    }
}
