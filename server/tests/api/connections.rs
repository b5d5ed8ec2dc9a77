//! Connection hygiene: a request header that trickles in is cut off, and connections over the
//! limit (WebSockets included) are refused with a clear answer.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::spawn_app_with;

/// Sends `request` on a fresh connection and reads until the server closes it (or 5 s pass).
async fn exchange(port: u16, request: &str) -> (String, Duration) {
    let started = Instant::now();
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer)).await;
    (String::from_utf8_lossy(&answer).into_owned(), started.elapsed())
}

#[tokio::test]
async fn a_request_header_that_never_ends_is_cut_off() {
    let app = spawn_app_with(|config| config.header_timeout = Duration::from_secs(1)).await;
    let mut stream = TcpStream::connect(("127.0.0.1", app.port)).await.unwrap();
    stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n").await.unwrap();
    let started = Instant::now();
    let mut answer = Vec::new();
    // One more header line every 300 ms: never the end of the header.
    let trickle = async {
        loop {
            tokio::time::sleep(Duration::from_millis(300)).await;
            if stream.write_all(b"X-Slow: 1\r\n").await.is_err() {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(5), trickle).await;
    let _ = tokio::time::timeout(Duration::from_secs(1), stream.read_to_end(&mut answer)).await;
    assert!(started.elapsed() < Duration::from_secs(4), "the connection was closed at its deadline");
    assert!(!String::from_utf8_lossy(&answer).contains("200 OK"), "no answer to half a request");
    // A whole request on time is answered as usual.
    let (answer, _) = exchange(app.port, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

#[tokio::test]
async fn connections_over_the_limit_are_told_to_come_back_and_sockets_count() {
    let app = spawn_app_with(|config| config.max_connections = 2).await;
    let ana = app.signup("ana").await;
    // The sign-up's own connection closes with its client; give the server a moment to see it.
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Two WebSockets hold both places.
    let first = app.user_socket(&ana).await;
    let second = app.user_socket(&ana).await;
    let (answer, _) = exchange(app.port, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").await;
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.contains("Retry-After: 5") && answer.contains("connection limit"), "{answer}");
    // A socket that closes gives its place back.
    drop(first);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let (answer, _) =
            exchange(app.port, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").await;
        if answer.starts_with("HTTP/1.1 200") {
            break;
        }
        assert!(Instant::now() < deadline, "the place never came back: {answer}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    drop(second);
}
