//! How the app handles its messages: reducer actions, websocket traffic in frame-sized
//! slices, forms, downloads, the chart's drawing.

use super::*;
use vscp_api::CloseCode;

impl App {
    /// Handles one message; true when the page must render now.
    pub(super) fn handle(&mut self, ctx: &Context<Self>, msg: Msg) -> bool {
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
                        if code == CloseCode::LoginRequired.code() {
                            // the proxy login ran out: the account bar asks for it again
                            api::fetch_me(
                                &self.ui.form.settings,
                                ctx.link().callback(Msg::Account),
                            );
                        }
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
            Msg::Account(account) => {
                match &account {
                    Account::LoggedIn { .. } | Account::Open | Account::Unknown => {
                        api::fetch_targets(
                            &self.ui.form.settings,
                            ctx.link().callback(Msg::Targets),
                        )
                    }
                    Account::LoggedOut(_) => {
                        self.ui.set_targets(Err("log in to the proxy first".into()));
                        if !matches!(self.console.link, state::Link::Disconnected(_)) {
                            self.console.apply(now(), Action::Disconnect);
                            self.effects(ctx);
                        }
                    }
                }
                self.ui.account = Rc::new(account);
            }
            Msg::ProxyLogin(user, password) => {
                let cb = ctx.link().callback(Msg::Account);
                api::proxy_login(&self.ui.form.settings, user, password, cb);
                return false;
            }
            Msg::ProxyLogout => {
                api::proxy_logout(&self.ui.form.settings, ctx.link().callback(Msg::Account));
                return false;
            }
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
                    // the targets follow once the proxy says who the page is
                    api::fetch_me(&self.ui.form.settings, ctx.link().callback(Msg::Account));
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
            Msg::FetchMdf(url, who) => api::fetch_mdf(
                &self.ui.form.settings,
                &url,
                ctx.link().callback(move |r: Result<String, String>| {
                    Msg::Act(match (who, r) {
                        (crate::msg::MdfFor::Firmware, r) => {
                            Action::Firmware(state::FirmwareAction::Mdf(r))
                        }
                        (_, Ok(text)) => Action::Registers(RegisterAction::LoadMdf(text)),
                        (_, Err(e)) => Action::Notice(e),
                    })
                }),
            ),
        }
        true
    }

    /// Does what the reducer asked of the websocket. Failures come back as messages, so the
    /// reducer is never entered again from here.
    pub(super) fn effects(&mut self, ctx: &Context<Self>) {
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
    pub(super) fn open(&mut self, ctx: &Context<Self>, url: &str, protocol: Option<&str>) {
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
    pub(super) fn drain_inbox(&mut self, budget_ms: f64) {
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
    pub(super) fn draw_chart(&mut self, force: bool) {
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
    pub(super) fn schedule(&mut self, ctx: &Context<Self>) -> bool {
        if self.frame.is_none() {
            let cb = ctx.link().callback(|_| Msg::Frame);
            self.frame = Some(gloo::render::request_animation_frame(move |_| cb.emit(())));
        }
        false
    }
}
