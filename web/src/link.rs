//! The websocket to vscp-proxy: open, send, close, and turn browser callbacks into messages.

use wasm_bindgen::{JsCast, closure::Closure};
use web_sys::{CloseEvent, MessageEvent, WebSocket};
use yew::Callback;

/// Something the websocket reported.
pub enum LinkEvent {
    /// Open.
    Opened,
    /// A text message.
    Text(String),
    /// Closed with code and reason.
    Closed(u16, String),
}

/// An open (or opening) websocket and the closures that keep its callbacks alive.
pub struct Link {
    ws: WebSocket,
    _handlers: Vec<Closure<dyn FnMut(web_sys::Event)>>,
}

impl Link {
    /// Opens `url`; every event goes to `cb`. Errors are reported as a close.
    pub fn open(url: &str, cb: Callback<LinkEvent>) -> Result<Link, String> {
        let ws = WebSocket::new(url).map_err(|e| format!("cannot open {url}: {e:?}"))?;
        let mut handlers = Vec::new();
        let on = |cb: Callback<LinkEvent>, f: fn(web_sys::Event) -> Option<LinkEvent>| {
            Closure::<dyn FnMut(web_sys::Event)>::new(move |e: web_sys::Event| {
                if let Some(ev) = f(e) {
                    cb.emit(ev);
                }
            })
        };
        let open = on(cb.clone(), |_| Some(LinkEvent::Opened));
        let message = on(cb.clone(), |e| {
            let m: MessageEvent = e.dyn_into().ok()?;
            m.data().as_string().map(LinkEvent::Text)
        });
        let close = on(cb, |e| {
            let c: CloseEvent = e.dyn_into().ok()?;
            Some(LinkEvent::Closed(c.code(), c.reason()))
        });
        ws.set_onopen(Some(open.as_ref().unchecked_ref()));
        ws.set_onmessage(Some(message.as_ref().unchecked_ref()));
        ws.set_onclose(Some(close.as_ref().unchecked_ref()));
        handlers.extend([open, message, close]);
        Ok(Link {
            ws,
            _handlers: handlers,
        })
    }

    /// Sends one message (one or more lines).
    pub fn send(&self, text: &str) -> Result<(), String> {
        self.ws
            .send_with_str(text)
            .map_err(|e| format!("send failed: {e:?}"))
    }

    /// Closes normally; no more events are delivered.
    pub fn close(self) {
        self.ws.set_onclose(None);
        self.ws.set_onmessage(None);
        let _ = self.ws.close();
    }
}
