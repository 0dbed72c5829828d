//! The console page: its messages, the app component (what it shows and when it renders).

mod handle;

use std::{collections::VecDeque, rc::Rc};

use gloo::{render::AnimationFrame, timers::callback::Interval};
use vscp_core::{Millis, State};
use yew::prelude::*;

use crate::account::Account;
use crate::msg::Msg;

use crate::{api, browser, chart, components, format, forms, link, state, storage, ui};

use components::{
    account::AccountBar,
    charts::ChartPanel,
    command_console::CommandConsole,
    connection::Connection,
    detail::Detail,
    event_log::{Counters, EventLog},
    filters::Filters,
    firmware::FirmwarePanel,
    known_nodes::KnownNodesPanel,
    linktest_panel::LinktestPanel,
    nodes::Nodes,
    notices::Notices,
    registers::Registers,
    send_form::SendForm,
    server_panel::ServerPanel,
};
use link::{Link, LinkEvent};
use state::{Action, BrokerState, Console, Effect, RegisterAction};

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
        // the targets once the proxy said whether the page must log in first
        api::fetch_me(&ui.form.settings, ctx.link().callback(Msg::Account));
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
            <ContextProvider<Rc<Account>> context={ui.account.clone()}>
            <div class="app">
                <header>
                    <h1>{"vscp-link"}</h1>
                    <span id="status" class={classes!("status", kind)} role="status">{status}</span>
                    <AccountBar on={on.clone()} />
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
                        <Nodes rows={c.node_rows.clone()} scan={c.scan.clone()} server={c.server.clone()} client_events={c.nodes.client_events()}
                            fields={ui.form.nodes.clone()} open={c.registers.as_ref().map(|r| r.node)}
                            now_ms={ui.now_ms} names={c.node_names.clone()} identify={c.identify_new} on={on.clone()} />
                        if let Some(wizard) = &c.firmware {
                            <FirmwarePanel wizard={wizard.clone()} name={c.node_names.get(&wizard.node).cloned()} on={on.clone()} />
                        }
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
                            level1_filters={c.level1_filters()} paused={c.paused} follow={ui.follow} mode={c.mode} on={on.clone()} />
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
            </ContextProvider<Rc<Account>>>
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
