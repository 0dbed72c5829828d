//! What the console asks of the browser itself (beside the websocket): file downloads.
//! Local storage is in `storage`; the reducers never call either.

use wasm_bindgen::JsCast;

/// Offers `text` to the user as a download named `file_name`.
pub fn download(text: String, file_name: &str, mime: &str) {
    let parts = js_sys::Array::of1(&text.into());
    let props = web_sys::BlobPropertyBag::new();
    props.set_type(mime);
    let Ok(blob) = web_sys::Blob::new_with_str_sequence_and_options(&parts, &props) else {
        return;
    };
    let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) else {
        return;
    };
    let doc = web_sys::window().and_then(|w| w.document());
    if let Some(a) = doc
        .and_then(|d| d.create_element("a").ok())
        .and_then(|a| a.dyn_into::<web_sys::HtmlAnchorElement>().ok())
    {
        a.set_href(&url);
        a.set_download(file_name);
        a.click();
    }
    let _ = web_sys::Url::revoke_object_url(&url);
}
