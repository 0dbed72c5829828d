//! The page: connection bar, event log (virtualized), detail pane, filters, send form,
//! command console and server panel. UI-only state lives in [`Ui`].

use std::{
    cell::RefCell,
    collections::HashMap,
    hash::{DefaultHasher, Hasher},
};

use gloo::storage::{LocalStorage, Storage};
use serde::{Deserialize, Serialize};
use vscp_core::{Event, Guid, ReceiveMode, State, names};
use wasm_bindgen::JsCast;
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

use crate::state::{self, Action, ConnSettings, Console, Link, Row, Transcript, ViewFilter};
use crate::{App, Msg};

/// Height of one log row in px (the virtual list depends on it).
const ROW_HEIGHT: i32 = 24;
/// Visible height of the log in px.
const LOG_HEIGHT: i32 = 480;
const SAVED_KEY: &str = "vscp-link.connections";
const THEME_KEY: &str = "vscp-link.theme";

/// An allowed target, as `/api/targets` lists it.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Target {
    /// Name to ask for.
    pub name: String,
    /// Node address.
    pub address: String,
    /// A simulated node?
    pub demo: bool,
}

/// One linktest check, as `/api/linktest` reports it.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct LinkCheck {
    /// Check name.
    pub name: String,
    /// `pass`, `fail` or `not_supported`.
    pub outcome: String,
    /// What was found.
    pub detail: String,
    /// The exchange behind a verdict.
    pub exchange: Vec<String>,
}

/// A linktest report.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct LinkReport {
    /// Server address.
    pub server: String,
    /// Checks in order.
    pub checks: Vec<LinkCheck>,
    /// Counts.
    pub passed: usize,
    /// Failed checks.
    pub failed: usize,
    /// Checks the server does not support.
    pub not_supported: usize,
}

/// Runs linktest on the proxy against the chosen target.
pub fn run_linktest(s: &ConnSettings, cb: Callback<Result<LinkReport, String>>) {
    let url = format!("{}/api/linktest", s.proxy.trim_end_matches('/'));
    let body = serde_json::json!({ "target": s.target, "user": s.user, "password": s.password,
        "token": (!s.token.is_empty()).then(|| s.token.clone()) });
    wasm_bindgen_futures::spawn_local(async move {
        let r = async {
            let req = gloo::net::http::Request::post(&url)
                .json(&body)
                .map_err(|e| e.to_string())?;
            let resp = req.send().await.map_err(|e| format!("{url}: {e}"))?;
            if !resp.ok() {
                let err: serde_json::Value = resp.json().await.unwrap_or_default();
                return Err(format!(
                    "linktest refused: {}",
                    err["error"].as_str().unwrap_or("HTTP error")
                ));
            }
            resp.json::<LinkReport>().await.map_err(|e| e.to_string())
        }
        .await;
        cb.emit(r);
    });
}

/// A saved connection (password only when the user asked).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Saved {
    proxy: String,
    target: String,
    user: String,
    password: Option<String>,
    token: String,
}

/// The forms' contents.
#[derive(Clone, Debug, Default)]
pub struct Form {
    /// Connection settings being edited.
    pub settings: ConnSettings,
    /// Store the password with the saved connection?
    pub keep_password: bool,
    /// Send form: class text (name or number).
    pub class: String,
    /// Send form: type text.
    pub kind: String,
    /// Send form: priority 0–7.
    pub priority: u8,
    /// Send form: GUID (`-` = interface).
    pub guid: String,
    /// Send form: data bytes.
    pub data: String,
    /// Command console input.
    pub command: String,
    /// Command history and position while browsing it.
    pub history: Vec<String>,
    history_pos: Option<usize>,
    /// Server filter fields.
    pub sf_class: String,
    /// Server filter type.
    pub sf_kind: String,
}

/// One form change.
pub enum FormEdit {
    /// Proxy URL.
    Proxy(String),
    /// Target.
    Target(String),
    /// User.
    User(String),
    /// Password.
    Password(String),
    /// Token.
    Token(String),
    /// Keep password.
    KeepPassword(bool),
    /// Send form fields.
    Class(String),
    /// Type.
    Kind(String),
    /// Priority.
    Priority(u8),
    /// GUID.
    Guid(String),
    /// Data.
    Data(String),
    /// Console input.
    Command(String),
    /// ↑ in the console.
    HistoryUp,
    /// ↓ in the console.
    HistoryDown,
    /// Remember a sent console line.
    Sent(String),
    /// Server filter class.
    SfClass(String),
    /// Server filter type.
    SfKind(String),
    /// Load a saved connection.
    Load(usize),
    /// Fill the send form from a template or history.
    Fill(Event),
}

