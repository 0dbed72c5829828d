//! How the proxy's demo nodes are numbered, so the console can say "demo" of them at any
//! site: the interface GUID `FF:FF:FF:FF:FF:FF:FF:F5:00:{site}:00:00:00:00:00:00` with each
//! node's nickname in the last byte, and the demo server's own GUID `…:FE:00:{site}:…:01`.

/// The interface the demo's Level I nodes of `site` sit behind (nickname byte 0).
#[must_use]
pub const fn interface_guid(site: u8) -> [u8; 16] {
    [
        0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xF5, 0, site, 0, 0, 0, 0, 0, 0,
    ]
}

/// The demo server's own GUID (what GGID answers) at `site`.
#[must_use]
pub const fn server_guid(site: u8) -> [u8; 16] {
    [
        0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE, 0, site, 0, 0, 0, 0, 0, 1,
    ]
}

/// The demo's Level II node at `site` (its own GUID; registers in the 32-bit space).
#[must_use]
pub const fn level2_node_guid(site: u8) -> [u8; 16] {
    [
        0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE, 0, site, 0, 0, 0, 0, 2, 0,
    ]
}

/// The site of a demo node's GUID, if it is one.
#[must_use]
pub fn node_site(guid: &[u8; 16]) -> Option<u8> {
    let iface = interface_guid(guid[9]);
    (guid[..15] == iface[..15]).then_some(guid[9])
}

/// The site of the demo's Level II node, if `guid` is one.
#[must_use]
pub fn level2_site(guid: &[u8; 16]) -> Option<u8> {
    (*guid == level2_node_guid(guid[9])).then_some(guid[9])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_site_is_a_demo_site() {
        let mut node = interface_guid(2);
        node[15] = 3;
        assert_eq!(node_site(&node), Some(2));
        assert_eq!(node_site(&server_guid(2)), None);
        assert_eq!(node_site(&[0; 16]), None);
        assert_eq!(level2_site(&level2_node_guid(3)), Some(3));
        assert_eq!(level2_site(&server_guid(3)), None);
    }
}
