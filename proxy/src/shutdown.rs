//! One shutdown signal for every task, and a tracker of the sessions that must end first.

use std::time::Duration;

use tokio_util::{sync::CancellationToken, task::TaskTracker};

/// Cancelled on SIGINT/SIGTERM (or by [`Shutdown::trigger`]); tracks live sessions so the
/// server can wait for their close frames instead of polling.
#[derive(Clone, Debug, Default)]
pub struct Shutdown {
    token: CancellationToken,
    sessions: TaskTracker,
}

impl Shutdown {
    /// A signal nobody has triggered yet.
    #[must_use]
    pub fn new() -> Shutdown {
        Shutdown::default()
    }

    /// A signal that fires on SIGINT or SIGTERM.
    #[must_use]
    pub fn on_signals() -> Shutdown {
        let s = Shutdown::new();
        let trigger = s.clone();
        tokio::spawn(async move {
            #[cfg(unix)]
            {
                use tokio::signal::unix::{SignalKind, signal};
                let mut term = signal(SignalKind::terminate()).ok();
                let term = async {
                    match term.as_mut() {
                        Some(t) => {
                            t.recv().await;
                        }
                        None => std::future::pending().await,
                    }
                };
                tokio::select! { _ = tokio::signal::ctrl_c() => {}, _ = term => {} }
            }
            #[cfg(not(unix))]
            let _ = tokio::signal::ctrl_c().await;
            tracing::info!("shutting down");
            trigger.trigger();
        });
        s
    }

    /// Starts the shutdown.
    pub fn trigger(&self) {
        self.token.cancel();
    }

    /// Was shutdown triggered?
    #[must_use]
    pub fn is_triggered(&self) -> bool {
        self.token.is_cancelled()
    }

    /// Resolves once shutdown was triggered.
    pub async fn wait(&self) {
        self.token.cancelled().await;
    }

    /// Counts a session as live until the returned guard drops.
    pub(crate) fn session(&self) -> tokio_util::task::task_tracker::TaskTrackerToken {
        self.sessions.token()
    }

    /// Waits (at most `limit`) until every session has ended; true when all did.
    pub(crate) async fn sessions_ended(&self, limit: Duration) -> bool {
        self.sessions.close();
        tokio::time::timeout(limit, self.sessions.wait())
            .await
            .is_ok()
    }
}
