//! The websocket to vscp-proxy (text lines) or to an MQTT broker (binary packets, subprotocol
//! `mqtt`): open, send, close, and turn browser callbacks into messages.

use wasm_bindgen::{JsCast, closure::Closure};
use web_sys::{BinaryType, CloseEvent, MessageEvent, WebSocket};
use yew::Callback;

/// Something the websocket reported.
pub enum LinkEvent {
    /// Open.
    Opened,
    /// A text message.
    Text(String),
    /// A binary message.
    Binary(Vec<u8>),
    /// Closed with code and reason.
    Closed(u16, String),
}

/// An open (or opening) websocket and the closures that keep its callbacks alive.
pub struct Link {
    ws: WebSocket,
    _handlers: Vec<Closure<dyn FnMut(web_sys::Event)>>,
}

impl Link {
    /// Opens `url`, asking for `protocol` if given; every event goes to `cb`. Errors are
    /// reported as a close.
    pub fn open(
        url: &str,
        protocol: Option<&str>,
        cb: Callback<LinkEvent>,
    ) -> Result<Link, String> {
        let ws = match protocol {
            Some(p) => WebSocket::new_with_str(url, p),
            None => WebSocket::new(url),
        }
        .map_err(|e| format!("cannot open {url}: {e:?}"))?;
        ws.set_binary_type(BinaryType::Arraybuffer);
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
            let data = m.data();
            match data.as_string() {
                Some(t) => Some(LinkEvent::Text(t)),
                None => data
                    .dyn_into::<js_sys::ArrayBuffer>()
                    .ok()
                    .map(|b| LinkEvent::Binary(js_sys::Uint8Array::new(&b).to_vec())),
            }
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

    /// Sends one binary message.
    pub fn send_binary(&self, bytes: &[u8]) -> Result<(), String> {
        self.ws
            .send_with_u8_array(bytes)
            .map_err(|e| format!("send failed: {e:?}"))
    }

    /// Closes normally; no more events are delivered.
    pub fn close(self) {
        self.ws.set_onclose(None);
        self.ws.set_onmessage(None);
        let _ = self.ws.close();
    }
}
