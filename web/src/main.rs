//! vscp-web: the vscp-link console. A Yew app that runs vscp-core's client session in the
//! browser and talks to vscp-proxy over a websocket.
//!
//! `state` is the reducer (no html, tested natively); `ui` is the page's own state; `update`
//! computes everything the page shows and `view` only reads it; `components` has one panel
//! per file; `link` is the websocket; `api` talks to the proxy, `browser` and `storage` to the
//! browser.

mod api;
mod browser;
mod chart;
mod components;
mod filter_form;
mod format;
mod forms;
mod link;
mod state;
mod storage;
mod ui;

use std::{collections::VecDeque, rc::Rc};

use gloo::{render::AnimationFrame, timers::callback::Interval};
use vscp_api::{Report, Target};
use vscp_core::{Millis, State};
use yew::prelude::*;

use components::{
    charts::ChartPanel,
    command_console::CommandConsole,
    connection::Connection,
    detail::Detail,
    event_log::{Counters, EventLog},
    filters::Filters,
    known_nodes::KnownNodesPanel,
    linktest_panel::LinktestPanel,
    nodes::Nodes,
    notices::Notices,
    registers::Registers,
    send_form::SendForm,
    server_panel::ServerPanel,
};
use forms::FormEdit;
use link::{Link, LinkEvent};
use state::{Action, BrokerState, Console, Effect, RegisterAction};

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
    FetchMdf(String),
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

/// Least time between two drawings of the chart, ms.
const CHART_FRAME_MS: f64 = 250.0;

/// Lines handled per step while working through received messages.
const LINES_PER_STEP: usize = 256;
/// Time per animation frame spent on received lines before yielding to rendering, ms.
const FRAME_BUDGET_MS: f64 = 4.0;
/// A message this small, arriving with nothing queued, is handled at once.
const QUICK_MESSAGE: usize = 512;
/// Above this many queued bytes the budget is ignored (memory over smoothness).
const INBOX_LIMIT: usize = 8 << 20;

/// The console page.
pub struct App {
    console: Console,
    /// Received messages not yet handled, and the offset into the first.
    inbox: VecDeque<String>,
    inbox_pos: usize,
    inbox_bytes: usize,
    link: Option<Link>,
    frame: Option<AnimationFrame>,
    _tick: Interval,
    _resize: gloo::events::EventListener,
    ui: ui::Ui,
    /// The one callback every panel sends through (made once, so panel props stay equal).
    on: Callback<Msg>,
    /// The chart's pixel-to-data map, its data version and time of its last drawing.
    chart: Option<(chart::CoordMap, u64, f64)>,
}

fn now() -> Millis {
    Millis(js_sys::Date::now() as u64)
}

impl Component for App {
    type Message = Msg;
    type Properties = ();

    fn create(ctx: &Context<Self>) -> Self {
        let tick = {
            let cb = ctx.link().callback(|_| Msg::Act(Action::Tick));
            Interval::new(250, move || cb.emit(()))
        };
        let resize = {
            let cb = ctx.link().callback(|_| Msg::Resize);
            let window = gloo::utils::window();
            gloo::events::EventListener::new(&window, "resize", move |_| cb.emit(()))
        };
        let ui = ui::Ui::load();
        api::fetch_targets(&ui.form.settings, ctx.link().callback(Msg::Targets));
        let mut console = Console::default();
        console.apply(now(), Action::KnownNodes(storage::load(storage::NODES_KEY)));
        let mut ui = ui;
        ui.stored_names = console.node_names.clone();
        App {
            console,
            inbox: VecDeque::new(),
            inbox_pos: 0,
            inbox_bytes: 0,
            link: None,
            frame: None,
            _tick: tick,
            _resize: resize,
            ui,
            on: ctx.link().callback(|m| m),
            chart: None,
        }
    }

