//! The forms' contents and their edits: pure, so `cargo test` covers them.

use serde::{Deserialize, Serialize};
use vscp_core::{Event, Guid, Interface, names};

use crate::filter_form::ServerFilterFields;
use crate::state::{ConnKind, ConnSettings};
use crate::storage::Saved;

/// Everything the user is typing.
#[derive(Clone, Debug, Default)]
pub struct Form {
    /// Connection settings being edited.
    pub settings: ConnSettings,
    /// Store the password with the saved connection?
    pub keep_password: bool,
    /// The send form.
    pub send: SendFields,
    /// The command console's input line and history.
    pub command: CommandLine,
    /// The server filter fields.
    pub server_filter: ServerFilterFields,
    /// The scan and register editor fields.
    pub nodes: NodeFields,
}

/// The scan form and the register grid's settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeFields {
    /// Interface GUID to scan through (empty: the first Level I interface the server lists).
    pub interface: String,
    /// First nickname.
    pub from: String,
    /// Last nickname.
    pub to: String,
    /// Register page to read.
    pub page: String,
    /// Show register values in hex.
    pub hex: bool,
}

impl Default for NodeFields {
    fn default() -> Self {
        NodeFields {
            interface: String::new(),
            from: "1".into(),
            to: "16".into(),
            page: "0".into(),
            hex: true,
        }
    }
}

impl NodeFields {
    /// The interface the scan goes through: the one typed, else the server's first Level I
    /// driver (type 2), else its first bus or driver (types 1–3), never a client connection.
    pub fn interface(&self, listed: &[Interface]) -> Result<Guid, String> {
        let typed = self.interface.trim();
        if !typed.is_empty() {
            return typed
                .parse::<Guid>()
                .map(|g| g.with_nickname(0))
                .map_err(|e| format!("interface GUID: {e}"));
        }
        listed
            .iter()
            .find(|i| i.kind == 2)
            .or(listed.iter().find(|i| (1..=3).contains(&i.kind)))
            .map(|i| i.guid)
            .ok_or_else(|| {
                if listed.is_empty() {
                    "the server lists no interface: type its GUID".into()
                } else {
                    "the server lists only client connections (tcp/ip, web, websocket), no bus \
                     or driver interface: type the GUID of the interface the nodes are behind"
                        .into()
                }
            })
    }

    /// The nickname range to scan.
    pub fn range(&self) -> Result<(u8, u8), String> {
        let n = |t: &str| {
            t.trim()
                .parse::<u8>()
                .map_err(|_| format!("nickname {t:?}: 0–255"))
        };
        let (from, to) = (n(&self.from)?, n(&self.to)?);
        if from > to {
            return Err(format!(
                "nicknames {from}–{to}: the first is above the last"
            ));
        }
        Ok((from, to))
    }

    /// The page to read.
    pub fn page(&self) -> Result<u16, String> {
        self.page
            .trim()
            .parse()
            .map_err(|_| format!("page {:?}: 0–65535", self.page))
    }
}

/// The send form: class and type by name or number, priority, GUID, data bytes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SendFields {
    /// Class text (name or number).
    pub class: String,
    /// Type text.
    pub kind: String,
    /// Priority 0–7.
    pub priority: u8,
    /// GUID (`-` = interface).
    pub guid: String,
    /// Data bytes.
    pub data: String,
    /// Repeat every this many ms (empty: send once).
    pub every_ms: String,
    /// How many times in all when repeating.
    pub times: String,
}

impl Default for SendFields {
    fn default() -> Self {
        SendFields {
            class: "CLASS1.CONTROL".into(),
            kind: "TURNON".into(),
            priority: 3,
            guid: "-".into(),
            data: "0,1,3".into(),
            every_ms: String::new(),
            times: "10".into(),
        }
    }
}

/// A send form saved by name (kept in the browser, exported as JSON).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Template {
    /// Its name.
    pub name: String,
    /// The form.
    pub fields: SendFields,
}

/// Adds `template` (replacing one of the same name), sorted by name; an empty name is refused.
pub fn add_template(list: &mut Vec<Template>, template: Template) -> Result<(), String> {
    let name = template.name.trim();
    if name.is_empty() {
        return Err("a template needs a name".into());
    }
    template.fields.event()?;
    let template = Template {
        name: name.to_string(),
        ..template
    };
    list.retain(|t| t.name != template.name);
    list.push(template);
    list.sort_by_key(|t| t.name.to_lowercase());
    Ok(())
}

