//! The sockets of a run: room sockets (some of which send) and `/ws/chat/` sockets.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio::sync::{oneshot, watch, Semaphore};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::people::{Base, Person};
use crate::Args;

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Microseconds since the run began (monotonic; sender and receivers share this process).
fn now_us() -> u64 {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    EPOCH.get_or_init(Instant::now).elapsed().as_micros() as u64
}

/// Recognises this run's messages: their bodies are `lt:<run>:<sender>:<n>:<sent at, µs>`.
pub struct Marker {
    needle: String,
}

impl Marker {
    pub fn new(run: u32) -> Self {
        Self { needle: format!("\"body\":\"lt:{run}:") }
    }

    fn body(&self, run: u32, sender: usize, n: u64) -> String {
        format!("lt:{run}:{sender}:{n}:{}", now_us())
    }

    /// The sender and send time of one of this run's messages.
    fn parse(&self, text: &str) -> Option<(usize, u64)> {
        let start = text.find(&self.needle)? + self.needle.len();
        let rest = &text[start..];
        let rest = &rest[..rest.find('"')?];
        let mut parts = rest.split(':');
        let sender = parts.next()?.parse().ok()?;
        let _n: u64 = parts.next()?.parse().ok()?;
        let sent_at = parts.next()?.parse().ok()?;
        Some((sender, sent_at))
    }
}

/// Opens a socket as a browser does: cookie, `Origin`, and Nagle's algorithm off (browsers
/// send small frames at once too).
async fn connect(base: &Base, path: &str, person: &Person) -> anyhow::Result<Socket> {
    let mut request = format!("{}{path}", base.ws).into_client_request()?;
    request.headers_mut().insert("Cookie", HeaderValue::from_str(&person.cookie)?);
    request.headers_mut().insert("Origin", HeaderValue::from_str(&base.origin)?);
    let (socket, _) = tokio::time::timeout(
        Duration::from_secs(20),
        tokio_tungstenite::connect_async_with_config(request, None, true),
    )
    .await
    .map_err(|_| anyhow::anyhow!("opening {path} as {} timed out", person.username))??;
    Ok(socket)
}

/// How one sender sends.
#[derive(Clone)]
pub struct SenderPlan {
    id: usize,
    /// Messages in all, at fixed times (`None`: as fast as acknowledgements allow).
    schedule: Option<(u64, Duration, Duration)>,
    duration: Duration,
    in_flight: usize,
}

impl SenderPlan {
    pub fn new(args: &Args, id: usize) -> Self {
        let duration = Duration::from_secs_f64(args.duration);
        let schedule = (args.rate > 0.0).then(|| {
            let per_sender = args.rate / args.senders as f64;
            let count = (per_sender * args.duration).round() as u64;
            let period = Duration::from_secs_f64(1.0 / per_sender);
            // Senders are spread over one period, not all at its start.
            let phase = period.mul_f64(id as f64 / args.senders as f64);
            (count, period, phase)
        });
        Self { id, schedule, duration, in_flight: args.in_flight.max(1) }
    }
}

/// What a room socket saw.
#[derive(Default)]
pub struct RoomStats {
    pub latencies_us: Vec<u32>,
    pub acked: u64,
    pub errors: u64,
    /// Why the server closed it, if it did before the run ended.
    pub closed_by_server: Option<String>,
}

pub struct RoomSocket {
    start: watch::Sender<Option<Instant>>,
    /// Stops the reader first, then (once it has stopped) the writer closes the socket, so
    /// the closing handshake is never counted as the server closing it.
    stop: watch::Sender<bool>,
    close: watch::Sender<bool>,
    reader: JoinHandle<RoomStats>,
    /// How many messages the writer sent, once it is done sending.
    sent: Option<oneshot::Receiver<u64>>,
}

