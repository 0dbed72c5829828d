//! The register editor of one node: a 16 × 16 grid of the shown page (hex or decimal), edits
//! marked until written, a preview of what will change, each write checked against the node's
//! answer, undo, save/load as JSON, the standard registers in words, and the round-trip figures.

use std::rc::Rc;

use vscp_core::{
    mdf::{Access, DmRow, Mdf, VarType, VarValue},
    registers::StandardRegisters,
};
use yew::prelude::*;

use super::{checked, edit_copy, read_file};
use crate::{
    Msg,
    forms::{FormEdit, NodeFields},
    state::{Action, DmField, RegisterAction, RegisterEditor},
};

/// Props of [`Registers`].
#[derive(Properties, PartialEq)]
pub struct RegistersProps {
    /// The editor.
    pub editor: Rc<RegisterEditor>,
    /// The node's name, if known.
    pub name: Option<String>,
    /// Page and hex/decimal settings.
    pub fields: NodeFields,
    /// Where user actions go.
    pub on: Callback<Msg>,
}

/// The register editor panel.
#[function_component(Registers)]
pub fn registers(p: &RegistersProps) -> Html {
    let (e, f, on) = (&p.editor, &p.fields, &p.on);
    let wrap = |f: NodeFields| Msg::Form(FormEdit::Nodes(f));
    let read_page = {
        let fields = f.clone();
        on.reform(move |_| match fields.page() {
            Ok(page) => Msg::Act(Action::Registers(RegisterAction::ReadPage(page))),
            Err(e) => Msg::Act(Action::Notice(e)),
        })
    };
    let hex_toggle = {
        let fields = f.clone();
        on.reform(move |ev: web_sys::Event| {
            let mut next = fields.clone();
            next.hex = checked(&ev);
            Msg::Form(FormEdit::Nodes(next))
        })
    };
    let save = {
        let editor = e.clone();
        Callback::from(move |_| {
            let name = format!("registers-{}.json", editor.node.compact().replace(':', ""));
            crate::browser::download(editor.to_json(), &name, "application/json");
        })
    };
    let busy = e.pending() > 0;
    let st = e.stats();
    let figures = format!(
        "{} requests, {} retries, {} failed · round trip {} (smoothed {}) · time-out {} ms{}",
        st.sent,
        st.retries,
        st.failed,
        st.last_rtt_ms.map_or("—".into(), |r| format!("{r} ms")),
        st.srtt_ms.map_or("—".into(), |r| format!("{r} ms")),
        st.timeout_ms,
        match e.batch {
            Some((_, Some(took))) => format!(" · last batch took {took} ms"),
            Some((_, None)) => format!(" · {} requests to go", e.pending()),
            None => String::new(),
        }
    );
    let title = if e.level2 {
        format!(
            "Registers of {} (Level II node {})",
            p.name.as_deref().unwrap_or("node"),
            e.node.compact()
        )
    } else {
        format!(
            "Registers of {} (node {}, {})",
            p.name.as_deref().unwrap_or("node"),
            e.node.nickname(),
            e.node.compact()
        )
    };
    let account = super::account::use_account();
    let (read_denied, write_denied) = (
        account.denies(vscp_core::policy::OPERATOR),
        account.denies(vscp_core::policy::ENGINEER),
    );
    html! {
        <section class="panel registers" id="registers">
            <h2>{ title }<button class="chip" onclick={on.reform(|_| Msg::Act(Action::CloseRegisters))}>{"close"}</button></h2>
            <div class="toolbar">
                <label>{"page"}<input id="reg-page" class="num" value={f.page.clone()} oninput={edit_copy(on, f, |f, v| f.page = v, wrap)} /></label>
                <button id="reg-read" disabled={read_denied.is_some()} title={read_denied.clone()} onclick={read_page}>{"read page"}</button>
                <label><input id="reg-hex" type="checkbox" checked={f.hex} onchange={hex_toggle} />{"hex"}</label>
                <button id="reg-write" disabled={e.edits.is_empty() || write_denied.is_some()} title={write_denied.clone()} onclick={on.reform(|_| Msg::Act(Action::Registers(RegisterAction::WriteRegisters)))}>{ format!("write {} changes", e.edits.len()) }</button>
                if !e.invalid.is_empty() {
                    <span id="reg-invalid" class="err" role="alert">{ format!("{} cell(s) hold no byte value (marked red): not written", e.invalid.len()) }</span>
                }
                <button id="reg-discard" disabled={e.edits.is_empty() && e.invalid.is_empty()} onclick={on.reform(|_| Msg::Act(Action::Registers(RegisterAction::DiscardEdits)))}>{"discard"}</button>
                <button id="reg-undo" disabled={e.writes.is_empty() || write_denied.is_some()} title={write_denied.clone()} onclick={on.reform(|_| Msg::Act(Action::Registers(RegisterAction::UndoWrite)))}>{"undo last write"}</button>
                if busy {
                    <button id="reg-cancel" onclick={on.reform(|_| Msg::Act(Action::Registers(RegisterAction::CancelRegisters)))}>{"cancel"}</button>
                }
                <button id="reg-save" onclick={save}>{"save JSON"}</button>
                <label class="file">{"load JSON"}<input id="reg-load" type="file" accept=".json,application/json" onchange={read_file(on, |t| Msg::Act(Action::Registers(RegisterAction::LoadRegisters(t))), "register file")} /></label>
            </div>
            <div class="toolbar">
                { for e.standard().filter(|s| !s.mdf_url.is_empty()).map(|s| {
                    let url = s.mdf_url.clone();
                    html! { <button id="mdf-fetch" title={url.clone()} onclick={on.reform(move |_| Msg::FetchMdf(url.clone(), crate::msg::MdfFor::Registers))}>{"load MDF from the node's URL"}</button> }
                }) }
                <label class="file">{"MDF file"}<input id="mdf-load" type="file" accept=".xml,.json,.mdf" onchange={read_file(on, |t| Msg::Act(Action::Registers(RegisterAction::LoadMdf(t))), "MDF file")} /></label>
                { for e.mdf.as_ref().map(|m| html! { <span id="mdf-name" class="hint">{ format!("MDF: {} {} — {}", m.name, m.version, m.description.clone().unwrap_or_default()) }</span> }) }
            </div>
            if let Some(why) = &write_denied { <p class="hint locked" id="reg-locked">{ format!("writing registers: {why}") }</p> }
            if e.level2 {
                <p class="hint" id="reg-level2">{ format!("CLASS2.PROTOCOL, 32-bit addresses: register r < 0x80 of page p is address p × 128 + r (here 0x{:08X}…), 0x80–0xFF are the standard registers at 0xFFFFFF80", vscp_core::register_session::level2_address(e.page, 0)) }</p>
            }
            <p id="reg-figures" class="hint">{ figures }</p>
            { diff(e, f.hex) }
            { grid(e, f.hex, on) }
            { writes(e, f.hex) }
            { for e.mdf.as_ref().map(|m| html! { <>
                { remote_vars(e, m, on) }
                { mdf_registers(e, m, f.hex, on) }
                { dmatrix(e, m, on) }
            </> }) }
            { for e.standard().map(|s| standard(&s)) }
        </section>
    }
}