impl Form {
    /// Applies an edit; returns a proxy URL whose targets should be fetched.
    pub fn edit(&mut self, e: FormEdit) -> Option<String> {
        match e {
            FormEdit::Proxy(v) => {
                self.settings.proxy = v;
                return Some(self.settings.proxy.clone());
            }
            FormEdit::Target(v) => self.settings.target = v,
            FormEdit::User(v) => self.settings.user = v,
            FormEdit::Password(v) => self.settings.password = v,
            FormEdit::Token(v) => self.settings.token = v,
            FormEdit::KeepPassword(v) => self.keep_password = v,
            FormEdit::Class(v) => self.class = v,
            FormEdit::Kind(v) => self.kind = v,
            FormEdit::Priority(v) => self.priority = v,
            FormEdit::Guid(v) => self.guid = v,
            FormEdit::Data(v) => self.data = v,
            FormEdit::Command(v) => {
                self.command = v;
                self.history_pos = None;
            }
            FormEdit::HistoryUp | FormEdit::HistoryDown => {
                let up = matches!(e, FormEdit::HistoryUp);
                let n = self.history.len();
                let pos = match (self.history_pos, up) {
                    (None, true) if n > 0 => Some(n - 1),
                    (Some(p), true) => Some(p.saturating_sub(1)),
                    (Some(p), false) if p + 1 < n => Some(p + 1),
                    _ => None,
                };
                self.history_pos = pos;
                self.command = pos
                    .and_then(|p| self.history.get(p).cloned())
                    .unwrap_or_default();
            }
            FormEdit::Sent(line) => {
                if self.history.last() != Some(&line) {
                    self.history.push(line);
                }
                self.command.clear();
                self.history_pos = None;
            }
            FormEdit::SfClass(v) => self.sf_class = v,
            FormEdit::SfKind(v) => self.sf_kind = v,
            FormEdit::Load(i) => {
                if let Some(s) = load_saved().get(i) {
                    self.settings = ConnSettings {
                        proxy: s.proxy.clone(),
                        target: s.target.clone(),
                        user: s.user.clone(),
                        password: s.password.clone().unwrap_or_default(),
                        token: s.token.clone(),
                    };
                    self.keep_password = s.password.is_some();
                    return Some(self.settings.proxy.clone());
                }
            }
            FormEdit::Fill(ev) => {
                self.class = names::class_name(ev.class).unwrap_or_else(|| ev.class.to_string());
                self.kind = names::type_name(ev.class, ev.kind)
                    .map_or_else(|| ev.kind.to_string(), str::to_string);
                self.priority = ev.priority();
                self.guid = if ev.guid.is_zero() {
                    "-".into()
                } else {
                    ev.guid.to_string()
                };
                self.data = ev
                    .data
                    .iter()
                    .map(u8::to_string)
                    .collect::<Vec<_>>()
                    .join(",");
            }
        }
        None
    }

    /// The event the send form describes, or what is wrong with it.
    pub fn event(&self) -> Result<Event, String> {
        let class = names::class_by_name(&self.class)
            .ok_or_else(|| format!("unknown class {:?}", self.class))?;
        let kind = names::type_by_name(class, &self.kind)
            .ok_or_else(|| format!("unknown type {:?}", self.kind))?;
        let guid: Guid = if self.guid.trim().is_empty() {
            Guid::ZERO
        } else {
            self.guid.parse().map_err(|e| format!("{e}"))?
        };
        let data = parse_data(&self.data)?;
        let mut ev = Event {
            class,
            kind,
            guid,
            data,
            ..Event::default()
        };
        ev.set_priority(self.priority);
        if ev.is_level1() && !ev.fits_level1() {
            return Err("a Level I event carries at most 8 data bytes".into());
        }
        Ok(ev)
    }
}

/// Data bytes separated by commas or blanks: decimal, `0x` hex or `0b` binary.
pub fn parse_data(text: &str) -> Result<Vec<u8>, String> {
    let tokens: Vec<&str> = text
        .split([',', ' '])
        .filter(|t| !t.trim().is_empty())
        .collect();
    if tokens.is_empty() {
        return Ok(Vec::new());
    }
    vscp_core::parse_data(&tokens.join(",")).map_err(|e| e.to_string())
}

/// UI-only state: forms, targets, scroll position, selection, theme.
pub struct Ui {
    /// Forms.
    pub form: Form,
    /// Targets from the proxy, or why there are none.
    pub targets: Result<Vec<Target>, String>,
    /// Log scroll offset.
    pub scroll_top: i32,
    /// Keep the newest row in view.
    pub follow: bool,
    /// Scroll to the end after the next render.
    pub scroll_to_end: bool,
    /// Scroll to this offset after the next render.
    pub scroll_to: Option<i32>,
    /// Selected row.
    pub selected: Option<u64>,
    /// Client filter.
    pub filter: ViewFilter,
    /// Dark theme?
    pub dark: bool,
    /// Last linktest result (`None` while none ran); `running` while one runs.
    pub linktest: Option<Result<LinkReport, String>>,
    /// A linktest is running.
    pub linktest_running: bool,
    log_ref: NodeRef,
    /// Rows in the (filtered) log at the last render, for the scroll logic.
    rows_shown: std::cell::Cell<usize>,
    /// Saved connections (a copy of local storage).
    saved: Vec<Saved>,
    /// Each panel's last view and the fingerprint of what it showed.
    panels: RefCell<HashMap<&'static str, (u64, Html)>>,
}

fn load_saved() -> Vec<Saved> {
    LocalStorage::get(SAVED_KEY).unwrap_or_default()
}

impl Ui {
    /// Initial UI state: proxy = this page's origin, saved theme.
    pub fn load() -> Ui {
        let origin = web_sys::window()
            .and_then(|w| w.location().origin().ok())
            .unwrap_or_default();
        let dark = LocalStorage::get::<String>(THEME_KEY).is_ok_and(|t| t == "dark");
        let mut form = Form {
            settings: ConnSettings {
                proxy: origin,
                ..ConnSettings::default()
            },
            class: "CLASS1.CONTROL".into(),
            kind: "TURNON".into(),
            priority: 3,
            guid: "-".into(),
            data: "0,1,3".into(),
            ..Form::default()
        };
        let saved = load_saved();
        if let Some(s) = saved.first().cloned() {
            form.settings.target = s.target;
            form.settings.user = s.user;
            form.settings.password = s.password.clone().unwrap_or_default();
            form.keep_password = s.password.is_some();
            form.settings.token = s.token;
        }
        let ui = Ui {
            form,
            targets: Err("loading targets…".into()),
            scroll_top: 0,
            follow: true,
            scroll_to_end: false,
            scroll_to: None,
            selected: None,
            filter: ViewFilter::default(),
            dark,
            linktest: None,
            linktest_running: false,
            log_ref: NodeRef::default(),
            rows_shown: std::cell::Cell::new(0),
            saved,
            panels: RefCell::default(),
        };
        ui.apply_theme();
        ui
    }