/// Reads exported templates; returns them and how many were not usable.
pub fn templates_from_json(text: &str) -> Result<(Vec<Template>, usize), String> {
    let items: Vec<serde_json::Value> = serde_json::from_str(text)
        .map_err(|e| format!("not a templates file ([{{\"name\":…,\"fields\":…}}]): {e}"))?;
    let mut list = Vec::new();
    let mut bad = 0;
    for item in items {
        match serde_json::from_value::<Template>(item) {
            Ok(t) if add_template(&mut list, t.clone()).is_ok() => {}
            _ => bad += 1,
        }
    }
    Ok((list, bad))
}

/// Shortest repeat period, ms.
pub const MIN_PERIOD_MS: u64 = 100;
/// Most sends of one repeat.
pub const MAX_TIMES: u32 = 100_000;

impl SendFields {
    /// The event the form describes, or what is wrong with it.
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

    /// `Some((every_ms, times))` when the form asks to repeat; what is wrong otherwise.
    pub fn repeat(&self) -> Result<Option<(u64, u32)>, String> {
        if self.every_ms.trim().is_empty() {
            return Ok(None);
        }
        let every: u64 = self
            .every_ms
            .trim()
            .parse()
            .ok()
            .filter(|v| *v >= MIN_PERIOD_MS)
            .ok_or_else(|| {
                format!("repeat every: a whole number of ms, at least {MIN_PERIOD_MS}")
            })?;
        let times: u32 = self
            .times
            .trim()
            .parse()
            .ok()
            .filter(|v| (1..=MAX_TIMES).contains(v))
            .ok_or_else(|| format!("times: 1–{MAX_TIMES}"))?;
        Ok(Some((every, times)))
    }

    /// The form filled from an event (a template or a sent one).
    #[must_use]
    pub fn from_event(ev: &Event) -> SendFields {
        SendFields {
            class: names::class_name(ev.class).unwrap_or_else(|| ev.class.to_string()),
            kind: names::type_name(ev.class, ev.kind)
                .map_or_else(|| ev.kind.to_string(), str::to_string),
            priority: ev.priority(),
            every_ms: String::new(),
            times: "10".into(),
            guid: if ev.guid.is_zero() {
                "-".into()
            } else {
                ev.guid.to_string()
            },
            data: ev
                .data
                .iter()
                .map(u8::to_string)
                .collect::<Vec<_>>()
                .join(","),
        }
    }
}

/// The command console's input, with ↑/↓ history.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CommandLine {
    /// What is typed.
    pub text: String,
    history: Vec<String>,
    pos: Option<usize>,
}

/// One form change.
#[derive(Clone, Debug, PartialEq)]
pub enum FormEdit {
    /// Proxy URL.
    Proxy(String),
    /// Target.
    Target(String),
    /// User.
    User(String),
    /// Password.
    Password(String),
    /// User and password at once (the demo login).
    Login(String, String),
    /// Token.
    Token(String),
    /// Link server or broker.
    Kind(ConnKind),
    /// Broker websocket URL.
    Broker(String),
    /// Broker topic filter.
    Topic(String),
    /// Keep password.
    KeepPassword(bool),
    /// The send form.
    Send(SendFields),
    /// Console input.
    Command(String),
    /// ↑ in the console.
    HistoryUp,
    /// ↓ in the console.
    HistoryDown,
    /// Remember a sent console line.
    Sent(String),
    /// Server filter fields.
    ServerFilter(ServerFilterFields),
    /// Load a saved connection.
    Load(Saved),
    /// The scan form and register grid settings.
    Nodes(NodeFields),
}