fn show(v: u8, hex: bool) -> String {
    if hex {
        format!("{v:02X}")
    } else {
        v.to_string()
    }
}

/// What "write" will change.
fn diff(e: &RegisterEditor, hex: bool) -> Html {
    if e.edits.is_empty() {
        return html! {};
    }
    html! {
        <ul id="reg-diff" class="diff">
            { for e.edits.iter().map(|((page, reg), v)| {
                let before = e.values.get(&(*page, *reg)).map_or("??".into(), |b| show(*b, hex));
                html! { <li>{ format!("page {page} reg 0x{reg:02X}: {before} → {}", show(*v, hex)) }</li> }
            }) }
        </ul>
    }
}

fn grid(e: &RegisterEditor, hex: bool, on: &Callback<Msg>) -> Html {
    let page = e.page;
    let last_write = |reg: u8| e.writes.iter().rev().find(|w| w.addr == (page, reg));
    html! {
        <table class="reg-grid" id="reg-grid">
            <thead><tr><th></th>{ for (0..16).map(|c| html! { <th>{ format!("{c:X}") }</th> }) }</tr></thead>
            <tbody>
            { for (0..16u8).map(|row| html! {
                <tr>
                    <th>{ format!("{:X}0", row) }</th>
                    { for (0..16u8).map(|col| {
                        let reg = row * 16 + col;
                        let addr = (page, reg);
                        let edit = e.edits.get(&addr);
                        let value = edit.or(e.values.get(&addr));
                        let invalid = e.invalid.get(&addr);
                        let described = e.mdf.as_ref().and_then(|m| m.register(page, u32::from(reg))).map(|r| r.name.as_str());
                        let class = classes!(
                            described.is_some().then_some("named"),
                            edit.is_some().then_some("edited"),
                            e.failed.contains_key(&addr).then_some("failed"),
                            invalid.is_some().then_some("invalid"),
                            last_write(reg).map(|w| if w.ok() { "written" } else { "refused" }),
                        );
                        let title = format!("0x{reg:02X} ({reg}){}{}", described.or(vscp_core::registers::standard_name(reg)).map(|n| format!(" — {n}")).unwrap_or_default(),
                            invalid.map(|(_, why)| format!(" — not written: {why}")).unwrap_or_default());
                        let typing = on.reform(move |ev: InputEvent| {
                            let text = ev.target_unchecked_into::<web_sys::HtmlInputElement>().value();
                            Msg::Act(Action::Registers(RegisterAction::TypeRegister { reg, text }))
                        });
                        let change = on.reform(move |ev: web_sys::Event| {
                            let text = ev.target_unchecked_into::<web_sys::HtmlInputElement>().value();
                            Msg::Act(Action::Registers(RegisterAction::EditRegister { reg, text, hex }))
                        });
                        html! {
                            <td class={class}>
                                <input id={format!("reg-{reg:02x}")} aria-label={title.clone()} {title}
                                    aria-invalid={invalid.is_some().then_some("true")}
                                    value={e.typed.get(&addr).cloned().or_else(|| invalid.map(|(text, _)| text.clone())).or_else(|| value.map(|v| show(*v, hex))).unwrap_or_default()}
                                    placeholder="--" oninput={typing} onchange={change} />
                            </td>
                        }
                    }) }
                </tr>
            }) }
            </tbody>
        </table>
    }
}