    /// Saves the connection (most recent first).
    pub fn remember(&mut self, s: &ConnSettings) {
        let entry = Saved {
            proxy: s.proxy.clone(),
            target: s.target.clone(),
            user: s.user.clone(),
            password: self.form.keep_password.then(|| s.password.clone()),
            token: s.token.clone(),
        };
        let mut all = load_saved();
        all.retain(|x| {
            !(x.proxy == entry.proxy && x.target == entry.target && x.user == entry.user)
        });
        all.insert(0, entry);
        all.truncate(10);
        let _ = LocalStorage::set(SAVED_KEY, &all);
        self.saved = all;
    }

    /// Takes the targets list; picks the first when none is chosen.
    pub fn set_targets(&mut self, t: Result<Vec<Target>, String>) {
        if let Ok(list) = &t
            && !list.iter().any(|x| x.name == self.form.settings.target)
            && let Some(first) = list.first()
        {
            self.form.settings.target = first.name.clone();
        }
        self.targets = t;
    }

    /// Is this scroll offset at the end of the list?
    pub fn at_end(&self, top: i32) -> bool {
        top + LOG_HEIGHT >= self.rows_shown.get() as i32 * ROW_HEIGHT - ROW_HEIGHT
    }

    /// Switches light/dark and remembers it.
    pub fn toggle_theme(&mut self) {
        self.dark = !self.dark;
        let _ = LocalStorage::set(THEME_KEY, if self.dark { "dark" } else { "light" });
        self.apply_theme();
    }

    fn apply_theme(&self) {
        if let Some(body) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.body())
        {
            body.set_class_name(if self.dark { "dark" } else { "light" });
        }
    }

    /// Scrolls the log to its end when a render asked for it. Called at the start of an
    /// animation frame, before any change to the page: the layout is then up to date, and
    /// setting the offset does not force the browser to lay the page out again.
    pub fn scroll_if_asked(&mut self) {
        // the height is known: no layout read needed (the browser clamps the value)
        let to_end = std::mem::take(&mut self.scroll_to_end)
            .then(|| self.rows_shown.get() as i32 * ROW_HEIGHT);
        if let Some(top) = self.scroll_to.take().or(to_end)
            && let Some(el) = self.log_ref.cast::<web_sys::Element>()
        {
            el.set_scroll_top(top);
        }
    }

    /// Is a scroll waiting for the next frame?
    pub fn scroll_pending(&self) -> bool {
        self.scroll_to_end || self.scroll_to.is_some()
    }

    /// Moves the selection `step` rows through the shown rows (`i64::MIN`/`MAX`: first/last)
    /// and scrolls it into view; with nothing selected it starts at the top row in view.
    pub fn step_selection(&mut self, c: &Console, step: i64) {
        let shown: Vec<u64> = c
            .log
            .rows
            .iter()
            .filter(|r| self.filter.matches(r))
            .map(|r| r.seq)
            .collect();
        let Some(last) = shown.len().checked_sub(1) else {
            return;
        };
        let from = self
            .selected
            .and_then(|s| shown.iter().position(|x| *x == s))
            .map_or((self.scroll_top / ROW_HEIGHT) as i64 - step.signum(), |i| {
                i as i64
            });
        let at = from.saturating_add(step).clamp(0, last as i64) as usize;
        self.selected = shown.get(at).copied();
        self.follow = step == i64::MAX;
        let y = at as i32 * ROW_HEIGHT;
        let top = if y < self.scroll_top {
            y
        } else if y + ROW_HEIGHT > self.scroll_top + LOG_HEIGHT {
            y + ROW_HEIGHT - LOG_HEIGHT
        } else {
            self.scroll_top
        };
        self.scroll_top = top;
        self.scroll_to = Some(top);
    }
}

/// Loads `/api/targets` from the proxy at `base`.
pub fn fetch_targets(base: &str, cb: Callback<Result<Vec<Target>, String>>) {
    let url = format!("{}/api/targets", base.trim_end_matches('/'));
    wasm_bindgen_futures::spawn_local(async move {
        let r = async {
            let resp = gloo::net::http::Request::get(&url)
                .send()
                .await
                .map_err(|e| format!("{url}: {e}"))?;
            if !resp.ok() {
                return Err(format!("{url}: HTTP {}", resp.status()));
            }
            resp.json::<Vec<Target>>()
                .await
                .map_err(|e| format!("{url}: {e}"))
        }
        .await;
        cb.emit(r);
    });
}

/// Downloads the rows that pass the filter as CSV or JSON.
pub fn export(kind: &'static str, console: &Console, filter: &ViewFilter) {
    let rows = console.log.rows.iter().filter(|r| filter.matches(r));
    let (text, mime) = if kind == "csv" {
        (state::to_csv(rows), "text/csv")
    } else {
        (state::to_json(rows), "application/json")
    };
    let parts = js_sys::Array::of1(&text.into());
    let props = web_sys::BlobPropertyBag::new();
    props.set_type(mime);
    let Ok(blob) = web_sys::Blob::new_with_str_sequence_and_options(&parts, &props) else {
        return;
    };
    let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) else {
        return;
    };
    let doc = web_sys::window().and_then(|w| w.document());
    if let Some(a) = doc
        .and_then(|d| d.create_element("a").ok())
        .and_then(|a| a.dyn_into::<web_sys::HtmlAnchorElement>().ok())
    {
        a.set_href(&url);
        a.set_download(&format!("vscp-events.{kind}"));
        a.click();
    }
    let _ = web_sys::Url::revoke_object_url(&url);
}