impl Form {
    /// Applies an edit; true when the proxy's targets should be fetched again (the proxy or
    /// the token changed).
    pub fn edit(&mut self, e: FormEdit) -> bool {
        match e {
            FormEdit::Proxy(v) => {
                self.settings.proxy = v;
                return true;
            }
            FormEdit::Token(v) => {
                self.settings.token = v;
                return true;
            }
            FormEdit::Target(v) => self.settings.target = v,
            FormEdit::Kind(v) => self.settings.kind = v,
            FormEdit::Broker(v) => self.settings.broker = v,
            FormEdit::Topic(v) => self.settings.topic = v,
            FormEdit::User(v) => self.settings.user = v,
            FormEdit::Password(v) => self.settings.password = v,
            FormEdit::Login(user, password) => {
                self.settings.user = user;
                self.settings.password = password;
            }
            FormEdit::KeepPassword(v) => self.keep_password = v,
            FormEdit::Send(v) => self.send = v,
            FormEdit::Nodes(v) => self.nodes = v,
            FormEdit::Command(v) => {
                self.command.text = v;
                self.command.pos = None;
            }
            FormEdit::HistoryUp | FormEdit::HistoryDown => {
                let c = &mut self.command;
                let up = matches!(e, FormEdit::HistoryUp);
                let n = c.history.len();
                c.pos = match (c.pos, up) {
                    (None, true) if n > 0 => Some(n - 1),
                    (Some(p), true) => Some(p.saturating_sub(1)),
                    (Some(p), false) if p + 1 < n => Some(p + 1),
                    _ => None,
                };
                c.text = c
                    .pos
                    .and_then(|p| c.history.get(p).cloned())
                    .unwrap_or_default();
            }
            FormEdit::Sent(line) => {
                let c = &mut self.command;
                if c.history.last() != Some(&line) {
                    c.history.push(line);
                }
                c.text.clear();
                c.pos = None;
            }
            FormEdit::ServerFilter(v) => self.server_filter = v,
            FormEdit::Load(s) => {
                self.keep_password = s.password.is_some();
                self.settings = s.settings();
                return true;
            }
        }
        false
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scan_fields_pick_the_level1_interface_and_check_ranges() {
        let listed = vec![
            Interface {
                id: 0,
                kind: 1,
                guid: Guid([1; 16]),
                name: "server".into(),
            },
            Interface {
                id: 1,
                kind: 2,
                guid: Guid([2; 16]),
                name: "can".into(),
            },
        ];
        let mut f = NodeFields::default();
        assert_eq!(f.interface(&listed), Ok(Guid([2; 16])));
        assert!(f.interface(&[]).is_err());
        f.interface = "FF:FF:FF:FF:FF:FF:FF:F5:00:01:00:00:00:00:00:07".into();
        assert_eq!(f.interface(&[]).map(|g| g.nickname()), Ok(0));
        assert_eq!(f.range(), Ok((1, 16)));
        f.from = "20".into();
        assert!(f.range().unwrap_err().contains("above"));
        f.to = "256".into();
        assert!(f.range().is_err());
        assert!(
            NodeFields {
                page: "x".into(),
                ..NodeFields::default()
            }
            .page()
            .is_err()
        );
    }

    #[test]
    fn data_bytes_as_typed() {
        assert_eq!(parse_data("1, 0x1F 0b11"), Ok(vec![1, 31, 3]));
        assert_eq!(parse_data("  "), Ok(vec![]));
        assert_eq!(parse_data("1,,2"), Ok(vec![1, 2]));
        assert!(parse_data("256").is_err());
        assert!(parse_data("x").is_err());
        assert!(parse_data(&"1 ".repeat(513)).is_err());
    }

    #[test]
    fn send_form_round_trips_an_event_and_history_walks() {
        let ev: Event = "96,30,5,,,,-,0,1,3".parse().unwrap();
        let fields = SendFields::from_event(&ev);
        assert_eq!(fields.class, "CLASS1.CONTROL");
        assert_eq!(fields.event().unwrap().to_string(), ev.to_string());
        let mut f = Form::default();
        for l in ["NOOP", "VERS"] {
            f.edit(FormEdit::Sent(l.into()));
        }
        f.edit(FormEdit::HistoryUp);
        assert_eq!(f.command.text, "VERS");
        f.edit(FormEdit::HistoryUp);
        assert_eq!(f.command.text, "NOOP");
        f.edit(FormEdit::HistoryDown);
        assert_eq!(f.command.text, "VERS");
        f.edit(FormEdit::HistoryDown);
        assert_eq!(f.command.text, "");
    }

    #[test]
    fn templates_are_named_checked_and_read_back() {
        let mut list = Vec::new();
        let relay = SendFields::default();
        assert!(
            add_template(
                &mut list,
                Template {
                    name: " ".into(),
                    fields: relay.clone()
                }
            )
            .is_err()
        );
        let bad = SendFields {
            class: "nonsense".into(),
            ..relay.clone()
        };
        assert!(
            add_template(
                &mut list,
                Template {
                    name: "x".into(),
                    fields: bad.clone()
                }
            )
            .is_err()
        );
        add_template(
            &mut list,
            Template {
                name: "b".into(),
                fields: relay.clone(),
            },
        )
        .unwrap();
        add_template(
            &mut list,
            Template {
                name: " a ".into(),
                fields: relay.clone(),
            },
        )
        .unwrap();
        add_template(
            &mut list,
            Template {
                name: "b".into(),
                fields: relay.clone(),
            },
        )
        .unwrap();
        assert_eq!(
            list.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(),
            ["a", "b"]
        );
        let mut json: Vec<serde_json::Value> =
            serde_json::from_str(&serde_json::to_string(&list).unwrap()).unwrap();
        json.push(serde_json::json!({"name": "bad", "fields": {"class": "nonsense"}}));
        json.push(serde_json::json!(7));
        let (back, bad) = templates_from_json(&serde_json::Value::Array(json).to_string()).unwrap();
        assert_eq!((back, bad), (list, 2));
        assert!(templates_from_json("{").is_err());
    }
}