/// The newest answered writes, with the node's verdict.
fn writes(e: &RegisterEditor, hex: bool) -> Html {
    if e.writes.is_empty() {
        return html! {};
    }
    html! {
        <ul id="reg-writes" class="writes">
            { for e.writes.iter().rev().take(8).map(|w| {
                let (page, reg) = w.addr;
                let text = if w.ok() {
                    format!("✔ page {page} reg 0x{reg:02X} = {} (checked)", show(w.got, hex))
                } else {
                    format!("✘ page {page} reg 0x{reg:02X}: wrote {}, node has {} (read-only or out of range)", show(w.wanted, hex), show(w.got, hex))
                };
                html! { <li class={if w.ok() { "pass" } else { "fail" }}>{ text }</li> }
            }) }
        </ul>
    }
}

/// The standard registers in words.
fn standard(s: &StandardRegisters) -> Html {
    let rows = [
        ("GUID", s.guid.to_string()),
        ("MDF URL", s.mdf_url.clone()),
        (
            "firmware",
            format!("{}.{}.{}", s.firmware.0, s.firmware.1, s.firmware.2),
        ),
        (
            "VSCP version",
            format!("{}.{}", s.vscp_version.0, s.vscp_version.1),
        ),
        ("nickname", s.nickname.to_string()),
        ("page", s.page.to_string()),
        ("alarm", format!("0x{:02X}", s.alarm)),
        ("error counter", s.error_counter.to_string()),
        ("user id", crate::format::hex(&s.user_id)),
        (
            "manufacturer id",
            format!(
                "0x{:08X} / sub 0x{:08X}",
                s.manufacturer_id, s.manufacturer_sub_id
            ),
        ),
        ("boot loader", format!("0x{:02X}", s.bootloader)),
        (
            "device family / type",
            format!("0x{:08X} / 0x{:08X}", s.family, s.device_type),
        ),
        ("firmware device code", format!("0x{:04X}", s.firmware_code)),
    ];
    html! {
        <dl id="reg-standard" class="standard">
            { for rows.into_iter().map(|(k, v)| html! { <><dt>{k}</dt><dd>{v}</dd></> }) }
        </dl>
    }
}