    fn update(&mut self, ctx: &Context<Self>, msg: Msg) -> bool {
        let before = (self.console.log.total, self.console.log.rows.len());
        let render = self.handle(ctx, msg);
        if self.console.logged_in()
            && let Some(s) = self.ui.unsaved.take()
        {
            self.ui.remember(&s);
        }
        // the known nodes are kept in the browser whenever they change
        if !Rc::ptr_eq(&self.ui.stored_names, &self.console.node_names) {
            self.ui.stored_names = self.console.node_names.clone();
            storage::store(
                storage::NODES_KEY,
                &state::known_list(&self.console.node_names),
            );
        }
        // however rows came (a quick reply, a frame's slice, an import), with follow on the
        // log scrolls to its end right after the render that shows them
        if self.ui.follow && before != (self.console.log.total, self.console.log.rows.len()) {
            self.ui.scroll_to_end = true;
        }
        if render {
            self.ui.refresh_window(&self.console);
        }
        render
    }

    fn view(&self, _ctx: &Context<Self>) -> Html {
        let (c, ui, on) = (&self.console, &self.ui, &self.on);
        let (status, kind) = status_text(c);
        let counters = Counters {
            rate: c.log.rate(now().0),
            total: c.log.total,
            evicted: c.log.evicted,
            paused: c.paused,
            paused_skipped: c.log.paused_skipped,
        };
        let selected = ui.selected.and_then(|seq| {
            let rows = &c.log.rows;
            rows.binary_search_by_key(&seq, |r| r.seq)
                .ok()
                .and_then(|i| rows.get(i))
                .or_else(|| rows.iter().find(|r| r.seq == seq))
                .cloned()
        });
        let node = selected
            .as_ref()
            .map(|r| format::node_label(&r.event.guid, &c.node_names))
            .unwrap_or_default();
        html! {
            <div class="app">
                <header>
                    <h1>{"vscp-link"}</h1>
                    <span id="status" class={classes!("status", kind)} role="status">{status}</span>
                    <button class="ghost" title="light/dark" onclick={on.reform(|_| Msg::Theme)}>{ if ui.dark { "☀" } else { "☾" } }</button>
                </header>
                <Connection settings={ui.form.settings.clone()} keep_password={ui.form.keep_password}
                    targets={ui.targets.clone()} connected={!matches!(c.link, state::Link::Disconnected(_))} retry={c.gave_up}
                    saved={ui.saved.clone()} sites={c.sites.clone()} site={c.site.clone()} on={on.clone()} />
                <Notices notices={c.notices.clone()} on={on.clone()} />
                <nav class="tabs" role="tablist" aria-label="views" onkeydown={on.reform(|e: KeyboardEvent| Msg::TabKey(e.key()))}>
                    { for ui::Tab::ALL.into_iter().map(|tab| html! {
                        <button id={format!("tab-{}", tab.id())} role="tab" aria-selected={(ui.tab == tab).to_string()}
                            aria-controls={format!("panel-{}", tab.id())} tabindex={if ui.tab == tab { "0" } else { "-1" }}
                            class={classes!("tab", (ui.tab == tab).then_some("active"))}
                            onclick={on.reform(move |_| Msg::Tab(tab))}>{ tab.label() }</button>
                    }) }
                </nav>
                <main>
                    <section class="nodes-area" id="panel-nodes" role="tabpanel" aria-labelledby="tab-nodes" hidden={ui.tab != ui::Tab::Nodes}>
                        <Nodes rows={c.node_rows.clone()} scan={c.scan.clone()} server={c.server.clone()}
                            fields={ui.form.nodes.clone()} open={c.registers.as_ref().map(|r| r.node)}
                            now_ms={ui.now_ms} names={c.node_names.clone()} identify={c.identify_new} on={on.clone()} />
                        if let Some(editor) = &c.registers {
                            <Registers editor={editor.clone()} name={c.node_names.get(&editor.node).cloned()}
                                fields={ui.form.nodes.clone()} on={on.clone()} />
                        }
                        <KnownNodesPanel names={c.node_names.clone()} on={on.clone()} />
                    </section>
                    <section class="charts-area" id="panel-charts" role="tabpanel" aria-labelledby="tab-charts" hidden={ui.tab != ui::Tab::Charts}>
                        <ChartPanel rows={c.chart_rows.clone()} paused={c.charts.paused} hover={ui.chart_hover.clone()}
                            canvas={ui.chart_ref.clone()} dark={ui.dark} on={on.clone()} />
                    </section>
                    <section class="log-area" id="panel-events" role="tabpanel" aria-labelledby="tab-events" hidden={ui.tab != ui::Tab::Events}>
                        <Filters fields={ui.filter_fields.clone()} errors={ui.filter_errors.clone()} saved={ui.saved_filters.clone()}
                            node_names={c.node_names.clone()} server_filter={ui.form.server_filter.clone()}
                            paused={c.paused} follow={ui.follow} mode={c.mode} on={on.clone()} />
                        <EventLog window={ui.window.clone()} {counters} selected={ui.selected}
                            node_names={c.node_names.clone()} log_ref={ui.log_ref.clone()} follow={ui.follow} scroll_top={ui.scroll_top} on={on.clone()} />
                        <Detail row={selected} {node} />
                    </section>
                    <aside>
                        <SendForm fields={ui.form.send.clone()} sent={c.sent.clone()} repeats={c.repeats.clone()}
                            templates={ui.templates.clone()} demo={connected_to_demo(c, ui)} on={on.clone()} />
                        <CommandConsole line={ui.form.command.text.clone()} transcript={c.transcript.clone()} on={on.clone()} />
                        <ServerPanel server={c.server.clone()} on={on.clone()} />
                        <LinktestPanel result={ui.linktest.clone()} running={ui.linktest_running} on={on.clone()} />
                    </aside>
                </main>
            </div>
        }
    }

