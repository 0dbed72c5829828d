//! vscp-web: the vscp-link console. A Yew app that runs vscp-core's client session in the
//! browser and talks to vscp-proxy over a websocket.

mod link;
mod state;
mod views;

use gloo::{render::AnimationFrame, timers::callback::Interval};
use state::{Action, Console, ViewFilter};
use vscp_core::Millis;
use yew::prelude::*;

use crate::link::{Link, LinkEvent};

/// Messages of the app component.
pub enum Msg {
    /// A reducer action, stamped with the time on arrival.
    Act(Action),
    /// From the websocket.
    Link(LinkEvent),
    /// Render now (at most once per animation frame).
    Frame,
    /// Targets list from the proxy.
    Targets(Result<Vec<views::Target>, String>),
    /// Log scrolled to this offset (px).
    Scroll(i32),
    /// Row selected for the detail pane.
    Select(Option<u64>),
    /// Selection moved by the keyboard this many rows (`i64::MIN`/`MAX`: first/last).
    Step(i64),
    /// Client filter changed.
    Filter(ViewFilter),
    /// Follow the newest row?
    Follow(bool),
    /// Light/dark.
    Theme,
    /// Form field edits.
    Form(views::FormEdit),
    /// Export the shown rows.
    Export(&'static str),
    /// An imported file's text.
    Imported(String),
    /// Run linktest against the chosen target.
    Linktest,
    /// Its report.
    LinktestDone(Result<views::LinkReport, String>),
}

/// Lines handled per step while working through received messages.
const LINES_PER_STEP: usize = 256;
/// Time per animation frame spent on received lines before yielding to rendering, ms.
const FRAME_BUDGET_MS: f64 = 4.0;
/// Above this many queued bytes the budget is ignored (memory over smoothness).
const INBOX_LIMIT: usize = 8 << 20;

/// The console page.
pub struct App {
    console: Console,
    /// Received messages not yet handled, and the offset into the first.
    inbox: std::collections::VecDeque<String>,
    inbox_pos: usize,
    inbox_bytes: usize,
    link: Option<Link>,
    frame: Option<AnimationFrame>,
    _tick: Interval,
    pub(crate) ui: views::Ui,
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
        let ui = views::Ui::load();
        views::fetch_targets(&ui.form.settings.proxy, ctx.link().callback(Msg::Targets));
        App {
            console: Console::default(),
            inbox: Default::default(),
            inbox_pos: 0,
            inbox_bytes: 0,
            link: None,
            frame: None,
            _tick: tick,
            ui,
        }
    }

    fn update(&mut self, ctx: &Context<Self>, msg: Msg) -> bool {
        match msg {
            Msg::Act(a) => {
                let immediate = !matches!(a, Action::Tick | Action::Message(_));
                if let Action::Connect(s) = &a {
                    self.ui.remember(s);
                }
                self.console.apply(now(), a);
                self.effects(ctx);
                return immediate || self.schedule(ctx);
            }
            Msg::Link(LinkEvent::Text(t)) => {
                // handled in slices between frames, so a burst never freezes the page
                self.inbox_bytes += t.len();
                self.inbox.push_back(t);
                if self.inbox_bytes > INBOX_LIMIT {
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
                self.ui.scroll_if_asked();
                let before = (self.console.log.total, self.console.log.rows.len());
                self.drain_inbox(FRAME_BUDGET_MS);
                self.effects(ctx);
                if !self.inbox.is_empty() {
                    self.schedule(ctx);
                }
                let grew = before != (self.console.log.total, self.console.log.rows.len());
                if self.ui.follow && grew {
                    self.ui.scroll_to_end = true;
                }
                return true;
            }
            Msg::Targets(t) => self.ui.set_targets(t),
            Msg::Scroll(top) => {
                let follow = self.ui.at_end(top);
                // following and still at the end: this is our own scroll, nothing to re-render
                let changed = follow != self.ui.follow || !follow;
                self.ui.scroll_top = top;
                self.ui.follow = follow;
                return changed;
            }
            Msg::Select(seq) => self.ui.selected = seq,
            Msg::Step(step) => self.ui.step_selection(&self.console, step),
            Msg::Filter(f) => self.ui.filter = f,
            Msg::Follow(f) => {
                self.ui.follow = f;
                self.ui.scroll_to_end = f;
            }
            Msg::Theme => self.ui.toggle_theme(),
            Msg::Form(edit) => {
                if let Some(url) = self.ui.form.edit(edit) {
                    views::fetch_targets(&url, ctx.link().callback(Msg::Targets));
                }
            }
            Msg::Export(kind) => views::export(kind, &self.console, &self.ui.filter),
            Msg::Linktest => {
                self.ui.linktest_running = true;
                views::run_linktest(
                    &self.ui.form.settings,
                    ctx.link().callback(Msg::LinktestDone),
                );
            }
            Msg::LinktestDone(r) => {
                self.ui.linktest_running = false;
                self.ui.linktest = Some(r);
            }
            Msg::Imported(text) => match state::from_json(&text) {
                Ok((rows, bad)) => {
                    self.console.apply(now(), Action::Import(rows));
                    if bad > 0 {
                        self.console.notices.push_back(format!(
                            "import: {bad} entries were not events and were skipped"
                        ));
                    }
                }
                Err(e) => self.console.notices.push_back(e),
            },
        }
        true
    }

    fn view(&self, ctx: &Context<Self>) -> Html {
        views::page(self, ctx)
    }

    fn rendered(&mut self, ctx: &Context<Self>, _first: bool) {
        if self.ui.scroll_pending() {
            self.schedule(ctx); // the scroll happens at the start of the next frame
        }
    }
}

impl App {
    /// Opens, closes and feeds the websocket as the reducer asked.
    fn effects(&mut self, ctx: &Context<Self>) {
        if std::mem::take(&mut self.console.close) {
            if let Some(text) = self.console.take_outbox()
                && let Some(l) = &self.link
            {
                let _ = l.send(&text);
            }
            if let Some(l) = self.link.take() {
                l.close();
            }
        }
        if let Some(url) = self.console.open.take() {
            if let Some(l) = self.link.take() {
                l.close();
            }
            match Link::open(&url, ctx.link().callback(Msg::Link)) {
                Ok(l) => self.link = Some(l),
                Err(e) => self.console.apply(now(), Action::Closed(1006, e)),
            }
        }
        if let Some(l) = &self.link
            && let Some(text) = self.console.take_outbox()
            && let Err(e) = l.send(&text)
        {
            self.console.notices.push_back(e);
        }
    }

    /// Feeds queued lines to the console for at most `budget_ms`.
    fn drain_inbox(&mut self, budget_ms: f64) {
        let clock = web_sys::window().and_then(|w| w.performance());
        let started = clock.as_ref().map_or(0.0, |p| p.now());
        while let Some(front) = self.inbox.front() {
            let rest = front.get(self.inbox_pos..).unwrap_or_default();
            let end = rest
                .match_indices('\n')
                .nth(LINES_PER_STEP - 1)
                .map_or(rest.len(), |(i, _)| i);
            let chunk = rest.get(..end).unwrap_or_default().to_string();
            if end >= rest.len() {
                self.inbox_bytes -= front.len();
                self.inbox.pop_front();
                self.inbox_pos = 0;
            } else {
                self.inbox_pos += end + 1;
            }
            self.console.apply(now(), Action::Message(chunk));
            if clock
                .as_ref()
                .is_some_and(|p| p.now() - started > budget_ms)
            {
                break;
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

    pub(crate) fn console(&self) -> &Console {
        &self.console
    }
}

fn main() {
    yew::Renderer::<App>::new().render();
}
