//! Proxy accounts (`--users users.toml`): who may log in to the proxy, with which privilege
//! level and to which targets; login sessions held in a cookie; failed logins limited per
//! client address and per account.
//!
//! ```toml
//! [[user]]
//! name = "caretaker"
//! password_hash = "$argon2id$v=19$…"   # vscp-proxy hash-password
//! role = "operator"                     # viewer, operator, engineer, admin, or level = 0–15
//! targets = ["hall"]                    # optional: only these
//! send = ["20", "10:6"]                  # optional: SEND only these classes or class:type
//! ```

use std::{
    collections::HashMap,
    net::IpAddr,
    path::Path,
    sync::Mutex,
    time::{Duration, Instant},
};

use anyhow::Context;
use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier, password_hash::SaltString};
use serde::Deserialize;
use vscp_core::policy;

/// The session cookie's name.
pub(crate) const COOKIE: &str = "vscp_session";
/// How long a login holds.
pub(crate) const SESSION_TIME: Duration = Duration::from_secs(8 * 3600);
/// Failed logins allowed per client address, and per account, within [`FAILURE_WINDOW`].
const MAX_FAILURES_PER_IP: u32 = 10;
const MAX_FAILURES_PER_ACCOUNT: u32 = 5;
const FAILURE_WINDOW: Duration = Duration::from_secs(60);
/// Sessions held at most (the oldest go first).
const MAX_SESSIONS: usize = 10_000;

/// The users file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UsersFile {
    user: Vec<UserEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UserEntry {
    name: String,
    password_hash: String,
    role: Option<String>,
    level: Option<u8>,
    #[serde(default)]
    targets: Vec<String>,
    #[serde(default)]
    send: Vec<String>,
}

/// An account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct User {
    /// Its name.
    pub name: String,
    /// Privilege level 0–15.
    pub level: u8,
    /// Targets it may use (empty: all).
    pub targets: Vec<String>,
    /// Events it may SEND (empty: any its level allows).
    pub events: Vec<policy::EventRule>,
    hash: String,
}

impl User {
    /// May it use this target?
    pub(crate) fn may_use(&self, target: &str) -> bool {
        self.targets.is_empty() || self.targets.iter().any(|t| t == target)
    }
}

/// Why a login was refused.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum LoginRefused {
    /// Wrong name or password.
    Wrong,
    /// Too many failures from this address or for this account: wait.
    TooMany,
}

/// The accounts and their login sessions.
#[derive(Debug)]
pub(crate) struct Accounts {
    /// The users file as last read (SIGHUP reads it again).
    users: std::sync::RwLock<std::sync::Arc<HashMap<String, User>>>,
    /// Bumped on every change of the users, so open sessions look at their account again.
    changed: tokio::sync::watch::Sender<u64>,
    sessions: Mutex<HashMap<String, (String, Instant)>>,
    failures: Mutex<HashMap<String, (u32, Instant)>>,
}

impl Accounts {
    /// Reads and checks a users file.
    pub(crate) fn load(path: &Path) -> anyhow::Result<Accounts> {
        let text = std::fs::read_to_string(path).with_context(|| format!("{}", path.display()))?;
        Accounts::parse(&text).with_context(|| format!("{}", path.display()))
    }

    fn parse(text: &str) -> anyhow::Result<Accounts> {
        Ok(Accounts {
            users: std::sync::RwLock::new(std::sync::Arc::new(Accounts::users(text)?)),
            changed: tokio::sync::watch::Sender::new(0),
            sessions: Mutex::default(),
            failures: Mutex::default(),
        })
    }

    /// Reads the users file again: a good one replaces the accounts (logins of removed
    /// accounts end, open sessions look at theirs again); a bad one changes nothing. The
    /// names of the accounts removed and of those changed.
    pub(crate) fn reload(&self, path: &Path) -> anyhow::Result<(Vec<String>, Vec<String>)> {
        let text = std::fs::read_to_string(path).with_context(|| format!("{}", path.display()))?;
        let new = Accounts::users(&text).with_context(|| format!("{}", path.display()))?;
        let old = self.all();
        let removed = old
            .keys()
            .filter(|n| !new.contains_key(*n))
            .cloned()
            .collect();
        let changed = new
            .iter()
            .filter(|(n, u)| old.get(*n).is_some_and(|o| o != *u))
            .map(|(n, _)| n.clone())
            .collect();
        *self.users.write().unwrap_or_else(|e| e.into_inner()) = std::sync::Arc::new(new);
        self.changed.send_modify(|g| *g += 1);
        Ok((removed, changed))
    }