/// The remote variables with typed editors: a checkbox for booleans, a list for named
/// values, a text field for numbers and text.
fn remote_vars(e: &RegisterEditor, m: &Mdf, on: &Callback<Msg>) -> Html {
    if m.remote_vars.is_empty() {
        return html! {};
    }
    html! {
        <table id="remote-vars" class="node-table">
            <caption>{"Remote variables"}</caption>
            <thead><tr><th>{"name"}</th><th>{"type"}</th><th>{"where"}</th><th>{"value"}</th><th>{"description"}</th></tr></thead>
            <tbody>
            { for m.remote_vars.iter().enumerate().map(|(i, v)| {
                let value = e.var_value(v);
                let id = format!("var-{}", v.name);
                let editor = match (&value, v.access) {
                    (None, _) => html! { <span class="hint">{"read its page first"}</span> },
                    (Some(val), Access::Read) => html! { <span id={id}>{ val.to_string() }</span> },
                    (Some(VarValue::Bool(b)), _) => html! {
                        <input {id} type="checkbox" checked={*b}
                            onchange={on.reform(move |ev: web_sys::Event| Msg::Act(Action::Registers(RegisterAction::EditVar(i, checked(&ev).to_string()))))} />
                    },
                    (Some(val), _) if !v.values.is_empty() => {
                        let now = val.to_string();
                        html! {
                            <select {id} key={now.clone()} onchange={on.reform(move |ev: web_sys::Event| Msg::Act(Action::Registers(RegisterAction::EditVar(i, super::select_value(&ev)))))}>
                                if !v.values.iter().any(|x| x.value.to_string() == now) {
                                    <option value={now.clone()} selected=true>{ format!("{now} (not in the list)") }</option>
                                }
                                { for v.values.iter().map(|x| html! {
                                    <option value={x.value.to_string()} selected={x.value.to_string() == now}>{ format!("{} ({})", x.name, x.value) }</option>
                                }) }
                            </select>
                        }
                    }
                    (Some(val), _) => html! {
                        <input {id} value={val.to_string()}
                            onchange={on.reform(move |ev: web_sys::Event| Msg::Act(Action::Registers(RegisterAction::EditVar(i, ev.target_unchecked_into::<web_sys::HtmlInputElement>().value()))))} />
                    },
                };
                let kind = match v.kind {
                    VarType::Bool => format!("bool (bit {})", v.bitpos),
                    VarType::Int { bytes, signed } => format!("{}int{}", if signed { "" } else { "u" }, bytes * 8),
                    VarType::Float => "float".into(),
                    VarType::Double => "double".into(),
                    VarType::String => format!("string[{}]", v.size),
                    VarType::Block => format!("bytes[{}]", v.size),
                };
                let range = match (v.min, v.max) {
                    (None, None) => String::new(),
                    (lo, hi) => format!(" [{}…{}]", lo.map_or("".into(), |x| x.to_string()), hi.map_or("".into(), |x| x.to_string())),
                };
                html! {
                    <tr>
                        <td>{ &v.name }</td>
                        <td>{ kind }{ range }</td>
                        <td>{ format!("{}:0x{:02X}", v.page, v.offset) }</td>
                        <td>{ editor }</td>
                        <td class="hint">{ v.description.clone().unwrap_or_default() }</td>
                    </tr>
                }
            }) }
            </tbody>
        </table>
    }
}

/// The registers the MDF describes on the shown page: names, values in words, bit fields.
fn mdf_registers(e: &RegisterEditor, m: &Mdf, hex: bool, on: &Callback<Msg>) -> Html {
    let page = e.page;
    html! {
        <table id="mdf-registers" class="node-table">
            <caption>{ format!("Registers of page {page} described by the MDF") }</caption>
            <thead><tr><th>{"reg"}</th><th>{"name"}</th><th>{"access"}</th><th>{"value"}</th><th>{"description"}</th></tr></thead>
            <tbody>
            { for m.registers.iter().filter(|r| r.page == page && r.offset < 0x100).map(|r| {
                let reg = r.offset as u8;
                let value = e.current((page, reg));
                let words = value.and_then(|v| r.values.iter().find(|x| x.value == i64::from(v))).map(|x| format!(" = {}", x.name));
                let shown = value.map_or("--".into(), |v| format!("{}{}", show(v, hex), words.unwrap_or_default()));
                let span = if r.span > 1 { format!("–0x{:02X}", u32::from(reg) + u32::from(r.span) - 1) } else { String::new() };
                let bits = r.bits.iter().enumerate().map(|(fi, b)| {
                    let v = value.map(|x| b.get(x));
                    let addr = (page, reg);
                    let change = on.reform(move |ev: web_sys::Event| {
                        let text = super::select_value(&ev);
                        match text.parse::<u8>() {
                            Ok(value) => Msg::Act(Action::Registers(RegisterAction::EditBits { addr, field: fi, value })),
                            Err(_) => Msg::Act(Action::Notice(format!("bit field value {text:?}"))),
                        }
                    });
                    let max = (1u16 << b.width) - 1;
                    html! {
                        <label class="check" title={b.description.clone().unwrap_or_default()}>{ format!("{} (bit {}{})", b.name, b.pos, if b.width > 1 { format!("–{}", b.pos + b.width - 1) } else { String::new() }) }
                            <select key={format!("{fi}-{v:?}")} onchange={change} disabled={value.is_none()}>
                                { for (0..=max).map(|x| {
                                    let name = b.values.iter().find(|i| i.value == i64::from(x)).map(|i| format!("{x} {}", i.name)).unwrap_or_else(|| x.to_string());
                                    html! { <option value={x.to_string()} selected={v == Some(x as u8)}>{ name }</option> }
                                }) }
                            </select>
                        </label>
                    }
                });
                html! {
                    <tr>
                        <td>{ format!("0x{reg:02X}{span}") }</td>
                        <td>{ &r.name }</td>
                        <td>{ match r.access { Access::Read => "r", Access::Write => "w", Access::ReadWrite => "rw" } }</td>
                        <td>{ shown }{ for bits }</td>
                        <td class="hint">{ r.description.clone().unwrap_or_default() }</td>
                    </tr>
                }
            }) }
            </tbody>
        </table>
    }
}

