//! vscp-web: the vscp-link console. A Yew app that runs vscp-core's client session in the
//! browser and talks to vscp-proxy over a websocket.
//!
//! `state` is the reducer (no html, tested natively); `ui` is the page's own state; `update`
//! computes everything the page shows and `view` only reads it; `components` has one panel
//! per file; `link` is the websocket; `api` talks to the proxy (`account`: who the page is
//! logged in to it as), `browser` and `storage` to the browser.

mod account;
mod api;
mod app;
mod browser;
mod chart;
mod components;
mod filter_form;
mod format;
mod forms;
mod link;
mod msg;
mod state;
mod storage;
mod ui;

pub use msg::Msg;

fn main() {
    yew::Renderer::<app::App>::new().render();
}