    /// The accounts as they stand.
    fn all(&self) -> std::sync::Arc<HashMap<String, User>> {
        self.users.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Waits until the account a session of `user` at `target` was opened with is removed,
    /// lowered in level or kept from `target`; then says how.
    pub(crate) async fn revoked(&self, user: &str, level: u8, target: &str) -> String {
        let mut changes = self.changed.subscribe();
        loop {
            match self.all().get(user) {
                None => return format!("account {user} was removed"),
                Some(u) if u.level < level => {
                    return format!("account {user} is now at level {}", u.level);
                }
                Some(u) if !u.may_use(target) => {
                    return format!("account {user} may no longer use target {target}");
                }
                Some(_) => {}
            }
            if changes.changed().await.is_err() {
                std::future::pending::<()>().await;
            }
        }
    }

    fn users(text: &str) -> anyhow::Result<HashMap<String, User>> {
        let file: UsersFile = toml::from_str(text)?;
        let mut users = HashMap::new();
        for u in file.user {
            let level = match (&u.role, u.level) {
                (Some(role), None) => policy::role_level(role).with_context(|| {
                    format!(
                        "user {}: role {role:?} is not viewer, operator, engineer or admin",
                        u.name
                    )
                })?,
                (None, Some(level)) if level <= policy::ADMIN => level,
                (None, Some(level)) => anyhow::bail!("user {}: level {level} is not 0–15", u.name),
                _ => anyhow::bail!("user {}: give a role or a level (not both)", u.name),
            };
            PasswordHash::new(&u.password_hash)
                .map_err(|e| anyhow::anyhow!("user {}: password_hash: {e}", u.name))?;
            anyhow::ensure!(!u.name.is_empty(), "a user without a name");
            let events = u
                .send
                .iter()
                .map(|r| r.parse())
                .collect::<Result<_, String>>()
                .map_err(|e| anyhow::anyhow!("user {}: send: {e}", u.name))?;
            let user = User {
                name: u.name.clone(),
                level,
                targets: u.targets,
                events,
                hash: u.password_hash,
            };
            anyhow::ensure!(
                users.insert(u.name.clone(), user).is_none(),
                "user {} twice",
                u.name
            );
        }
        Ok(users)
    }

    /// Checks a login from `ip`; a new session token when it holds.
    pub(crate) fn login(
        &self,
        ip: IpAddr,
        name: &str,
        password: &str,
    ) -> Result<String, LoginRefused> {
        let keys = [format!("ip {ip}"), format!("user {name}")];
        let now = Instant::now();
        {
            let failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
            let over = |key: &str, max: u32| {
                failures.get(key).is_some_and(|(n, since)| {
                    *n >= max && now.duration_since(*since) < FAILURE_WINDOW
                })
            };
            if over(&keys[0], MAX_FAILURES_PER_IP) || over(&keys[1], MAX_FAILURES_PER_ACCOUNT) {
                return Err(LoginRefused::TooMany);
            }
        }
        let good = self.all().get(name).is_some_and(|u| {
            PasswordHash::new(&u.hash).is_ok_and(|h| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &h)
                    .is_ok()
            })
        });
        if !good {
            let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
            failures.retain(|_, (_, since)| now.duration_since(*since) < FAILURE_WINDOW);
            for key in keys {
                let entry = failures.entry(key).or_insert((0, now));
                entry.0 += 1;
            }
            return Err(LoginRefused::Wrong);
        }
        let token = new_token();
        let mut sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        sessions.retain(|_, (_, until)| *until > now);
        if sessions.len() >= MAX_SESSIONS
            && let Some(oldest) = sessions
                .iter()
                .min_by_key(|(_, (_, t))| *t)
                .map(|(k, _)| k.clone())
        {
            sessions.remove(&oldest);
        }
        sessions.insert(token.clone(), (name.to_string(), now + SESSION_TIME));
        Ok(token)
    }

    /// The account of a session token still valid.
    pub(crate) fn session(&self, token: &str) -> Option<User> {
        let sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        let (name, until) = sessions.get(token)?;
        (*until > Instant::now())
            .then(|| self.all().get(name).cloned())
            .flatten()
    }

    /// Ends a session.
    pub(crate) fn logout(&self, token: &str) {
        self.sessions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(token);
    }
}

