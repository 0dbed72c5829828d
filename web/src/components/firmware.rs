//! The firmware wizard of one node: file, plan, start, progress (bytes/s, time left), abort,
//! and the version the node reports afterwards.

use std::rc::Rc;

use yew::prelude::*;

use super::{account::use_account, on_input, read_named_file};
use crate::{
    Msg,
    state::{Action, Firmware, FirmwareAction, FirmwarePhase as Phase},
};

/// Props of [`FirmwarePanel`].
#[derive(Properties, PartialEq)]
pub struct FirmwareProps {
    /// The wizard.
    pub wizard: Rc<Firmware>,
    /// The node's name, if known.
    pub name: Option<String>,
    /// Where user actions go.
    pub on: Callback<Msg>,
}

fn act(a: FirmwareAction) -> Msg {
    Msg::Act(Action::Firmware(a))
}

/// The wizard's panel.
#[function_component(FirmwarePanel)]
pub fn firmware_panel(p: &FirmwareProps) -> Html {
    let (f, on) = (&p.wizard, &p.on);
    // uploading firmware is configuration: an engineer's
    let denied = use_account().denies(vscp_core::policy::ENGINEER);
    let version = |(a, b, c): (u8, u8, u8)| format!("{a}.{b}.{c}");
    let status = match &f.phase {
        Phase::Reading => html! { <p class="hint">{"reading the node's standard registers…"}</p> },
        Phase::Choose => html! { <p class="hint">{"choose the firmware (.hex)"}</p> },
        Phase::Ready(plan) => html! { <p id="fw-plan">{ plan.to_string() }</p> },
        Phase::Refused(why) => {
            html! { <p id="fw-refused" class="err" role="alert">{ format!("refused: {why}") }</p> }
        }
        Phase::Uploading | Phase::Aborting | Phase::Checking => {
            let pr = f.progress;
            let rate = f.rate().map_or(String::new(), |(bps, left)| {
                format!(" · {:.0} bytes/s · {} s left", bps, left.div_ceil(1000))
            });
            let what = match f.phase {
                Phase::Aborting => "aborting…",
                Phase::Checking => "activated; reading the version back…",
                _ => "uploading",
            };
            html! {
                <p id="fw-progress">
                    <progress max={pr.bytes_total.max(1).to_string()} value={pr.bytes_done.to_string()}></progress>
                    { format!(" {what}: {} of {} bytes, block {} of {}{rate}{}", pr.bytes_done, pr.bytes_total,
                        pr.blocks_done, pr.blocks_total,
                        if pr.retries > 0 { format!(" · {} retries", pr.retries) } else { String::new() }) }
                </p>
            }
        }
        Phase::Done(v) => {
            let want = f.version.trim();
            let mismatch = (!want.is_empty() && want != version(*v)).then(|| want.to_string());
            html! {
                <p id="fw-done" class={classes!(mismatch.is_some().then_some("err"))} role="status">
                    { format!("done: the node now runs firmware {}", version(*v)) }
                    { mismatch.map(|want| format!(" (not the {want} given)")).unwrap_or_default() }
                </p>
            }
        }
        Phase::Failed(why) => {
            html! { <p id="fw-failed" class="err" role="alert">{ why.clone() }</p> }
        }
        Phase::Aborted(true) => {
            html! { <p id="fw-aborted">{"aborted: the node left its bootloader"}</p> }
        }
        Phase::Aborted(false) => {
            html! { <p id="fw-aborted" class="err">{"aborted: the node stays in its bootloader (its old firmware is partly overwritten): start again to finish"}</p> }
        }
    };
    let running = matches!(
        f.phase,
        Phase::Uploading | Phase::Aborting | Phase::Checking
    );
    let current = f.standard.as_ref().map(|s| {
        format!(
            "now: firmware {}, device code 0x{:04X}, bootloader {}",
            version(s.firmware),
            s.firmware_code,
            if s.bootloader == 0 {
                "VSCP".to_string()
            } else {
                format!("{} (not VSCP)", s.bootloader)
            }
        )
    });
    // the node's MDF may list firmware files, with the device code and version of each
    let mdf_url = f
        .standard
        .as_ref()
        .map(|s| s.mdf_url.clone())
        .filter(|u| !u.is_empty());
    let listed = match &f.listed {
        None => html! {},
        Some(Err(e)) => html! { <p class="err" id="fw-listed-error">{ format!("MDF: {e}") }</p> },
        Some(Ok(list)) if list.is_empty() => {
            html! { <p class="hint" id="fw-listed">{"the node's MDF lists no firmware"}</p> }
        }
        Some(Ok(list)) => html! {
            <ul class="history" id="fw-listed">
                { for list.iter().map(|fw| html! {
                    <li>{ format!("{} — {}{} — {}", fw.name,
                        fw.version.map_or_else(|| "version ?".to_string(), |v| format!("version {}", version(v))),
                        fw.target_code.map(|c| format!(", device code 0x{c:04X}")).unwrap_or_default(),
                        fw.url) }</li>
                }) }
            </ul>
        },
    };
    html! {
        <section class="panel firmware" id="firmware">
            <h2>{ format!("Firmware of {} (node {})", p.name.as_deref().unwrap_or("node"), f.node.nickname()) }
                if !running { <button class="chip" id="fw-close" onclick={on.reform(|_| act(FirmwareAction::Close))}>{"close"}</button> }
            </h2>
            { for current.map(|c| html! { <p class="hint" id="fw-current">{c}</p> }) }
            { for mdf_url.map(|url| html! {
                <button class="chip" id="fw-mdf" title={url.clone()}
                    onclick={on.reform(move |_| Msg::FetchMdf(url.clone(), crate::msg::MdfFor::Firmware))}>{"firmware list from the node's MDF"}</button>
            }) }
            {listed}
            if let Some(m) = &f.matched {
                <p class="hint" id="fw-matched">{ format!("the file is “{m}” of the MDF: its device code and version are filled in") }</p>
            }
            <div class="toolbar">
                <label class="file">{ f.file.clone().unwrap_or_else(|| "firmware file".into()) }
                    <input id="fw-file" type="file" accept=".hex,.ihex" disabled={running}
                        onchange={read_named_file(on, |name, text| act(FirmwareAction::File(name, text)), "firmware file")} /></label>
                <label>{"device code"}<input id="fw-code" class="num" placeholder="0x1001" value={f.device_code.clone()} disabled={running}
                    title="the device code the image is built for (its MDF or maker says); empty: not checked"
                    oninput={on_input(on, |v| act(FirmwareAction::DeviceCode(v)))} /></label>
                <label>{"version"}<input id="fw-version" class="num" placeholder="2.0.7" value={f.version.clone()} disabled={running}
                    title="the image's version, checked against what the node reports afterwards"
                    oninput={on_input(on, |v| act(FirmwareAction::Version(v)))} /></label>
            </div>
            {status}
            if let Some(why) = &denied { <p class="hint locked" id="fw-locked">{ format!("firmware: {why}") }</p> }
            <div class="toolbar">
                if running {
                    <button id="fw-abort" disabled={f.phase != Phase::Uploading} onclick={on.reform(|_| act(FirmwareAction::Abort))}>{"abort"}</button>
                } else {
                    <button id="fw-start" disabled={!f.can_start() || denied.is_some()} title={denied.clone()}
                        onclick={on.reform(|_| act(FirmwareAction::Start))}>{"start upload"}</button>
                }
            </div>
        </section>
    }
}