    fn rendered(&mut self, _ctx: &Context<Self>, _first: bool) {
        // right after the rows are in the page: scrolled earlier, the list would still have
        // its old height and the browser would stop short of the new rows
        self.ui.scroll_if_asked();
        if std::mem::take(&mut self.ui.reveal_detail)
            && let Some(el) = gloo::utils::document().get_element_by_id("detail")
        {
            let options = web_sys::ScrollIntoViewOptions::new();
            options.set_block(web_sys::ScrollLogicalPosition::Nearest);
            el.scroll_into_view_with_scroll_into_view_options(&options);
        }
        if std::mem::take(&mut self.ui.focus_tab)
            && let Some(el) = gloo::utils::document()
                .get_element_by_id(&format!("tab-{}", self.ui.tab.id()))
                .and_then(|e| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(e).ok())
        {
            let _ = el.focus();
        }
        self.draw_chart(false);
    }
}

impl App {
    /// Handles one message; true when the page must render now.
    fn handle(&mut self, ctx: &Context<Self>, msg: Msg) -> bool {
        match msg {
            Msg::Act(a) => {
                let tick = matches!(a, Action::Tick);
                if tick {
                    // the node table's ages move with the clock, when it is on screen
                    self.ui.now_ms = now().0;
                }
                let immediate = !matches!(a, Action::Tick | Action::Message(_))
                    || (tick && self.ui.tab != ui::Tab::Events);
                if let Action::Connect(s) = &a {
                    // saved once its login worked (see `update`)
                    self.ui.unsaved = Some(s.clone());
                }
                self.console.apply(now(), a);
                self.effects(ctx);
                return immediate || self.schedule(ctx);
            }
            Msg::Link(LinkEvent::Text(t)) => {
                // handled in slices between frames, so a burst never freezes the page;
                // a small message with nothing waiting (a reply) is handled at once: a
                // command exchange then needs no frame per round trip
                let small = self.inbox.is_empty() && t.len() <= QUICK_MESSAGE;
                self.inbox_bytes += t.len();
                self.inbox.push_back(t);
                if small || self.inbox_bytes > INBOX_LIMIT {
                    self.drain_inbox(f64::INFINITY);
                    self.effects(ctx);
                }
                return self.schedule(ctx);
            }
            Msg::Link(ev) => {
                // lines that arrived before this event come first (they may close the link)
                self.drain_inbox(f64::INFINITY);
                self.effects(ctx);
                let action = match ev {
                    LinkEvent::Opened => Action::Opened,
                    LinkEvent::Text(t) => Action::Message(t),
                    LinkEvent::Binary(b) => Action::Bytes(b),
                    LinkEvent::Closed(_, _) if self.link.is_none() => return self.schedule(ctx),
                    LinkEvent::Closed(code, reason) => {
                        self.link = None;
                        Action::Closed(code, reason)
                    }
                };
                self.console.apply(now(), action);
                self.effects(ctx);
                return self.schedule(ctx);
            }
            Msg::Frame => {
                self.frame = None;
                self.drain_inbox(FRAME_BUDGET_MS);
                self.effects(ctx);
                if !self.inbox.is_empty() {
                    self.schedule(ctx);
                }
            }
            Msg::Targets(t) => self.ui.set_targets(t),
            Msg::Scroll(top) => {
                // only the user leaves the end: a scroll up (or anywhere short of the end while
                // not following); our own scroll to the end may be overtaken by new rows before
                // its event arrives, and must not untick "follow"
                let up = top < self.ui.scroll_top;
                let follow = self.ui.at_end(top) || (self.ui.follow && !up);
                // following and still at the end: this is our own scroll, nothing to re-render
                let changed = follow != self.ui.follow || !follow;
                self.ui.scroll_top = top;
                self.ui.follow = follow;
                return changed;
            }
            Msg::Select(seq) => {
                // a picked row stays where it is (following would move it away), visibly so;
                // its detail is brought into view
                if seq.is_some() {
                    self.ui.follow = false;
                    self.ui.reveal_detail = true;
                }
                self.ui.selected = seq;
            }
            Msg::Step(step) => self.ui.step_selection(&self.console, step),
            Msg::Filter(f) => self.ui.set_filter(f, &self.console.node_names),
            Msg::SaveFilter(name) => self.ui.save_filter(&name, true),
            Msg::ForgetFilter(name) => self.ui.save_filter(&name, false),
            Msg::Follow(f) => {
                self.ui.follow = f;
                self.ui.scroll_to_end = f;
            }
            Msg::Theme => self.ui.toggle_theme(),
            Msg::Resize => return self.ui.resized(),
            Msg::SaveTemplate(name) => {
                if let Err(e) = self.ui.save_template(&name) {
                    self.console.apply(now(), Action::Notice(e));
                }
            }
            Msg::ForgetTemplate(name) => {
                let mut all = (*self.ui.templates).clone();
                all.retain(|t| t.name != name);
                self.ui.set_templates(all);
            }
            Msg::ExportTemplates => {
                let json = serde_json::to_string_pretty(&*self.ui.templates).unwrap_or_default();
                browser::download(json, "vscp-templates.json", "application/json");
                return false;
            }
            Msg::ImportTemplates(text) => match forms::templates_from_json(&text) {
                Ok((list, bad)) => {
                    let mut all = (*self.ui.templates).clone();
                    for t in list {
                        let _ = forms::add_template(&mut all, t);
                    }
                    self.ui.set_templates(all);
                    if bad > 0 {
                        let text =
                            format!("templates: {bad} entries were not usable and were skipped");
                        self.console.apply(now(), Action::Notice(text));
                    }
                }
                Err(e) => self.console.apply(now(), Action::Notice(e)),
            },
            Msg::ExportNodes => {
                let list = state::known_list(&self.console.node_names);
                let json = serde_json::to_string_pretty(&list).unwrap_or_default();
                browser::download(json, "vscp-known-nodes.json", "application/json");
                return false;
            }
            Msg::Form(edit) => {
                if self.ui.form.edit(edit) {
                    api::fetch_targets(&self.ui.form.settings, ctx.link().callback(Msg::Targets));
                }
            }
            Msg::Export(kind) => {
                let rows = self.console.log.rows.iter();
                let rows = rows.filter(|r| self.ui.filter.matches(r));
                match kind {
                    "csv" => browser::download(
                        state::log_file::to_csv(rows),
                        "vscp-events.csv",
                        "text/csv",
                    ),
                    _ => browser::download(
                        state::log_file::to_json(rows),
                        "vscp-events.json",
                        "application/json",
                    ),
                }
            }
            Msg::Linktest => {
                self.ui.linktest_running = true;
                api::run_linktest(
                    &self.ui.form.settings,
                    ctx.link().callback(Msg::LinktestDone),
                );
            }
            Msg::LinktestDone(r) => {
                self.ui.linktest_running = false;
                self.ui.linktest = Some(Rc::new(r));
            }
            Msg::Tab(tab) => {
                self.ui.tab = tab;
                self.chart = None; // drawn afresh once shown
            }
            Msg::TabKey(key) => {
                let Some(tab) = self.ui.tab.by_key(&key) else {
                    return false;
                };
                self.ui.tab = tab;
                self.ui.focus_tab = true;
                self.chart = None;
            }
            Msg::ChartHover(at) => {
                let c = &self.console;
                self.ui.chart_hover = at
                    .zip(self.chart.as_ref())
                    .and_then(|(px, (map, ..))| map(px))
                    .and_then(|(t, _)| chart::hover(&c.charts, t, &|k| c.series_label(k)));
            }
            Msg::ExportChart => {
                let c = &self.console;
                browser::download(
                    c.charts.to_csv(|k| c.series_label(k)),
                    "vscp-chart.csv",
                    "text/csv",
                );
                return false;
            }
            Msg::FetchMdf(url) => api::fetch_mdf(
                &self.ui.form.settings,
                &url,
                ctx.link().callback(|r: Result<String, String>| {
                    Msg::Act(match r {
                        Ok(text) => Action::Registers(RegisterAction::LoadMdf(text)),
                        Err(e) => Action::Notice(e),
                    })
                }),
            ),
        }
        true
    }

