//! The register editor of one node: a 16 × 16 grid of the shown page (hex or decimal), edits
//! marked until written, a preview of what will change, each write checked against the node's
//! answer, undo, save/load as JSON, the standard registers in words, and the round-trip figures.

use std::rc::Rc;

use vscp_core::registers::StandardRegisters;
use yew::prelude::*;

use super::{checked, edit_copy, read_file};
use crate::{
    Msg,
    forms::{FormEdit, NodeFields},
    state::{Action, RegisterEditor},
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
            Ok(page) => Msg::Act(Action::ReadPage(page)),
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
            crate::export::download(editor.to_json(), &name, "application/json");
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
    let title = format!(
        "Registers of {} (node {}, {})",
        p.name.as_deref().unwrap_or("node"),
        e.node.nickname(),
        e.node.compact()
    );
    html! {
        <section class="panel registers" id="registers">
            <h2>{ title }<button class="chip" onclick={on.reform(|_| Msg::Act(Action::CloseRegisters))}>{"close"}</button></h2>
            <div class="toolbar">
                <label>{"page"}<input id="reg-page" class="num" value={f.page.clone()} oninput={edit_copy(on, f, |f, v| f.page = v, wrap)} /></label>
                <button id="reg-read" onclick={read_page}>{"read page"}</button>
                <label><input id="reg-hex" type="checkbox" checked={f.hex} onchange={hex_toggle} />{"hex"}</label>
                <button id="reg-write" disabled={e.edits.is_empty()} onclick={on.reform(|_| Msg::Act(Action::WriteRegisters))}>{ format!("write {} changes", e.edits.len()) }</button>
                <button id="reg-discard" disabled={e.edits.is_empty()} onclick={on.reform(|_| Msg::Act(Action::DiscardEdits))}>{"discard"}</button>
                <button id="reg-undo" disabled={e.writes.is_empty()} onclick={on.reform(|_| Msg::Act(Action::UndoWrite))}>{"undo last write"}</button>
                if busy {
                    <button id="reg-cancel" onclick={on.reform(|_| Msg::Act(Action::CancelRegisters))}>{"cancel"}</button>
                }
                <button id="reg-save" onclick={save}>{"save JSON"}</button>
                <label class="file">{"load JSON"}<input id="reg-load" type="file" accept=".json,application/json" onchange={read_file(on, Action::LoadRegisters, "register file")} /></label>
            </div>
            <p id="reg-figures" class="hint">{ figures }</p>
            { diff(e, f.hex) }
            { grid(e, f.hex, on) }
            { writes(e, f.hex) }
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
                        let class = classes!(
                            edit.is_some().then_some("edited"),
                            e.failed.contains_key(&addr).then_some("failed"),
                            last_write(reg).map(|w| if w.ok() { "written" } else { "refused" }),
                        );
                        let title = format!("0x{reg:02X} ({reg}){}", standard_name(reg).map(|n| format!(" — {n}")).unwrap_or_default());
                        let change = on.reform(move |ev: web_sys::Event| {
                            let text = ev.target_unchecked_into::<web_sys::HtmlInputElement>().value();
                            Msg::Act(Action::EditRegister { reg, text, hex })
                        });
                        html! {
                            <td class={class}>
                                <input id={format!("reg-{reg:02x}")} aria-label={title.clone()} {title}
                                    value={value.map(|v| show(*v, hex)).unwrap_or_default()}
                                    placeholder="--" onchange={change} />
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

/// What a standard register (0x80–0xFF) holds.
fn standard_name(reg: u8) -> Option<&'static str> {
    Some(match reg {
        0x80 => "alarm status",
        0x81 => "VSCP major version",
        0x82 => "VSCP minor version",
        0x83 => "error counter",
        0x84..=0x88 => "user id",
        0x89..=0x8C => "manufacturer device id",
        0x8D..=0x90 => "manufacturer sub device id",
        0x91 => "nickname",
        0x92 => "page select MSB",
        0x93 => "page select LSB",
        0x94 => "firmware major",
        0x95 => "firmware minor",
        0x96 => "firmware build",
        0x97 => "boot loader algorithm",
        0x98 => "buffer size",
        0x99 => "pages used",
        0x9A..=0x9D => "standard device family",
        0x9E..=0xA1 => "standard device type",
        0xA2 => "node control flags",
        0xA3..=0xA4 => "firmware device code",
        0xD0..=0xDF => "GUID",
        0xE0..=0xFF => "MDF URL",
        _ => return None,
    })
}