fn input_value(e: &InputEvent) -> String {
    e.target_unchecked_into::<HtmlInputElement>().value()
}

fn status_text(c: &Console) -> (String, &'static str) {
    match &c.link {
        Link::Disconnected(None) => ("disconnected".into(), "off"),
        Link::Disconnected(Some(r)) => (format!("disconnected — {r}"), "err"),
        Link::Connecting => ("connecting to proxy…".into(), "busy"),
        Link::Session(State::Greeting) => ("connected, waiting for greeting…".into(), "busy"),
        Link::Session(State::LoggingIn) => ("logging in…".into(), "busy"),
        Link::Session(State::Ready) => ("connected (polling/commands)".into(), "ok"),
        Link::Session(State::Streaming) => ("streaming (RCVLOOP)".into(), "ok"),
        Link::Session(State::Closed) => ("closed".into(), "err"),
        Link::Reconnecting {
            at,
            attempt,
            reason,
        } => {
            let secs =
                at.0.saturating_sub(js_sys::Date::now() as u64)
                    .div_ceil(1000);
            (
                format!("reconnecting in {secs} s (attempt {attempt}) — {reason}"),
                "err",
            )
        }
    }
}

/// The whole page.
pub fn page(app: &App, ctx: &Context<App>) -> Html {
    let c = app.console();
    let ui = &app.ui;
    let link = ctx.link();
    let (status, kind) = status_text(c);
    let connected = !matches!(c.link, Link::Disconnected(_));
    html! {
        <div class="app">
            <header>
                <h1>{"vscp-link"}</h1>
                <span id="status" class={classes!("status", kind)} role="status">{status}</span>
                <button class="ghost" title="light/dark" onclick={link.callback(|_| Msg::Theme)}>{ if ui.dark { "☀" } else { "☾" } }</button>
            </header>
            { ui.panel("connection", &(&ui.form.settings, ui.form.keep_password, &ui.targets, connected, &ui.saved), || connection(app, ctx)) }
            { notices(c) }
            <main>
                <section class="log-area">
                    { ui.panel("filters", &(&ui.filter, &ui.form.sf_class, &ui.form.sf_kind, c.paused, ui.follow, c.mode), || filters(app, ctx)) }
                    { log_view(app, ctx) }
                    { detail(app) }
                </section>
                <aside>
                    { ui.panel("send", &(&ui.form.class, &ui.form.kind, ui.form.priority, &ui.form.guid, &ui.form.data, &c.sent), || send_form(app, ctx)) }
                    { ui.panel("console", &(&ui.form.command, &c.transcript), || command_console(app, ctx)) }
                    { ui.panel("server", &c.server, || server_panel(app, ctx)) }
                    { ui.panel("linktest", &(&ui.linktest, ui.linktest_running), || linktest_panel(app, ctx)) }
                </aside>
            </main>
        </div>
    }
}

/// A hash of the `Debug` text of what a panel shows: equal means the panel is unchanged.
fn fingerprint(inputs: &dyn std::fmt::Debug) -> u64 {
    struct Sink(DefaultHasher);
    impl std::fmt::Write for Sink {
        fn write_str(&mut self, s: &str) -> std::fmt::Result {
            self.0.write(s.as_bytes());
            Ok(())
        }
    }
    let mut sink = Sink(DefaultHasher::new());
    let _ = std::fmt::write(&mut sink, format_args!("{inputs:?}"));
    sink.0.finish()
}

/// Props of [`Frozen`]: equal when the fingerprints are.
#[derive(Properties)]
pub struct FrozenProps {
    fingerprint: u64,
    html: Html,
}

impl PartialEq for FrozenProps {
    fn eq(&self, other: &Self) -> bool {
        self.fingerprint == other.fingerprint
    }
}

/// A part of the page that Yew neither rebuilds nor compares while its inputs stay the same
/// (the log changes every frame; the panels around it rarely do).
#[function_component(Frozen)]
fn frozen(props: &FrozenProps) -> Html {
    props.html.clone()
}

impl Ui {
    /// The panel `name`, built by `view` only when `inputs` changed since the last frame.
    fn panel(
        &self,
        name: &'static str,
        inputs: &dyn std::fmt::Debug,
        view: impl FnOnce() -> Html,
    ) -> Html {
        let fp = fingerprint(inputs);
        let mut panels = self.panels.borrow_mut();
        let html = match panels.get(name) {
            Some((old, html)) if *old == fp => html.clone(),
            _ => {
                let html = view();
                panels.insert(name, (fp, html.clone()));
                html
            }
        };
        html! { <Frozen fingerprint={fp} {html} /> }
    }
}

fn notices(c: &Console) -> Html {
    if c.notices.is_empty() {
        return html! {};
    }
    html! { <ul id="notices" class="notices">{ for c.notices.iter().rev().take(3).map(|n| html! { <li>{n}</li> }) }</ul> }
}