    /// Does what the reducer asked of the websocket. Failures come back as messages, so the
    /// reducer is never entered again from here.
    fn effects(&mut self, ctx: &Context<Self>) {
        while let Some(effect) = self.console.poll_effect() {
            match effect {
                Effect::Open(url) => self.open(ctx, &url, None),
                Effect::OpenMqtt(url) => self.open(ctx, &url, Some("mqtt")),
                Effect::Send(text) => {
                    if let Some(l) = &self.link
                        && let Err(e) = l.send(&text)
                    {
                        ctx.link().send_message(Msg::Act(Action::Notice(e)));
                    }
                }
                Effect::SendBinary(bytes) => {
                    if let Some(l) = &self.link
                        && let Err(e) = l.send_binary(&bytes)
                    {
                        ctx.link().send_message(Msg::Act(Action::Notice(e)));
                    }
                }
                Effect::Close => {
                    if let Some(l) = self.link.take() {
                        l.close();
                    }
                }
            }
        }
    }

    /// Opens the websocket (closing the one open); a failure comes back as a close.
    fn open(&mut self, ctx: &Context<Self>, url: &str, protocol: Option<&str>) {
        if let Some(l) = self.link.take() {
            l.close();
        }
        match Link::open(url, protocol, ctx.link().callback(Msg::Link)) {
            Ok(l) => self.link = Some(l),
            Err(e) => ctx.link().send_message(Msg::Act(Action::Closed(1006, e))),
        }
    }

