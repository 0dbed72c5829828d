//! What the page's parts tell the app: reducer actions, websocket traffic, and the page's own
//! changes (forms, scrolling, tabs, downloads).

use vscp_api::{Report, Target};

use crate::{filter_form, forms::FormEdit, link::LinkEvent, state::Action, ui};

/// Who asked for a node's MDF.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MdfFor {
    /// The register editor (names, remote variables, decision matrix).
    Registers,
    /// The firmware wizard (the firmware files it lists).
    Firmware,
}

/// Messages of the app component.
pub enum Msg {
    /// A reducer action, stamped with the time on arrival.
    Act(Action),
    /// From the websocket.
    Link(LinkEvent),
    /// Render now (at most once per animation frame).
    Frame,
    /// Targets list from the proxy.
    Targets(Result<Vec<Target>, String>),
    /// Who the page is logged in to the proxy as.
    Account(crate::account::Account),
    /// Log in to the proxy (user, password).
    ProxyLogin(String, String),
    /// Log out of the proxy.
    ProxyLogout,
    /// Log scrolled to this offset (px).
    Scroll(i32),
    /// Row selected for the detail pane.
    Select(Option<u64>),
    /// Selection moved by the keyboard this many rows (`i64::MIN`/`MAX`: first/last).
    Step(i64),
    /// Client filter fields changed.
    Filter(filter_form::ViewFilterFields),
    /// Save the client filter under this name.
    SaveFilter(String),
    /// Forget the saved filter of this name.
    ForgetFilter(String),
    /// Follow the newest row?
    Follow(bool),
    /// Light/dark.
    Theme,
    /// Form field edits.
    Form(FormEdit),
    /// Export the shown rows (`csv` or `json`).
    Export(&'static str),
    /// Run linktest against the chosen target.
    Linktest,
    /// Its report.
    LinktestDone(Result<Report, String>),
    /// Show the events or the nodes.
    Tab(ui::Tab),
    /// A key on the tab list (arrows, Home, End move between tabs).
    TabKey(String),
    /// Ask the proxy for the MDF at this URL (for the open register editor).
    FetchMdf(String, MdfFor),
    /// The mouse is over the chart at this pixel (`None`: it left).
    ChartHover(Option<(i32, i32)>),
    /// Download the charted points as CSV.
    ExportChart,
    /// The window changed size.
    Resize,
    /// Download the known nodes as JSON.
    ExportNodes,
    /// Save the send form as a template of this name.
    SaveTemplate(String),
    /// Forget the template of this name.
    ForgetTemplate(String),
    /// Download the templates as JSON.
    ExportTemplates,
    /// Templates from an exported file, added to those kept.
    ImportTemplates(String),
}
