//! The detail pane of the selected log row.

use yew::prelude::*;

use crate::format::{class_label, hex, time_of_day, type_label};
use crate::state::Row;

/// Props of [`Detail`].
#[derive(Properties, PartialEq)]
pub struct DetailProps {
    /// The selected row, if any.
    pub row: Option<Row>,
    /// Its node, in words.
    pub node: String,
}

/// The event's own time as an ISO date-time with its ns part, or why there is none.
fn event_time(e: &vscp_core::Event) -> String {
    match (e.stamp.unix_ns(), e.unread(vscp_core::Field::DateTime)) {
        // an all-zero time is firmware's "no time"
        (Some(0), _) => "not set (the server wrote a time of 0)".into(),
        (Some(ns), _) => {
            let iso = vscp_core::utc_string(ns - ns % 1_000_000_000);
            format!("{}.{:09}Z", iso.trim_end_matches('Z'), ns % 1_000_000_000)
        }
        (None, Some(u)) => format!("unknown: the server wrote {:?} ({})", u.text, u.why),
        (None, None) => "unknown (the event carried no time)".into(),
    }
}

/// Every field of the selected event, decoded.
#[function_component(Detail)]
pub fn detail(p: &DetailProps) -> Html {
    let Some(r) = &p.row else {
        return html! {};
    };
    let e = &r.event;
    html! {
        <div class="detail" id="detail">
            <dl>
                <dt>{"received"}</dt><dd>{ time_of_day(r.received_ms) }</dd>
                <dt>{"head"}</dt><dd>{ format!("{} (priority {}, frame version {})", e.head, e.priority(), (e.head >> 8) & 3) }</dd>
                <dt>{"class"}</dt><dd>{ class_label(e.class) }</dd>
                <dt>{"type"}</dt><dd>{ type_label(e.class, e.kind) }</dd>
                <dt>{"obid"}</dt><dd>{ e.obid }</dd>
                <dt>{"time"}</dt><dd id="detail-time">{ event_time(e) }</dd>
                if !e.unread.is_empty() {
                    <dt>{"unreadable"}</dt>
                    <dd id="detail-unread" class="unread">
                        { for e.unread.iter().map(|u| html! { <div>{ format!("{}: {:?} — {}", u.field, u.text, u.why) }</div> }) }
                    </dd>
                }
                <dt>{"GUID"}</dt><dd>{ format!("{} — {}", e.guid, p.node) }</dd>
                <dt>{"data"}</dt><dd>{ format!("{} ({} bytes)", hex(&e.data), e.data.len()) }</dd>
                <dt>{"decoded"}</dt><dd>{ r.decoded.clone().unwrap_or_else(|| "—".into()) }</dd>
                <dt>{"raw line"}</dt>
                <dd><code id="detail-line">{ r.line().into_owned() }</code>
                    if e.line.as_str().is_none() { { " (written here: the event came in another form)" } }
                </dd>
            </dl>
        </div>
    }
}