    /// Feeds queued lines to the console for at most `budget_ms`. Each message is split into
    /// lines once, here; the lines go to the session without a copy.
    fn drain_inbox(&mut self, budget_ms: f64) {
        let clock = web_sys::window().and_then(|w| w.performance());
        let started = clock.as_ref().map_or(0.0, |p| p.now());
        while let Some(front) = self.inbox.front() {
            let rest = front.get(self.inbox_pos..).unwrap_or_default();
            let mut used = 0;
            let lines = rest
                .split_inclusive('\n')
                .take(LINES_PER_STEP)
                .inspect(|l| used += l.len())
                .map(|l| l.strip_suffix('\n').unwrap_or(l));
            self.console.receive(lines, now());
            if self.inbox_pos + used >= front.len() {
                self.inbox_bytes -= front.len();
                self.inbox.pop_front();
                self.inbox_pos = 0;
            } else {
                self.inbox_pos += used;
            }
            if clock
                .as_ref()
                .is_some_and(|p| p.now() - started > budget_ms)
            {
                break;
            }
        }
    }

    /// Draws the chart when it is shown and its data changed (at most every
    /// [`CHART_FRAME_MS`] unless `force`).
    fn draw_chart(&mut self, force: bool) {
        if self.ui.tab != ui::Tab::Charts {
            return;
        }
        let c = &self.console;
        let clock = js_sys::Date::now();
        let due = match &self.chart {
            None => true,
            Some((_, version, at)) => {
                *version != c.charts.version && (force || clock - at >= CHART_FRAME_MS)
            }
        };
        let Some(canvas) = self.ui.chart_ref.cast::<web_sys::HtmlCanvasElement>() else {
            return;
        };
        if !due {
            return;
        }
        match chart::draw(&canvas, &c.charts, &|k| c.series_label(k), self.ui.dark) {
            Ok(map) => self.chart = Some((map, c.charts.version, clock)),
            Err(e) => {
                self.chart = None;
                self.console
                    .apply(now(), Action::Notice(format!("chart: {e}")));
            }
        }
    }

