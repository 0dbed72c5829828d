//! One memory budget for what browsers have sent but not finished: the bytes every session
//! has read since its last whole message (tungstenite keeps them until the message is
//! complete). Past the budget, the session whose read would exceed it ends with 1013, so that
//! `--max-conns` sessions cannot hold more than `--message-budget` of unfinished messages
//! (plus a read buffer each).

use std::{
    io,
    pin::Pin,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering::Relaxed},
    },
    task::{Context, Poll, ready},
};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// The shared budget, in bytes.
#[derive(Debug)]
pub(crate) struct Budget {
    used: AtomicUsize,
    max: usize,
}

impl Budget {
    /// A budget of `max` bytes.
    pub(crate) fn new(max: usize) -> Arc<Budget> {
        Arc::new(Budget {
            used: AtomicUsize::new(0),
            max,
        })
    }

    /// Bytes held now by all sessions.
    #[cfg(test)]
    pub(crate) fn used(&self) -> usize {
        self.used.load(Relaxed)
    }

    fn take(&self, n: usize) -> bool {
        if self.used.fetch_add(n, Relaxed) + n > self.max {
            self.used.fetch_sub(n, Relaxed);
            return false;
        }
        true
    }
}

/// The error a read returns when the budget is used up.
#[derive(Debug)]
pub(crate) struct OverBudget;

impl std::fmt::Display for OverBudget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the proxy's budget for unfinished messages is used up")
    }
}

impl std::error::Error for OverBudget {}

/// One session's share: what it read since its last whole message.
#[derive(Clone, Debug)]
pub(crate) struct Share {
    budget: Arc<Budget>,
    held: Arc<AtomicUsize>,
}

impl Share {
    pub(crate) fn new(budget: Arc<Budget>) -> Share {
        Share {
            budget,
            held: Arc::default(),
        }
    }

    /// A whole message arrived: what was held for it goes back.
    pub(crate) fn release(&self) {
        let n = self.held.swap(0, Relaxed);
        self.budget.used.fetch_sub(n, Relaxed);
    }
}

/// A connection whose reads are charged to a session's share.
pub(crate) struct Metered<Io> {
    io: Io,
    share: Share,
}

impl<Io> Metered<Io> {
    pub(crate) fn new(io: Io, share: Share) -> Metered<Io> {
        Metered { io, share }
    }
}

impl<Io> Drop for Metered<Io> {
    fn drop(&mut self) {
        self.share.release();
    }
}

impl<Io: AsyncRead + Unpin> AsyncRead for Metered<Io> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        ready!(Pin::new(&mut self.io).poll_read(cx, buf))?;
        let n = buf.filled().len() - before;
        if n > 0 {
            if !self.share.budget.take(n) {
                return Poll::Ready(Err(io::Error::other(OverBudget)));
            }
            self.share.held.fetch_add(n, Relaxed);
        }
        Poll::Ready(Ok(()))
    }
}

impl<Io: AsyncWrite + Unpin> AsyncWrite for Metered<Io> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    #[tokio::test]
    async fn reads_are_charged_until_a_message_is_whole_and_refused_past_the_budget() {
        let budget = Budget::new(10);
        let a = Share::new(budget.clone());
        let mut one = Metered::new(&b"123456"[..], a.clone());
        let mut buf = [0u8; 16];
        assert_eq!(one.read(&mut buf).await.unwrap(), 6);
        assert_eq!(budget.used(), 6);
        let mut two = Metered::new(&b"12345"[..], Share::new(budget.clone()));
        let err = two.read(&mut buf).await.unwrap_err();
        assert!(err.get_ref().is_some_and(|e| e.is::<OverBudget>()));
        a.release();
        assert_eq!(budget.used(), 0);
        drop(two);
        let mut three = Metered::new(&b"12345"[..], Share::new(budget.clone()));
        assert_eq!(three.read(&mut buf).await.unwrap(), 5);
        assert_eq!(budget.used(), 5);
        drop(three);
        assert_eq!(budget.used(), 0);
    }
}
