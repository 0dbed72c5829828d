//! UI-only state: forms, targets, the log's scroll position and window, selection, theme.
//! `update` computes everything the view shows (including the log window); the view only
//! reads it.

use std::{collections::HashMap, rc::Rc};

use vscp_api::{Report, Target};
use vscp_core::Guid;
use yew::NodeRef;

use crate::filter_form::{FieldError, ViewFilterFields};
use crate::forms::{Form, Template, add_template};
use crate::state::{ConnSettings, Console, Geometry, KnownNodes, LogWindow, ViewFilter};
use crate::storage::{self, Saved};

/// The page's two views.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Tab {
    /// The event log.
    #[default]
    Events,
    /// The node table, scan and register editor.
    Nodes,
    /// Live charts.
    Charts,
}

impl Tab {
    /// The tabs in their order on the page.
    pub const ALL: [Tab; 3] = [Tab::Events, Tab::Nodes, Tab::Charts];

    /// Its name on the page.
    pub fn label(self) -> &'static str {
        match self {
            Tab::Events => "Events",
            Tab::Nodes => "Nodes & registers",
            Tab::Charts => "Charts",
        }
    }

    /// The tab a key on the tab list moves to (←/→ wrap around, Home/End).
    pub fn by_key(self, key: &str) -> Option<Tab> {
        let n = Tab::ALL.len();
        let i = Tab::ALL.iter().position(|t| *t == self)?;
        let to = match key {
            "ArrowRight" => (i + 1) % n,
            "ArrowLeft" => (i + n - 1) % n,
            "Home" => 0,
            "End" => n - 1,
            _ => return None,
        };
        Tab::ALL.get(to).copied()
    }

    /// Its element id suffix.
    pub fn id(self) -> &'static str {
        match self {
            Tab::Events => "events",
            Tab::Nodes => "nodes",
            Tab::Charts => "charts",
        }
    }
}

/// The console page's own state, beside the reducer's [`Console`].
pub struct Ui {
    /// The view shown.
    pub tab: Tab,
    /// Move the keyboard focus to the shown tab after the next render.
    pub focus_tab: bool,
    /// Scroll the detail pane into view after the next render.
    pub reveal_detail: bool,
    /// The clock as of the last tick (ms since the epoch), for ages on screen.
    pub now_ms: u64,
    /// The chart's canvas.
    pub chart_ref: NodeRef,
    /// Values under the mouse on the chart.
    pub chart_hover: Option<String>,
    /// Forms.
    pub form: Form,
    /// Targets from the proxy, or why there are none.
    pub targets: Rc<Result<Vec<Target>, String>>,
    /// Who the page is logged in to the proxy as (shared with the panels as a context).
    pub account: Rc<crate::account::Account>,
    /// Log scroll offset.
    pub scroll_top: i32,
    /// Keep the newest row in view.
    pub follow: bool,
    /// Scroll to the end at the start of the next frame.
    pub scroll_to_end: bool,
    /// Scroll to this offset at the start of the next frame.
    pub scroll_to: Option<i32>,
    /// Selected row.
    pub selected: Option<u64>,
    /// Client filter, as typed.
    pub filter_fields: ViewFilterFields,
    /// Client filter, as understood.
    pub filter: ViewFilter,
    /// What the client filter's fields did not understand.
    pub filter_errors: Rc<Vec<FieldError>>,
    /// Saved client filters, by name.
    pub saved_filters: Rc<Vec<(String, ViewFilterFields)>>,
    /// The user's send templates.
    pub templates: Rc<Vec<Template>>,
    /// Dark theme?
    pub dark: bool,
    /// Last linktest result (`None` while none ran).
    pub linktest: Option<Rc<Result<Report, String>>>,
    /// A linktest is running.
    pub linktest_running: bool,
    /// The log's scrolled element.
    pub log_ref: NodeRef,
    /// Saved connections (a copy of local storage).
    pub saved: Rc<Vec<Saved>>,
    /// The connection being tried, saved once its login works.
    pub unsaved: Option<ConnSettings>,
    /// The known nodes as last kept in the browser.
    pub stored_names: Rc<KnownNodes>,
    /// The rows the log shows, computed by `update` for the next render.
    pub window: Rc<LogWindow>,
    /// Row and list heights for the viewport's width.
    pub geometry: Geometry,
}

impl Ui {
    /// Initial UI state: proxy = this page's origin, the last saved connection, saved theme.
    pub fn load() -> Ui {
        let origin = web_sys::window()
            .and_then(|w| w.location().origin().ok())
            .unwrap_or_default();
        let saved = storage::saved_connections();
        let mut form = Form {
            settings: ConnSettings {
                proxy: origin.clone(),
                ..ConnSettings::default()
            },
            ..Form::default()
        };
        if let Some(s) = saved.first() {
            form.settings = ConnSettings {
                proxy: origin,
                ..s.settings()
            };
            form.keep_password = s.password.is_some();
        }
        let ui = Ui {
            tab: Tab::default(),
            focus_tab: false,
            reveal_detail: false,
            now_ms: 0,
            chart_ref: NodeRef::default(),
            chart_hover: None,
            form,
            targets: Rc::new(Err("loading targets…".into())),
            account: Rc::default(),
            scroll_top: 0,
            follow: true,
            scroll_to_end: false,
            scroll_to: None,
            selected: None,
            filter_fields: ViewFilterFields::default(),
            filter: ViewFilter::default(),
            filter_errors: Rc::default(),
            saved_filters: Rc::new(storage::load(storage::FILTERS_KEY)),
            templates: Rc::new(storage::load(storage::TEMPLATES_KEY)),
            dark: storage::dark_theme(),
            linktest: None,
            linktest_running: false,
            log_ref: NodeRef::default(),
            saved: Rc::new(saved),
            unsaved: None,
            stored_names: Rc::default(),
            window: Rc::default(),
            geometry: Geometry::for_width(viewport_width()),
        };
        ui.apply_theme();
        ui
    }