fn connection(app: &App, ctx: &Context<App>) -> Html {
    let link = ctx.link();
    let f = &app.ui.form;
    let connected = !matches!(app.console().link, Link::Disconnected(_));
    let edit = |mk: fn(String) -> FormEdit| {
        link.callback(move |e: InputEvent| Msg::Form(mk(input_value(&e))))
    };
    let settings = f.settings.clone();
    let connect = link.callback(move |e: SubmitEvent| {
        e.prevent_default();
        Msg::Act(Action::Connect(settings.clone()))
    });
    let targets = match &app.ui.targets {
        Ok(list) => html! {
            <select id="target" aria-label="target" onchange={link.callback(|e: web_sys::Event| Msg::Form(FormEdit::Target(e.target_unchecked_into::<HtmlSelectElement>().value())))}>
                { for list.iter().map(|t| html! {
                    <option value={t.name.clone()} selected={t.name == f.settings.target}>
                        { format!("{} ({}{})", t.name, t.address, if t.demo { ", demo" } else { "" }) }
                    </option>
                }) }
            </select>
        },
        Err(e) => html! { <span class="err">{e}</span> },
    };
    let saved = &app.ui.saved;
    html! {
        <form class="conn" onsubmit={connect}>
            <label>{"Proxy"}<input id="proxy" value={f.settings.proxy.clone()} oninput={edit(FormEdit::Proxy)} /></label>
            <label>{"Target"}{targets}</label>
            <label>{"User"}<input id="user" autocomplete="username" value={f.settings.user.clone()} oninput={edit(FormEdit::User)} /></label>
            <label>{"Password"}<input id="password" type="password" autocomplete="current-password" value={f.settings.password.clone()} oninput={edit(FormEdit::Password)} /></label>
            <label>{"Token"}<input id="token" value={f.settings.token.clone()} oninput={edit(FormEdit::Token)} placeholder="optional" /></label>
            <label class="check"><input type="checkbox" checked={f.keep_password}
                onchange={link.callback(|e: web_sys::Event| Msg::Form(FormEdit::KeepPassword(e.target_unchecked_into::<HtmlInputElement>().checked())))} />{"save password"}</label>
            if connected {
                <button id="disconnect" type="button" onclick={link.callback(|_| Msg::Act(Action::Disconnect))}>{"Disconnect"}</button>
            } else {
                <button id="connect" type="submit">{"Connect"}</button>
            }
            if !saved.is_empty() {
                <select aria-label="saved connections" onchange={link.callback(|e: web_sys::Event| Msg::Form(FormEdit::Load(e.target_unchecked_into::<HtmlSelectElement>().value().parse().unwrap_or(usize::MAX))))}>
                    <option value="">{"saved connections…"}</option>
                    { for saved.iter().enumerate().map(|(i, s)| html! { <option value={i.to_string()}>{format!("{}@{} {}", s.user, s.target, s.proxy)}</option> }) }
                </select>
            }
        </form>
    }
}

fn opt_num<T: std::str::FromStr>(s: &str) -> Option<T> {
    s.trim().parse().ok()
}

fn filters(app: &App, ctx: &Context<App>) -> Html {
    let link = ctx.link();
    let flt = app.ui.filter.clone();
    let c = app.console();
    let set = |f: fn(&mut ViewFilter, String)| {
        let flt = flt.clone();
        link.callback(move |e: InputEvent| {
            let mut next = flt.clone();
            f(&mut next, input_value(&e));
            Msg::Filter(next)
        })
    };
    let mode = c.mode;
    let sf = {
        let f = &app.ui.form;
        let class = names::class_by_name(&f.sf_class);
        let kind = class
            .and_then(|c| names::type_by_name(c, &f.sf_kind))
            .or_else(|| opt_num(&f.sf_kind));
        let filter = state::server_filter(
            class.filter(|_| !f.sf_class.trim().is_empty()),
            kind.filter(|_| !f.sf_kind.trim().is_empty()),
            None,
        );
        link.callback(move |_| Msg::Act(Action::ServerFilter(filter)))
    };
    html! {
        <div class="toolbar">
            <input id="f-class" placeholder="class" size="6" value={flt.class.map(|v| v.to_string()).unwrap_or_default()}
                oninput={set(|f, v| f.class = names::class_by_name(&v).filter(|_| !v.trim().is_empty()))} />
            <input id="f-type" placeholder="type" size="5" value={flt.kind.map(|v| v.to_string()).unwrap_or_default()}
                oninput={set(|f, v| f.kind = opt_num(&v))} />
            <input id="f-node" placeholder="node" size="4" value={flt.nickname.map(|v| v.to_string()).unwrap_or_default()}
                oninput={set(|f, v| f.nickname = opt_num(&v))} />
            <input id="f-prio" placeholder="prio ≤" size="4" value={flt.max_priority.map(|v| v.to_string()).unwrap_or_default()}
                oninput={set(|f, v| f.max_priority = opt_num(&v))} />
            <input id="f-text" placeholder="search" value={flt.text.clone()} oninput={set(|f, v| f.text = v)} />
            <button id="f-clear" onclick={link.callback(|_| Msg::Filter(ViewFilter::default()))}>{"clear filter"}</button>
            <span class="sep" />
            <input id="sf-class" placeholder="server class" size="8" value={app.ui.form.sf_class.clone()} oninput={link.callback(|e| Msg::Form(FormEdit::SfClass(input_value(&e))))} />
            <input id="sf-type" placeholder="type" size="5" value={app.ui.form.sf_kind.clone()} oninput={link.callback(|e| Msg::Form(FormEdit::SfKind(input_value(&e))))} />
            <button id="sf-apply" title="SFLT + SMSK on the server" onclick={sf}>{"server filter"}</button>
            <span class="sep" />
            <button id="pause" onclick={link.callback(|_| Msg::Act(Action::TogglePause))}>{ if c.paused { "resume" } else { "pause" } }</button>
            <button id="clear" onclick={link.callback(|_| Msg::Act(Action::Clear))}>{"clear"}</button>
            <label class="check"><input id="follow" type="checkbox" checked={app.ui.follow}
                onchange={link.callback(|e: web_sys::Event| Msg::Follow(e.target_unchecked_into::<HtmlInputElement>().checked()))} />{"follow"}</label>
            <select id="mode" aria-label="receive mode" onchange={link.callback(|e: web_sys::Event| {
                let v = e.target_unchecked_into::<HtmlSelectElement>().value();
                Msg::Act(Action::ReceiveMode(if v == "poll" { ReceiveMode::Poll } else { ReceiveMode::Stream }))
            })}>
                <option value="stream" selected={mode == ReceiveMode::Stream}>{"stream"}</option>
                <option value="poll" selected={mode == ReceiveMode::Poll}>{"poll"}</option>
            </select>
            <button id="export-csv" onclick={link.callback(|_| Msg::Export("csv"))}>{"CSV"}</button>
            <button id="export-json" onclick={link.callback(|_| Msg::Export("json"))}>{"JSON"}</button>
            <label class="file">{"import"}<input id="import" type="file" accept=".json,application/json" onchange={import(ctx)} /></label>
        </div>
    }
}