/// The session token in a `Cookie` header, if any.
pub(crate) fn token_of(cookie_header: &str) -> Option<&str> {
    cookie_header
        .split(';')
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v)
}

/// `N` bytes from the system's random source.
fn random<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes)
        .unwrap_or_default();
    bytes
}

/// 32 random bytes as hex.
fn new_token() -> String {
    random::<32>().iter().map(|b| format!("{b:02x}")).collect()
}

/// The PHC string of a password (argon2id, random salt), for a users file.
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::encode_b64(&random::<16>()).map_err(|e| anyhow::anyhow!("{e}"))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("{e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accounts() -> Accounts {
        let hash = hash_password("pw").unwrap();
        Accounts::parse(&format!(
            "[[user]]\nname = \"v\"\npassword_hash = \"{hash}\"\nrole = \"viewer\"\ntargets = [\"demo\"]\n\
             [[user]]\nname = \"e\"\npassword_hash = \"{hash}\"\nlevel = 6\n"
        ))
        .unwrap()
    }

    #[tokio::test]
    async fn a_reload_ends_sessions_of_removed_and_lowered_accounts_only() {
        let a = std::sync::Arc::new(accounts());
        let hash = hash_password("pw").unwrap();
        let path = std::env::temp_dir().join(format!("vscp-users-{}.toml", std::process::id()));
        let watch = |name: &'static str, level: u8, target: &'static str| {
            let a = a.clone();
            tokio::spawn(async move { a.revoked(name, level, target).await })
        };
        let (v, e, e_demo) = (
            watch("v", 2, "demo"),
            watch("e", 6, "hall"),
            watch("e", 6, "demo"),
        );
        // a bad file changes nothing
        std::fs::write(&path, "not toml [").unwrap();
        assert!(a.reload(&path).is_err());
        // v removed, e lowered to 4
        std::fs::write(
            &path,
            format!("[[user]]\nname = \"e\"\npassword_hash = \"{hash}\"\nlevel = 4\n"),
        )
        .unwrap();
        assert_eq!(
            a.reload(&path).unwrap(),
            (vec!["v".into()], vec!["e".into()])
        );
        assert_eq!(v.await.unwrap(), "account v was removed");
        assert_eq!(e.await.unwrap(), "account e is now at level 4");
        assert!(e_demo.await.unwrap().contains("level 4"));
        // a session at the level the account still has goes on
        let kept = watch("e", 4, "demo");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        assert!(!kept.is_finished());
        kept.abort();
        let _ = std::fs::remove_file(&path);
    }

    #[test]
    fn login_sessions_and_limits() {
        let a = accounts();
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        let token = a.login(ip, "v", "pw").unwrap();
        let user = a.session(&token).unwrap();
        assert_eq!(
            (user.level, user.may_use("demo"), user.may_use("hall")),
            (2, true, false)
        );
        assert_eq!(
            a.session(&token).map(|u| a.all()["e"].may_use(&u.name)),
            Some(true)
        );
        a.logout(&token);
        assert_eq!(a.session(&token), None);
        for _ in 0..MAX_FAILURES_PER_ACCOUNT {
            assert_eq!(a.login(ip, "e", "nope"), Err(LoginRefused::Wrong));
        }
        assert_eq!(
            a.login(ip, "e", "pw"),
            Err(LoginRefused::TooMany),
            "the account waits"
        );
        let other: IpAddr = "127.0.0.2".parse().unwrap();
        assert!(a.login(other, "v", "pw").is_ok(), "other accounts do not");
        assert_eq!(token_of("a=1; vscp_session=abc; b=2"), Some("abc"));
    }

    #[test]
    fn bad_files_say_why() {
        for (text, why) in [
            (
                "[[user]]\nname = \"x\"\npassword_hash = \"nope\"\nlevel = 1\n",
                "password_hash",
            ),
            (
                "[[user]]\nname = \"x\"\npassword_hash = \"$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA\"\nrole = \"boss\"\n",
                "role",
            ),
            (
                "[[user]]\nname = \"x\"\npassword_hash = \"$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA\"\nlevel = 16\n",
                "0–15",
            ),
            (
                "[[user]]\nname = \"x\"\npassword_hash = \"$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA\"\nlevel = 4\nsend = [\"20:x\"]\n",
                "send",
            ),
        ] {
            let e = Accounts::parse(text).unwrap_err();
            assert!(format!("{e:#}").contains(why), "{e:#}");
        }
    }
}