impl RoomSocket {
    pub async fn open(
        base: Base,
        person: Person,
        room: String,
        plan: Option<SenderPlan>,
        marker: Arc<Marker>,
        arrived: Arc<AtomicU64>,
    ) -> anyhow::Result<Self> {
        let socket = connect(&base, &format!("/ws/chatroom/{room}/"), &person).await?;
        let (sink, stream) = socket.split();
        let (start, start_rx) = watch::channel(None);
        let (stop, stop_rx) = watch::channel(false);
        let (close, close_rx) = watch::channel(false);
        let permits = Arc::new(Semaphore::new(plan.as_ref().map_or(0, |p| p.in_flight)));
        let me = plan.as_ref().map(|p| p.id);
        let reader = tokio::spawn(read_room(stream, marker.clone(), arrived, me, permits.clone(), stop_rx));
        let (sent, sent_rx) = oneshot::channel();
        tokio::spawn(write_room(sink, plan, marker, permits, start_rx, close_rx, sent));
        Ok(Self { start, stop, close, reader, sent: Some(sent_rx) })
    }

    pub fn start_sending(&self, at: Instant) {
        let _ = self.start.send(Some(at));
    }

    /// Waits until this socket sent everything it was to send; gives how many it sent.
    pub async fn wait_sent(&mut self) -> u64 {
        match self.sent.take() {
            Some(count) => count.await.unwrap_or(0),
            None => 0,
        }
    }

    pub async fn finish(self) -> RoomStats {
        let _ = self.stop.send(true);
        let stats = self.reader.await.unwrap_or_default();
        let _ = self.close.send(true);
        stats
    }
}

async fn read_room(
    mut stream: SplitStream<Socket>,
    marker: Arc<Marker>,
    arrived: Arc<AtomicU64>,
    me: Option<usize>,
    permits: Arc<Semaphore>,
    mut stop: watch::Receiver<bool>,
) -> RoomStats {
    let mut stats = RoomStats { latencies_us: Vec::with_capacity(1024), ..Default::default() };
    loop {
        tokio::select! {
            _ = stop.changed() => return stats,
            frame = stream.next() => match frame {
                Some(Ok(Message::Text(text))) => {
                    if let Some((sender, sent_at)) = marker.parse(&text) {
                        let latency = now_us().saturating_sub(sent_at);
                        stats.latencies_us.push(latency.min(u32::MAX as u64) as u32);
                        arrived.fetch_add(1, Ordering::Relaxed);
                        if Some(sender) == me {
                            stats.acked += 1;
                            permits.add_permits(1);
                        }
                    } else if text.starts_with("{\"type\":\"error\"") {
                        stats.errors += 1;
                        // A refused message is not waited for.
                        permits.add_permits(1);
                    }
                }
                Some(Ok(Message::Close(frame))) => {
                    stats.closed_by_server = Some(frame.map_or_else(|| "no reason".into(), |f| format!("{} {}", u16::from(f.code), f.reason)));
                    return stats;
                }
                Some(Ok(_)) => {}
                Some(Err(error)) => {
                    stats.closed_by_server = Some(format!("error: {error}"));
                    return stats;
                }
                None => {
                    stats.closed_by_server = Some("ended".into());
                    return stats;
                }
            }
        }
    }
}

async fn write_room(
    mut sink: SplitSink<Socket, Message>,
    plan: Option<SenderPlan>,
    marker: Arc<Marker>,
    permits: Arc<Semaphore>,
    mut start: watch::Receiver<Option<Instant>>,
    mut stop: watch::Receiver<bool>,
    done: oneshot::Sender<u64>,
) {
    let mut sent = 0;
    if let Some(plan) = plan {
        let Ok(at) = start.wait_for(Option::is_some).await.map(|at| at.expect("set")) else { return };
        let run = marker.needle.trim_start_matches("\"body\":\"lt:").trim_end_matches(':').parse().unwrap_or(0);
        match plan.schedule {
            Some((count, period, phase)) => {
                for n in 0..count {
                    tokio::time::sleep_until((at + phase + period * n as u32).into()).await;
                    if send(&mut sink, &marker, run, plan.id, n).await.is_err() {
                        break;
                    }
                    sent += 1;
                }
            }
            None => {
                let until = at + plan.duration;
                while Instant::now() < until {
                    let Ok(Ok(permit)) = tokio::time::timeout(until - Instant::now(), permits.acquire()).await else {
                        break;
                    };
                    permit.forget();
                    if send(&mut sink, &marker, run, plan.id, sent).await.is_err() {
                        break;
                    }
                    sent += 1;
                }
            }
        }
    }
    // Hand the count back now; the socket stays open until the run ends.
    let _ = done.send(sent);
    let _ = stop.wait_for(|stopped| *stopped).await;
    let _ = sink.close().await;
}