fn import(ctx: &Context<App>) -> Callback<web_sys::Event> {
    let cb = ctx.link().callback(Msg::Imported);
    Callback::from(move |e: web_sys::Event| {
        let input = e.target_unchecked_into::<HtmlInputElement>();
        if let Some(file) = input.files().and_then(|f| f.get(0)) {
            let cb = cb.clone();
            let file = gloo::file::File::from(file);
            wasm_bindgen_futures::spawn_local(async move {
                match gloo::file::futures::read_as_text(&file).await {
                    Ok(text) => cb.emit(text),
                    Err(e) => cb.emit(format!("{{\"error\": \"{e}\"}}")),
                }
            });
        }
    })
}

fn log_view(app: &App, ctx: &Context<App>) -> Html {
    let c = app.console();
    let link = ctx.link();
    let flt = &app.ui.filter;
    // without a filter the window is indexed directly: no pass over 100,000 rows per frame
    let filtered: Option<Vec<&Row>> = flt
        .is_active()
        .then(|| c.log.rows.iter().filter(|r| flt.matches(r)).collect());
    let shown_len = filtered.as_ref().map_or(c.log.rows.len(), Vec::len);
    let hidden = c.log.rows.len() - shown_len;
    app.ui.rows_shown.set(shown_len);
    // render only the rows in view (plus a margin)
    let total_height = shown_len as i32 * ROW_HEIGHT;
    let top = if app.ui.follow {
        (total_height - LOG_HEIGHT).max(0)
    } else {
        app.ui.scroll_top
    };
    let first = ((top / ROW_HEIGHT - 5).max(0) as usize).min(shown_len);
    let last = (((top + LOG_HEIGHT) / ROW_HEIGHT + 5).max(0) as usize).min(shown_len);
    let window: Vec<&Row> = match &filtered {
        Some(rows) => rows.get(first..last).unwrap_or_default().to_vec(),
        None => c.log.rows.range(first..last).collect(),
    };
    let onscroll = link.callback(|e: web_sys::Event| {
        Msg::Scroll(e.target_unchecked_into::<web_sys::Element>().scroll_top())
    });
    let onkeydown = link.batch_callback(|e: KeyboardEvent| {
        const PAGE: i64 = (LOG_HEIGHT / ROW_HEIGHT) as i64 - 1;
        let step = match e.key().as_str() {
            "ArrowDown" => 1,
            "ArrowUp" => -1,
            "PageDown" => PAGE,
            "PageUp" => -PAGE,
            "Home" => i64::MIN,
            "End" => i64::MAX,
            "Escape" => return Some(Msg::Select(None)),
            _ => return None,
        };
        e.prevent_default();
        Some(Msg::Step(step))
    });
    let selected = app.ui.selected;
    let now_ms = js_sys::Date::now() as u64;
    html! {
        <>
        <div class="counters" id="counters">
            <span>{ format!("{} events/s", c.log.rate(now_ms)) }</span>
            <span id="total">{ format!("{} received", c.log.total) }</span>
            <span id="shown">{ format!("{shown_len} shown") }</span>
            <span id="hidden">{ format!("{hidden} hidden by filter") }</span>
            if c.log.evicted > 0 { <span>{ format!("{} rolled out", c.log.evicted) }</span> }
            if c.paused { <span class="err">{ format!("paused ({} not shown)", c.log.paused_skipped) }</span> }
        </div>
        <div class="log-head row"><span>{"time"}</span><span>{"prio"}</span><span>{"class"}</span><span>{"type"}</span><span>{"node / GUID"}</span><span>{"data"}</span><span>{"value"}</span></div>
        <div class="log" id="log" ref={app.ui.log_ref.clone()} style={format!("height:{LOG_HEIGHT}px")} onscroll={onscroll}
            tabindex="0" aria-label="event log: ↑/↓, PgUp/PgDn, Home/End select a row, Esc clears" {onkeydown}>
            if shown_len == 0 {
                // also loads the log's monospace font before the first events need it
                <p class="empty">{ if hidden > 0 { "All events are hidden by the filter." } else { "No events yet. Connect to a node to see its events here." } }</p>
            }
            <div style={format!("height:{total_height}px")}>
            // rows in flow inside a moved window, unkeyed: a new frame rewrites the texts of
            // the same row elements instead of creating new ones
            <div class="window" style={format!("transform:translateY({}px)", first as i32 * ROW_HEIGHT)}>
            { for window.iter().map(|r| {
                let seq = r.seq;
                let e = &r.event;
                html! {
                    <div class={classes!("row", "ev", (selected == Some(seq)).then_some("sel"))}
                        onclick={link.callback(move |_| Msg::Select(Some(seq)))}>
                        <span>{ time_of_day(r.received_ms) }</span>
                        <span>{ e.priority() }</span>
                        <span class="cls">{ state::class_label(e.class) }</span>
                        <span class="typ">{ state::type_label(e.class, e.kind) }</span>
                        <span class="guid" title={e.guid.to_string()}>{ node_label(&e.guid, c) }</span>
                        <span class="data">{ state::hex(&e.data) }</span>
                        <span class="val">{ r.decoded.clone().unwrap_or_default() }</span>
                    </div>
                }
            }) }
            </div>
            </div>
        </div>
        </>
    }
}

