//! The command console: type link-protocol commands, see the replies, ↑/↓ history.

use std::{collections::VecDeque, rc::Rc};

use yew::prelude::*;

use super::on_input;
use crate::{
    Msg,
    forms::FormEdit,
    state::{Action, Transcript},
};

/// Lines of the transcript shown.
const SHOWN: usize = 200;

/// Props of [`CommandConsole`].
#[derive(Properties, PartialEq)]
pub struct CommandConsoleProps {
    /// The input line.
    pub line: String,
    /// Commands, replies and notes (newest last).
    pub transcript: Rc<VecDeque<Transcript>>,
    /// Where user actions go.
    pub on: Callback<Msg>,
}

/// The command console.
#[function_component(CommandConsole)]
pub fn command_console(p: &CommandConsoleProps) -> Html {
    let on = &p.on;
    let submit = {
        let (line, on) = (p.line.clone(), on.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            on.emit(Msg::Form(FormEdit::Sent(line.clone())));
            on.emit(Msg::Act(Action::Command(line.clone())));
        })
    };
    let keys = {
        let on = on.clone();
        Callback::from(move |e: KeyboardEvent| match e.key().as_str() {
            "ArrowUp" => on.emit(Msg::Form(FormEdit::HistoryUp)),
            "ArrowDown" => on.emit(Msg::Form(FormEdit::HistoryDown)),
            _ => {}
        })
    };
    let skip = p.transcript.len().saturating_sub(SHOWN);
    // follows the newest line unless the user scrolled up to read
    let pane = use_node_ref();
    let stick = use_mut_ref(|| true);
    {
        let (pane, stick) = (pane.clone(), stick.clone());
        use_effect_with(p.transcript.clone(), move |_| {
            if *stick.borrow()
                && let Some(el) = pane.cast::<web_sys::Element>()
            {
                el.set_scroll_top(el.scroll_height());
            }
        });
    }
    let onscroll = Callback::from(move |e: web_sys::Event| {
        let el = e.target_unchecked_into::<web_sys::Element>();
        *stick.borrow_mut() = el.scroll_top() + el.client_height() >= el.scroll_height() - 4;
    });
    // with proxy accounts: which commands this account's level reaches
    let account = super::account::use_account();
    let above = |needs: u8| {
        account
            .denies(needs)
            .map(|_| " — above your level")
            .unwrap_or_default()
    };
    html! {
        <form class="panel console" onsubmit={submit}>
            <h2>{"Command console"}</h2>
            if let crate::account::Account::LoggedIn { level, .. } = account.as_ref() {
                <p class="hint" id="cmd-level">{ format!("your level: {level}; the proxy answers commands above it with “Not allowed”") }</p>
            }
            <pre id="transcript" class="transcript" ref={pane} {onscroll} tabindex="0" role="log" aria-label="command transcript">{ for p.transcript.iter().skip(skip).map(|t| match t {
                Transcript::Sent(l) => html! { <div class="sent">{ format!("> {l}") }</div> },
                Transcript::Reply(l, err) => html! { <div class={classes!(err.then_some("err"))}>{ l }</div> },
                Transcript::Note(l) => html! { <div class="note">{ l }</div> },
            }) }</pre>
            <input id="cmd" placeholder="type a command, e.g. NOOP, VERS, CDTA (↑/↓ history)" autocomplete="off"
                list="commands" value={p.line.clone()} onkeydown={keys}
                oninput={on_input(on, |v| Msg::Form(FormEdit::Command(v)))} />
            // completion and help from vscp-core's command list
            <datalist id="commands">
                { for vscp_core::COMMANDS.iter().map(|c| html! {
                    <option value={c.word}>{ format!("{} — {} (privilege {}{})", c.args, c.help, c.privilege, above(c.privilege)) }</option>
                }) }
            </datalist>
            <details class="help">
                <summary>{"commands"}</summary>
                <table id="command-help">
                    <tr><th>{"command"}</th><th>{"argument"}</th><th>{"privilege"}</th><th>{"what it does"}</th></tr>
                    { for vscp_core::COMMANDS.iter().map(|c| html! {
                        <tr class={classes!(account.denies(c.privilege).map(|_| "locked"))}>
                            <td><code>{ c.word }</code>{ if c.aliases.is_empty() { String::new() } else { format!(" ({})", c.aliases.join(", ")) } }</td>
                            <td><code>{ c.args }</code></td><td>{ c.privilege }</td><td>{ c.help }</td>
                        </tr>
                    }) }
                </table>
            </details>
        </form>
    }
}
