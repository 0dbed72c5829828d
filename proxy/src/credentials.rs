//! Secret files handed over by the service manager. Under systemd the packaged unit passes the
//! users file, the node logins and the TLS key as credentials
//! (`LoadCredential=users.toml:/etc/vscp-proxy/users.toml`), so the files themselves stay
//! readable by root only and the service's own user needs no access to them. A setting that
//! names such a file is read from the credential of the same file name instead. A blank
//! credential (the unit's `SetCredential=NAME:\n` default when the file is not there) counts
//! as not passed: the path is read as written (and refused with its own reason).

use std::path::{Path, PathBuf};

use crate::config::Args;

impl Args {
    /// Points the secret files' settings at the credentials in `dir` (the service's
    /// `$CREDENTIALS_DIRECTORY`) where one of the same name was passed. The settings moved.
    pub fn use_credentials(&mut self, dir: Option<&Path>) -> Vec<&'static str> {
        let Some(dir) = dir else { return Vec::new() };
        let mut moved = Vec::new();
        for (id, path) in [
            ("users", &mut self.users),
            ("node_logins", &mut self.node_logins),
            ("tls_key", &mut self.tls_key),
        ] {
            if let Some(p) = path
                && let Some(credential) = credential(dir, p)
            {
                *p = credential;
                moved.push(id);
            }
        }
        moved
    }
}

/// The credential standing for `path`, when one of its file name was passed and is not blank.
fn credential(dir: &Path, path: &Path) -> Option<PathBuf> {
    let c = dir.join(path.file_name()?);
    std::fs::read(&c)
        .is_ok_and(|data| !data.trim_ascii().is_empty())
        .then_some(c)
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[test]
    fn a_passed_credential_stands_for_the_file_of_its_name() {
        let dir = std::env::temp_dir().join(format!("vscp-cred-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("users.toml"), "[[user]]\n").unwrap();
        std::fs::write(dir.join("node-logins.toml"), "\n").unwrap(); // the unit's blank default
        let mut args = Args::parse_from([
            "vscp-proxy",
            "--users",
            "/etc/vscp-proxy/users.toml",
            "--node-logins",
            "/etc/vscp-proxy/node-logins.toml",
        ]);
        let unchanged = args.clone();
        assert!(args.clone().use_credentials(None).is_empty());
        assert_eq!(args.use_credentials(Some(&dir)), ["users"]);
        assert_eq!(args.users, Some(dir.join("users.toml")));
        assert_eq!(args.node_logins, unchanged.node_logins, "blank: not passed");
        assert_eq!(args.tls_key, None);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