/// Local time of day with milliseconds.
fn time_of_day(ms: u64) -> String {
    let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64));
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        d.get_hours(),
        d.get_minutes(),
        d.get_seconds(),
        ms % 1000
    )
}

fn node_label(g: &Guid, c: &Console) -> String {
    if let Some(name) = c.node_names.get(g) {
        format!("{name} (node {})", g.nickname())
    } else if g.0[..15] == crate::views::DEMO_IFACE[..15] {
        format!("node {} (demo bus)", g.nickname())
    } else {
        g.compact()
    }
}

/// Interface GUID of the demo bus, for friendly node names.
pub const DEMO_IFACE: [u8; 16] = [
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xF5, 0, 1, 0, 0, 0, 0, 0, 0,
];

fn detail(app: &App) -> Html {
    let Some(seq) = app.ui.selected else {
        return html! {};
    };
    let Some(r) = app.console().log.rows.iter().find(|r| r.seq == seq) else {
        return html! {};
    };
    let e = &r.event;
    html! {
        <div class="detail" id="detail">
            <dl>
                <dt>{"received"}</dt><dd>{ time_of_day(r.received_ms) }</dd>
                <dt>{"head"}</dt><dd>{ format!("{} (priority {}, frame version {})", e.head, e.priority(), (e.head >> 8) & 3) }</dd>
                <dt>{"class"}</dt><dd>{ state::class_label(e.class) }</dd>
                <dt>{"type"}</dt><dd>{ state::type_label(e.class, e.kind) }</dd>
                <dt>{"obid"}</dt><dd>{ e.obid }</dd>
                <dt>{"time"}</dt><dd>{ e.stamp.unix_ns().map_or("unknown".into(), |ns| format!("{ns} ns")) }</dd>
                <dt>{"GUID"}</dt><dd>{ format!("{} — {}", e.guid, node_label(&e.guid, app.console())) }</dd>
                <dt>{"data"}</dt><dd>{ format!("{} ({} bytes)", state::hex(&e.data), e.data.len()) }</dd>
                <dt>{"decoded"}</dt><dd>{ r.decoded.clone().unwrap_or_else(|| "—".into()) }</dd>
                <dt>{"raw line"}</dt><dd><code>{ e.to_string() }</code></dd>
            </dl>
        </div>
    }
}

fn templates() -> Vec<(&'static str, Event)> {
    let ev = |class, kind, data: &[u8]| Event {
        class,
        kind,
        data: data.to_vec(),
        head: 3 << 5,
        ..Event::default()
    };
    vec![
        ("relay on", ev(30, 5, &[0, 1, 3])),
        ("relay off", ev(30, 6, &[0, 1, 3])),
        ("who is there", ev(0, 31, &[255])),
        ("read GUID reg of node 1", ev(0, 9, &[1, 0xD0])),
        ("read interval of node 1", ev(0, 9, &[1, 0x00])),
    ]
}

fn send_form(app: &App, ctx: &Context<App>) -> Html {
    let link = ctx.link();
    let f = &app.ui.form;
    let parsed = f.event();
    let send = {
        let parsed = parsed.clone();
        link.batch_callback(move |e: SubmitEvent| {
            e.prevent_default();
            parsed
                .clone()
                .ok()
                .map(|ev| Msg::Act(Action::SendEvent(ev)))
        })
    };
    let edit = |mk: fn(String) -> FormEdit| {
        link.callback(move |e: InputEvent| Msg::Form(mk(input_value(&e))))
    };
    let class_no = names::class_by_name(&f.class);
    html! {
        <form class="panel send" onsubmit={send}>
            <h2>{"Send event"}</h2>
            <datalist id="classes">{ for names::CLASSES.iter().map(|c| html! { <option value={c.name} /> }) }</datalist>
            <datalist id="types">{ for class_no.and_then(names::class).into_iter().flat_map(|c| c.types.iter()).map(|(_, n)| html! { <option value={*n} /> }) }</datalist>
            <label>{"Class"}<input id="s-class" list="classes" value={f.class.clone()} oninput={edit(FormEdit::Class)} /></label>
            <label>{"Type"}<input id="s-type" list="types" value={f.kind.clone()} oninput={edit(FormEdit::Kind)} /></label>
            <label>{"Priority"}<select id="s-prio" onchange={link.callback(|e: web_sys::Event| Msg::Form(FormEdit::Priority(e.target_unchecked_into::<HtmlSelectElement>().value().parse().unwrap_or(3))))}>
                { for (0..8u8).map(|p| html! { <option value={p.to_string()} selected={p == f.priority}>{p}</option> }) }
            </select></label>
            <label>{"GUID"}<input id="s-guid" value={f.guid.clone()} oninput={edit(FormEdit::Guid)} placeholder="- = interface" /></label>
            <label>{"Data"}<input id="s-data" value={f.data.clone()} oninput={edit(FormEdit::Data)} placeholder="1,2,0x1F" /></label>
            { match &parsed {
                Ok(ev) => html! { <p class="hint">{ format!("SEND {ev}") }</p> },
                Err(e) => html! { <p class="err" id="s-error">{e}</p> },
            } }
            <button id="send" type="submit" disabled={parsed.is_err()}>{"Send"}</button>
            <div class="chips">
                { for templates().into_iter().map(|(name, ev)| html! {
                    <button type="button" class="chip" onclick={link.callback(move |_| Msg::Form(FormEdit::Fill(ev.clone())))}>{name}</button>
                }) }
            </div>
            if !app.console().sent.is_empty() {
                <h3>{"Sent"}</h3>
                <ul class="history">{ for app.console().sent.iter().rev().take(8).map(|ev| {
                    let again = ev.clone();
                    html! { <li><code>{ ev.to_string() }</code><button type="button" class="chip" onclick={link.callback(move |_| Msg::Act(Action::SendEvent(again.clone())))}>{"resend"}</button></li> }
                }) }</ul>
            }
        </form>
    }
}

