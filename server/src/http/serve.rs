//! Serving connections, with limits a stranger cannot outwait: hyper's HTTP/1 with a deadline
//! for each request's header (which is also how long an idle keep-alive connection is kept),
//! at most `max_connections` open at once (WebSockets included; the next one is answered `503`
//! and closed), `TCP_NODELAY`, and a graceful stop that finishes the requests in flight.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use app::backend::ClientAddress;
use http::Request;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;
use tower::ServiceExt;

use super::App;
use crate::metrics::Held;

/// How long a stop waits for requests in flight before it gives up on them.
const DRAIN: Duration = Duration::from_secs(10);

pub struct Limits {
    /// A request's header must arrive whole within this time, and an idle keep-alive
    /// connection is closed after it.
    pub header_timeout: Duration,
    pub max_connections: usize,
    /// Take the client's address from the last `X-Forwarded-For` entry (behind a proxy).
    pub trust_forwarded_for: bool,
    /// Counts the connections open.
    pub connections: prometheus::IntGauge,
}

/// Serves `app` on `listener` until `stop` resolves.
pub async fn serve(listener: TcpListener, app: App, limits: Limits, stop: impl Future<Output = ()>) -> io::Result<()> {
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let (stopping, stopped) = watch::channel(false);
    let mut connections = JoinSet::new();
    let mut stop = std::pin::pin!(stop);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors, most likely: wait a moment rather than spin.
                    tracing::warn!(%error, "could not accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        // Small frames go out at once: with Nagle's algorithm a frame written while the last is
        // unacknowledged waited for the peer's delayed ACK (p99 35 ms at 20 messages a second).
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(%error, "could not set TCP_NODELAY");
        }
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            tokio::spawn(refuse(stream));
            continue;
        };
        let io = TokioIo::new(Counted { stream, _permit: permit, _open: Held::new(limits.connections.clone()) });
        let app = app.clone();
        let trust_forwarded_for = limits.trust_forwarded_for;
        let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
            let address = if trust_forwarded_for { forwarded_for(&request).unwrap_or(peer.ip()) } else { peer.ip() };
            request.extensions_mut().insert(ClientAddress(address));
            app.clone().oneshot(request)
        });
        let mut stopped = stopped.clone();
        let header_timeout = limits.header_timeout;
        connections.spawn(async move {
            let mut builder = http1::Builder::new();
            builder.timer(TokioTimer::new()).header_read_timeout(header_timeout).keep_alive(true);
            let mut connection = std::pin::pin!(builder.serve_connection(io, service).with_upgrades());
            let result = tokio::select! {
                result = connection.as_mut() => result,
                () = async { drop(stopped.wait_for(|stop| *stop).await) } => {
                    connection.as_mut().graceful_shutdown();
                    connection.await
                }
            };
            if let Err(error) = result {
                tracing::debug!(%error, "a connection ended with an error");
            }
        });
        // Forget the connections that are done, so the set holds only live ones.
        while connections.try_join_next().is_some() {}
    }
    drop(listener);
    let _ = stopping.send(true);
    let drained = tokio::time::timeout(DRAIN, async { while connections.join_next().await.is_some() {} }).await;
    if drained.is_err() {
        tracing::warn!(left = connections.len(), "stopped with requests still in flight");
    }
    Ok(())
}

/// The client a proxy says it forwarded for: the last entry of `X-Forwarded-For` (the one the
/// proxy itself added; earlier ones are the client's word).
fn forwarded_for<B>(request: &Request<B>) -> Option<std::net::IpAddr> {
    let header = request.headers().get_all("x-forwarded-for").iter().next_back()?.to_str().ok()?;
    header.rsplit(',').next()?.trim().parse().ok()
}

/// What a connection over the limit is told before it is closed.
async fn refuse(mut stream: TcpStream) {
    const BODY: &str = "the server is at its connection limit: try again in a few seconds\n";
    let answer = format!(
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\n\
         Retry-After: 5\r\nConnection: close\r\n\r\n{BODY}",
        BODY.len()
    );
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        let _ = stream.write_all(answer.as_bytes()).await;
        let _ = stream.shutdown().await;
    })
    .await;
}

/// A connection that holds its place under the limit for as long as it is open, through an
/// upgrade to a WebSocket too (the upgraded socket owns it).
struct Counted {
    stream: TcpStream,
    _permit: OwnedSemaphorePermit,
    _open: Held,
}

impl AsyncRead for Counted {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Counted {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forwarded(values: &[&str]) -> Option<std::net::IpAddr> {
        let mut request = Request::builder();
        for value in values {
            request = request.header("x-forwarded-for", *value);
        }
        forwarded_for(&request.body(()).unwrap())
    }

    #[test]
    fn the_address_is_the_one_the_proxy_added_last() {
        assert_eq!(forwarded(&["203.0.113.7"]), Some("203.0.113.7".parse().unwrap()));
        assert_eq!(forwarded(&["10.0.0.1, 203.0.113.7"]), Some("203.0.113.7".parse().unwrap()));
        assert_eq!(forwarded(&["1.2.3.4", "2001:db8::1"]), Some("2001:db8::1".parse().unwrap()));
        assert_eq!(forwarded(&["not an address"]), None);
        assert_eq!(forwarded(&[]), None);
    }
}