/// The decision matrix, row by row, decoded with the MDF's actions; each field editable.
fn dmatrix(e: &RegisterEditor, m: &Mdf, on: &Callback<Msg>) -> Html {
    let Some(dm) = &m.dmatrix else {
        return html! {};
    };
    let field = |row: u16, f: DmField, value: String, width: &'static str| {
        let change = on.reform(move |ev: web_sys::Event| {
            let input = ev.target_unchecked_into::<web_sys::HtmlInputElement>();
            let text = if f == DmField::Enabled {
                input.checked().to_string()
            } else {
                input.value()
            };
            Msg::Act(Action::Registers(RegisterAction::EditDm(row, f, text)))
        });
        if f == DmField::Enabled {
            html! { <input type="checkbox" checked={value == "true"} onchange={change} /> }
        } else {
            html! { <input class={width} {value} onchange={change} /> }
        }
    };
    html! {
        <table id="dmatrix" class="node-table">
            <caption>{ format!("Decision matrix: {} rows at page {} register 0x{:02X}", dm.rows, dm.page, dm.offset) }</caption>
            <thead><tr><th>{"row"}</th><th>{"on"}</th><th>{"origin"}</th><th>{"class filter / mask"}</th><th>{"type filter / mask"}</th><th>{"action"}</th><th>{"parameter"}</th></tr></thead>
            <tbody>
            { for e.dm_rows().into_iter().map(|(row, _, r)| match r {
                None => html! { <tr><td>{ row }</td><td colspan="6" class="hint">{"read the page to see this row"}</td></tr> },
                Some(DmRow { enabled, origin, class_filter, class_mask, type_filter, type_mask, action, param, .. }) => {
                    let act = on.reform(move |ev: web_sys::Event| Msg::Act(Action::Registers(RegisterAction::EditDm(row, DmField::Action, super::select_value(&ev)))));
                    html! {
                        <tr data-row={row.to_string()}>
                            <td>{ row }</td>
                            <td>{ field(row, DmField::Enabled, enabled.to_string(), "") }</td>
                            <td>{ field(row, DmField::Origin, origin.to_string(), "num") }</td>
                            <td>{ field(row, DmField::ClassFilter, class_filter.to_string(), "num") }{ " / " }{ field(row, DmField::ClassMask, class_mask.to_string(), "num") }</td>
                            <td>{ field(row, DmField::TypeFilter, type_filter.to_string(), "num") }{ " / " }{ field(row, DmField::TypeMask, type_mask.to_string(), "num") }</td>
                            <td>
                                // keyed by the value: a new value gets a fresh element (an option's
                                // `selected` attribute no longer moves a select the user touched)
                                <select class="dm-action" key={format!("{row}-{action}")} onchange={act}>
                                    if !dm.actions.iter().any(|a| a.code == action) {
                                        <option selected=true value={action.to_string()}>{ format!("{action} (not in the MDF)") }</option>
                                    }
                                    { for dm.actions.iter().map(|a| html! { <option value={a.code.to_string()} selected={a.code == action}>{ format!("{} ({})", a.name, a.code) }</option> }) }
                                </select>
                            </td>
                            <td>{ field(row, DmField::Param, param.to_string(), "num") }</td>
                        </tr>
                    }
                }
            }) }
            </tbody>
        </table>
    }
}