fn command_console(app: &App, ctx: &Context<App>) -> Html {
    let link = ctx.link();
    let line = app.ui.form.command.clone();
    let submit = link.batch_callback(move |e: SubmitEvent| {
        e.prevent_default();
        vec![
            Msg::Form(FormEdit::Sent(line.clone())),
            Msg::Act(Action::Command(line.clone())),
        ]
    });
    let keys = link.batch_callback(|e: KeyboardEvent| match e.key().as_str() {
        "ArrowUp" => Some(Msg::Form(FormEdit::HistoryUp)),
        "ArrowDown" => Some(Msg::Form(FormEdit::HistoryDown)),
        _ => None,
    });
    html! {
        <form class="panel console" onsubmit={submit}>
            <h2>{"Command console"}</h2>
            <pre id="transcript" class="transcript">{ for app.console().transcript.iter().rev().take(200).collect::<Vec<_>>().into_iter().rev().map(|t| match t {
                Transcript::Sent(l) => html! { <div class="sent">{ format!("> {l}") }</div> },
                Transcript::Reply(l, err) => html! { <div class={classes!(err.then_some("err"))}>{ l }</div> },
                Transcript::Note(l) => html! { <div class="note">{ l }</div> },
            }) }</pre>
            <input id="cmd" placeholder="type a command, e.g. NOOP, VERS, CDTA (↑/↓ history)" autocomplete="off"
                value={app.ui.form.command.clone()} onkeydown={keys}
                oninput={link.callback(|e| Msg::Form(FormEdit::Command(input_value(&e))))} />
        </form>
    }
}

fn server_panel(app: &App, ctx: &Context<App>) -> Html {
    let s = &app.console().server;
    let opt = |v: Option<String>| v.unwrap_or_else(|| "—".into());
    html! {
        <section class="panel server" id="server">
            <h2>{"Server"}<button class="chip" onclick={ctx.link().callback(|_| Msg::Act(Action::RefreshServer))}>{"refresh"}</button></h2>
            <dl>
                <dt>{"banner"}</dt><dd>{ s.banner.join(" · ") }</dd>
                <dt>{"VERS"}</dt><dd id="vers">{ opt(s.version.map(|v| format!("{}.{}.{}{}", v.major, v.minor, v.release, v.build.map(|b| format!(".{b}")).unwrap_or_default()))) }</dd>
                <dt>{"WCYD"}</dt><dd>{ opt(s.caps.map(|c| format!("{} — {}", c, c.names().join(", ")))) }</dd>
                <dt>{"CHID"}</dt><dd>{ opt(s.channel.map(|c| c.to_string())) }</dd>
                <dt>{"GGID"}</dt><dd>{ opt(s.guid.map(|g| g.to_string())) }</dd>
                <dt>{"STAT"}</dt><dd>{ opt(s.stat.map(|t| format!("rx {} frames / {} bytes, tx {} frames / {} bytes, overruns {}", t.rx_frames, t.rx_data, t.tx_frames, t.tx_data, t.c))) }</dd>
                <dt>{"INFO"}</dt><dd>{ opt(s.info.as_ref().map(|i| format!("status {}, error {}/{} {}", i.channel_status, i.error_code, i.error_subcode, i.error_str))) }</dd>
                <dt>{"INTERFACE"}</dt><dd><ul>{ for s.interfaces.iter().map(|i| html! { <li>{ format!("#{} type {} {} — {}", i.id, i.kind, i.guid.compact(), i.name) }</li> }) }</ul></dd>
            </dl>
        </section>
    }
}

fn linktest_panel(app: &App, ctx: &Context<App>) -> Html {
    let ui = &app.ui;
    let body = match &ui.linktest {
        None => {
            html! { <p class="hint">{"Checks the chosen target against the link protocol (it opens its own connections)."}</p> }
        }
        Some(Err(e)) => html! { <p class="err">{e}</p> },
        Some(Ok(r)) => html! {
            <>
            <p id="linktest-summary">{ format!("{}: {} passed, {} failed, {} not supported", r.server, r.passed, r.failed, r.not_supported) }</p>
            <table class="checks">
                { for r.checks.iter().map(|c| html! {
                    <tr class={c.outcome.clone()}>
                        <td>{ match c.outcome.as_str() { "pass" => "✔", "fail" => "✘", _ => "–" } }</td>
                        <td>{ &c.name }</td>
                        <td>{ &c.detail }
                            if c.outcome == "fail" && !c.exchange.is_empty() { <pre>{ c.exchange.join("\n") }</pre> }
                        </td>
                    </tr>
                }) }
            </table>
            </>
        },
    };
    html! {
        <section class="panel linktest" id="linktest">
            <h2>{"Conformance (linktest)"}
                <button id="linktest-run" class="chip" disabled={ui.linktest_running} onclick={ctx.link().callback(|_| Msg::Linktest)}>
                    { if ui.linktest_running { "running…" } else { "run" } }
                </button>
            </h2>
            { body }
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::parse_data;

    #[test]
    fn data_bytes_as_typed() {
        assert_eq!(parse_data("1, 0x1F 0b11"), Ok(vec![1, 31, 3]));
        assert_eq!(parse_data("  "), Ok(vec![]));
        assert_eq!(parse_data("1,,2"), Ok(vec![1, 2]));
        assert!(parse_data("256").is_err());
        assert!(parse_data("x").is_err());
        assert!(parse_data(&"1 ".repeat(513)).is_err());
    }
}
