//! Connection threads: each accepted connection is served from start to end by one of a few
//! single-threaded runtimes, taken in turn, whose reactor also watches its sockets (the
//! accepted socket is handed over and registered there). A session's reads, writes and
//! wake-ups then stay on one thread: a work-stealing runtime wakes another worker (a futex
//! call on each side, and a context switch) for many of a busy session's messages.

use std::{
    future::Future,
    sync::atomic::{AtomicUsize, Ordering::Relaxed},
    time::Duration,
};

use tokio::runtime::{Builder, Handle};

use crate::shutdown::Shutdown;

/// The connection threads.
pub(crate) struct Shards {
    handles: Vec<Handle>,
    next: AtomicUsize,
}

impl Shards {
    /// Starts `n` threads (at least one). Each runs until shutdown and then until its
    /// sessions have said goodbye (at most `grace`).
    pub(crate) fn start(n: usize, shutdown: &Shutdown, grace: Duration) -> std::io::Result<Shards> {
        let mut handles = Vec::new();
        for i in 0..n.max(1) {
            let rt = Builder::new_current_thread().enable_all().build()?;
            handles.push(rt.handle().clone());
            let stop = shutdown.clone();
            std::thread::Builder::new()
                .name(format!("vscp-conn-{i}"))
                .spawn(move || {
                    rt.block_on(async move {
                        stop.wait().await;
                        stop.sessions_ended(grace).await;
                    });
                })?;
        }
        Ok(Shards {
            handles,
            next: AtomicUsize::new(0),
        })
    }

    /// Runs a connection's task on the next thread.
    pub(crate) fn spawn(&self, task: impl Future<Output = ()> + Send + 'static) {
        let i = self.next.fetch_add(1, Relaxed) % self.handles.len();
        if let Some(h) = self.handles.get(i) {
            drop(h.spawn(task));
        }
    }
}