async fn send(
    sink: &mut SplitSink<Socket, Message>,
    marker: &Marker,
    run: u32,
    sender: usize,
    n: u64,
) -> Result<(), ()> {
    let frame = serde_json::json!({ "body": marker.body(run, sender, n), "client_id": format!("l{run}-{sender}-{n}") });
    sink.send(Message::Text(frame.to_string().into())).await.map_err(drop)
}

/// Posts `count` messages in `room` as `person` before the measured part (a backlog of
/// unread messages for the others), `window` at a time.
pub async fn post_backlog(base: &Base, person: &Person, room: &str, count: usize, run: u32) -> anyhow::Result<()> {
    let socket = connect(base, &format!("/ws/chatroom/{room}/"), person).await?;
    let (mut sink, mut stream) = socket.split();
    let window = 200usize;
    let deadline = Instant::now() + Duration::from_secs(300);
    let (mut sent, mut acked) = (0usize, 0usize);
    while acked < count && Instant::now() < deadline {
        while sent < count && sent - acked < window {
            let frame = serde_json::json!({ "body": format!("bl:{sent}"), "client_id": format!("b{run}-{sent}") });
            sink.send(Message::Text(frame.to_string().into())).await?;
            sent += 1;
        }
        match tokio::time::timeout(Duration::from_secs(10), stream.next()).await {
            Ok(Some(Ok(Message::Text(text)))) if text.contains("\"body\":\"bl:") => acked += 1,
            Ok(Some(Ok(Message::Text(text)))) if text.starts_with("{\"type\":\"error\"") => {
                anyhow::bail!("the backlog was refused: {text}")
            }
            Ok(Some(Ok(_))) => {}
            other => anyhow::bail!("the backlog socket ended: {other:?}"),
        }
    }
    anyhow::ensure!(acked == count, "only {acked} of {count} backlog messages were stored in time");
    let _ = sink.close().await;
    Ok(())
}

/// What a `/ws/chat/` socket saw.
#[derive(Default)]
pub struct AppStats {
    pub events: u64,
    pub last_unread: Option<u32>,
    pub unread_at_start: Option<u32>,
    pub closed_by_server: Option<String>,
}

pub struct AppSocket {
    pub person: Person,
    stop: watch::Sender<bool>,
    reader: JoinHandle<AppStats>,
}

impl AppSocket {
    pub async fn open(base: Base, person: Person, room: String) -> anyhow::Result<Self> {
        let socket = connect(&base, "/ws/chat/", &person).await?;
        let (stop, mut stop_rx) = watch::channel(false);
        let room_needle = format!("\"room\":\"{room}\"");
        let reader = tokio::spawn(async move {
            let (mut sink, mut stream) = socket.split();
            let mut stats = AppStats::default();
            loop {
                tokio::select! {
                    _ = stop_rx.changed() => break,
                    frame = stream.next() => match frame {
                        Some(Ok(Message::Text(text))) => {
                            stats.events += 1;
                            if text.starts_with("{\"type\":\"unread\"") && text.contains(&room_needle) {
                                stats.last_unread = count_of(&text);
                            }
                        }
                        Some(Ok(Message::Close(frame))) => {
                            stats.closed_by_server = Some(format!("{frame:?}"));
                            break;
                        }
                        Some(Ok(_)) => {}
                        Some(Err(error)) => {
                            stats.closed_by_server = Some(error.to_string());
                            break;
                        }
                        None => {
                            stats.closed_by_server = Some("ended".into());
                            break;
                        }
                    }
                }
            }
            let _ = sink.close().await;
            stats
        });
        Ok(Self { person, stop, reader })
    }

    pub async fn finish(self) -> AppStats {
        let _ = self.stop.send(true);
        self.reader.await.unwrap_or_default()
    }
}

fn count_of(text: &str) -> Option<u32> {
    let start = text.find("\"count\":")? + "\"count\":".len();
    let digits: String = text[start..].chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}