    /// Asks for one render on the next animation frame; returns false (no render now).
    fn schedule(&mut self, ctx: &Context<Self>) -> bool {
        if self.frame.is_none() {
            let cb = ctx.link().callback(|_| Msg::Frame);
            self.frame = Some(gloo::render::request_animation_frame(move |_| cb.emit(())));
        }
        false
    }
}

/// Connected to the proxy's demo nodes (their templates then make sense)?
fn connected_to_demo(c: &Console, ui: &ui::Ui) -> bool {
    let demo = ui
        .targets
        .as_ref()
        .as_ref()
        .is_ok_and(|list| list.iter().any(|t| t.demo && t.name == c.settings.target));
    demo && c.settings.kind == state::ConnKind::Proxy
        && !matches!(c.link, state::Link::Disconnected(_))
}

/// The status bar's text and style.
fn status_text(c: &Console) -> (String, &'static str) {
    use state::Link as L;
    match &c.link {
        L::Disconnected(None) => ("disconnected".into(), "off"),
        L::Disconnected(Some(r)) => (format!("disconnected — {r}"), "err"),
        L::Connecting => ("connecting to proxy…".into(), "busy"),
        L::Session(State::Greeting) => ("connected, waiting for greeting…".into(), "busy"),
        L::Session(State::LoggingIn) => ("logging in…".into(), "busy"),
        L::Session(State::Ready) => ("connected (polling/commands)".into(), "ok"),
        L::Session(State::Streaming) => ("streaming (RCVLOOP)".into(), "ok"),
        L::Session(State::Closed) => ("closed".into(), "err"),
        L::Broker(BrokerState::Connecting) => ("logging in to the broker…".into(), "busy"),
        L::Broker(BrokerState::Subscribing) => ("subscribing…".into(), "busy"),
        L::Broker(BrokerState::Ready) => (
            format!("receiving from the broker ({})", c.settings.topic_filter()),
            "ok",
        ),
        L::Broker(BrokerState::Closed) => ("broker session closed".into(), "err"),
        L::Reconnecting {
            at,
            attempt,
            reason,
        } => {
            let secs = at.0.saturating_sub(now().0).div_ceil(1000);
            (
                format!("reconnecting in {secs} s (attempt {attempt}) — {reason}"),
                "err",
            )
        }
    }
}

fn main() {
    yew::Renderer::<App>::new().render();
}
