//! One TLS connection's limits: the HTTP/1.1 and HTTP/2 settings of the connection builder, and
//! the idle watch that closes a connection on which nothing has moved for a while.
//!
//! What bounds a connection:
//! - the TLS handshake must finish within [`HANDSHAKE_TIMEOUT`];
//! - HTTP/1.1 request headers must arrive within [`HEADER_READ_TIMEOUT`] (hyper starts that
//!   clock whenever it waits for a request head, so it also ends silent keep-alive connections),
//!   and fit in [`MAX_HEADER_BYTES`];
//! - HTTP/2: at most [`MAX_CONCURRENT_STREAMS`] streams, header lists of at most
//!   [`MAX_HEADER_BYTES`], small flow-control windows (what a client may send before the server
//!   reads it), few pending resets (rapid-reset floods), and keep-alive pings that close
//!   a connection whose peer went away;
//! - any connection with no bytes either way for the idle timeout is closed.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Instant;

/// How long a client may take to complete the TLS handshake.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a client may take to send the request headers (HTTP/1.1).
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest request head (HTTP/1.1 read buffer) and HTTP/2 header list.
pub const MAX_HEADER_BYTES: u32 = 32 * 1024;
/// HTTP/2 streams one connection may have open at once.
pub const MAX_CONCURRENT_STREAMS: u32 = 32;
/// HTTP/2 flow-control windows: what a client may have sent that the server has not read yet.
const STREAM_WINDOW: u32 = 256 * 1024;
const CONNECTION_WINDOW: u32 = 512 * 1024;
/// HTTP/2 streams a client may reset before the server accepts them (rapid reset).
const MAX_PENDING_RESETS: usize = 20;
/// HTTP/2 streams the server may reset before it closes the connection. A stream answered
/// without its body being read (413, 503 after the request timeout) is reset too, so this must
/// stay well above what a busy apiserver connection sees: hyper's default.
const MAX_ERROR_RESETS: usize = 1024;
/// HTTP/2 keep-alive: a ping this often, and the connection closes when one is not answered.
const KEEP_ALIVE_INTERVAL: Duration = Duration::from_secs(30);
const KEEP_ALIVE_TIMEOUT: Duration = Duration::from_secs(10);

/// The connection builder with every limit above.
pub fn builder() -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .max_buf_size(MAX_HEADER_BYTES as usize)
        .max_headers(64)
        .keep_alive(true);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(MAX_CONCURRENT_STREAMS)
        .max_header_list_size(MAX_HEADER_BYTES)
        .initial_stream_window_size(STREAM_WINDOW)
        .initial_connection_window_size(CONNECTION_WINDOW)
        .max_pending_accept_reset_streams(MAX_PENDING_RESETS)
        .max_local_error_reset_streams(MAX_ERROR_RESETS)
        .keep_alive_interval(KEEP_ALIVE_INTERVAL)
        .keep_alive_timeout(KEEP_ALIVE_TIMEOUT);
    builder
}

/// When bytes last moved on a connection.
#[derive(Clone, Debug)]
pub struct Activity {
    origin: Instant,
    last_ms: Arc<AtomicU64>,
}

impl Default for Activity {
    fn default() -> Self {
        Activity {
            origin: Instant::now(),
            last_ms: Arc::new(AtomicU64::new(0)),
        }
    }
}

impl Activity {
    fn touch(&self) {
        let ms = u64::try_from(self.origin.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_ms.store(ms, Ordering::Relaxed);
    }

    fn last(&self) -> Instant {
        self.origin + Duration::from_millis(self.last_ms.load(Ordering::Relaxed))
    }

    /// Resolves once nothing has moved for `timeout`.
    pub async fn idle_for(&self, timeout: Duration) {
        loop {
            let deadline = self.last() + timeout;
            if Instant::now() >= deadline {
                return;
            }
            tokio::time::sleep_until(deadline).await;
        }
    }
}

/// An I/O stream that records in an [`Activity`] whenever bytes are read or written.
#[derive(Debug)]
pub struct Watched<T> {
    inner: T,
    activity: Activity,
}

impl<T> Watched<T> {
    pub fn new(inner: T, activity: Activity) -> Self {
        Watched { inner, activity }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Watched<T> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            this.activity.touch();
        }
        polled
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Watched<T> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_write(cx, buf);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            this.activity.touch();
        }
        polled
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            this.activity.touch();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test(start_paused = true)]
    async fn silence_ends_in_idle_and_traffic_postpones_it() {
        let (a, mut b) = tokio::io::duplex(64);
        let activity = Activity::default();
        let mut watched = Watched::new(a, activity.clone());
        let idle = activity.clone();
        let timeout = Duration::from_secs(60);
        let waiting = tokio::spawn(async move { idle.idle_for(timeout).await });

        tokio::time::sleep(Duration::from_secs(50)).await;
        b.write_all(b"ping").await.unwrap();
        let mut buf = [0u8; 4];
        watched.read_exact(&mut buf).await.unwrap();
        tokio::time::sleep(Duration::from_secs(50)).await;
        assert!(!waiting.is_finished(), "a read 50 s ago postpones the idle end");
        watched.write_all(b"pong").await.unwrap();
        tokio::time::sleep(Duration::from_secs(59)).await;
        assert!(!waiting.is_finished(), "a write postpones it too");
        tokio::time::timeout(Duration::from_secs(2), waiting)
            .await
            .expect("60 s of silence end it")
            .unwrap();
    }
}