    /// Saves the connection (most recent first).
    pub fn remember(&mut self, s: &ConnSettings) {
        self.saved = Rc::new(storage::remember(s, self.form.keep_password));
    }

    /// Takes the targets list; picks the first when none is chosen.
    pub fn set_targets(&mut self, t: Result<Vec<Target>, String>) {
        let links =
            |list: &Vec<Target>| list.iter().filter(|x| !x.mqtt).cloned().collect::<Vec<_>>();
        if let Ok(list) = &t
            && !links(list)
                .iter()
                .any(|x| x.name == self.form.settings.target)
            && let Some(first) = links(list).first()
        {
            self.form.settings.target = first.name.clone();
        }
        self.targets = Rc::new(t);
    }

    /// Recomputes the log window for the next render.
    pub fn refresh_window(&mut self, c: &Console) {
        let top = if self.follow {
            i32::MAX
        } else {
            self.scroll_top
        };
        let window = c.log.window(&self.filter, top, self.geometry);
        if *self.window != window {
            self.window = Rc::new(window);
        }
    }

    /// Is this scroll offset at the end of the list?
    pub fn at_end(&self, top: i32) -> bool {
        let g = self.geometry;
        top + g.height >= self.window.shown as i32 * g.row - g.row
    }

    /// Takes the client filter as typed (names are looked up among `known` nodes).
    pub fn set_filter(&mut self, fields: ViewFilterFields, known: &HashMap<Guid, String>) {
        let (filter, errors) = fields.read(known);
        self.filter = filter;
        self.filter_errors = Rc::new(errors);
        self.filter_fields = fields;
    }

    /// Saves the client filter under `name` (replacing one of that name), or forgets the
    /// filter of that name when `keep` is false.
    pub fn save_filter(&mut self, name: &str, keep: bool) {
        let mut all = (*self.saved_filters).clone();
        all.retain(|(n, _)| n != name);
        if keep && !name.trim().is_empty() {
            all.push((name.trim().to_string(), self.filter_fields.clone()));
            all.sort_by(|a, b| a.0.cmp(&b.0));
        }
        storage::store(storage::FILTERS_KEY, &all);
        self.saved_filters = Rc::new(all);
    }

    /// Saves the send form as a template named `name`; why not, if it cannot be.
    pub fn save_template(&mut self, name: &str) -> Result<(), String> {
        let mut all = (*self.templates).clone();
        let template = Template {
            name: name.to_string(),
            fields: self.form.send.clone(),
        };
        add_template(&mut all, template).map_err(|e| format!("template not saved: {e}"))?;
        self.set_templates(all);
        Ok(())
    }

    /// Keeps `list` as the templates (in the browser too).
    pub fn set_templates(&mut self, list: Vec<Template>) {
        storage::store(storage::TEMPLATES_KEY, &list);
        self.templates = Rc::new(list);
    }

    /// Takes the viewport's new width; true when the rows change shape.
    pub fn resized(&mut self) -> bool {
        let g = Geometry::for_width(viewport_width());
        if g == self.geometry {
            return false;
        }
        // keep the same row at the top
        self.scroll_top = self.scroll_top / self.geometry.row * g.row;
        self.scroll_to = (!self.follow).then_some(self.scroll_top);
        self.scroll_to_end = self.follow;
        self.geometry = g;
        true
    }

    /// Switches light/dark and remembers it.
    pub fn toggle_theme(&mut self) {
        self.dark = !self.dark;
        storage::set_dark_theme(self.dark);
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

    /// Scrolls the log when asked to. Called right after a render, once the rows are in the
    /// page (the list has its new height).
    pub fn scroll_if_asked(&mut self) {
        // the height is known: no layout read needed (the browser clamps the value)
        let to_end = std::mem::take(&mut self.scroll_to_end)
            .then(|| self.window.shown as i32 * self.geometry.row);
        if let Some(top) = self.scroll_to.take().or(to_end)
            && let Some(el) = self.log_ref.cast::<web_sys::Element>()
        {
            el.set_scroll_top(top);
            // where it landed (the browser clamps): a later scroll up is told from this
            self.scroll_top = el.scroll_top();
        }
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
        let Geometry { row, height } = self.geometry;
        let from = self
            .selected
            .and_then(|s| shown.iter().position(|x| *x == s))
            .map_or((self.scroll_top / row) as i64 - step.signum(), |i| i as i64);
        let at = from.saturating_add(step).clamp(0, last as i64) as usize;
        self.selected = shown.get(at).copied();
        self.follow = step == i64::MAX;
        let y = at as i32 * row;
        let top = if y < self.scroll_top {
            y
        } else if y + row > self.scroll_top + height {
            y + row - height
        } else {
            self.scroll_top
        };
        self.scroll_top = top;
        self.scroll_to = Some(top);
    }
}

/// The page's width in CSS px.
fn viewport_width() -> f64 {
    web_sys::window()
        .and_then(|w| w.inner_width().ok())
        .and_then(|v| v.as_f64())
        .unwrap_or(1_280.0)
}
