//! The chat's own load client: `cargo run --release -p loadtest -- --help`.
//!
//! It signs people up (or logs them in again), opens room sockets and `/ws/chat/` sockets as a
//! browser does (cookie and `Origin`), sends at a fixed rate from some of the room sockets,
//! and prints one JSON line: deliveries expected, arrived and lost, latency from send to each
//! arrival, sockets the server closed, and (given the server's pid) the server's CPU-seconds
//! and memory. Only loopback addresses are meant as targets; every loop is bounded in time.

mod people;
mod proc_stats;
mod sockets;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use futures_util::StreamExt;

use crate::people::Person;
use crate::sockets::{AppSocket, Marker, RoomSocket, SenderPlan};

#[derive(Parser, Debug, Clone)]
#[command(about = "Load client for the chat server: prints one JSON line of results")]
pub struct Args {
    /// The server's address.
    #[arg(long, default_value = "http://127.0.0.1:3000")]
    pub url: String,
    /// Usernames start with this; a second run with the same prefix logs the same people in.
    #[arg(long, default_value = "lt")]
    pub prefix: String,
    /// People who open room sockets (the sockets are spread over them, as tabs).
    #[arg(long, default_value_t = 100)]
    pub people: usize,
    /// Room sockets, in all (`--sockets 10000 --people 2000`: 5 tabs each).
    #[arg(long, default_value_t = 100)]
    pub sockets: usize,
    /// More people who only have the app open (`/ws/chat/`), somewhere else than the room.
    #[arg(long, default_value_t = 0)]
    pub app_open: usize,
    /// The room the sockets open (everyone is a member of `public-chat`).
    #[arg(long, default_value = "public-chat")]
    pub room: String,
    /// Instead of one shared room: each sender posts in a room of its own (created once), and
    /// nobody else is there. Measures how many messages per second are stored.
    #[arg(long, default_value_t = false)]
    pub own_rooms: bool,
    /// How many of the room sockets also send.
    #[arg(long, default_value_t = 10)]
    pub senders: usize,
    /// Messages per second from all senders together; 0 sends as fast as acknowledgements
    /// come back (with `--in-flight` messages unacknowledged per sender).
    #[arg(long, default_value_t = 100.0)]
    pub rate: f64,
    /// How long the senders send, in seconds.
    #[arg(long, default_value_t = 1.0)]
    pub duration: f64,
    /// With `--rate 0`: messages a sender may have waiting for their acknowledgement.
    #[arg(long, default_value_t = 1)]
    pub in_flight: usize,
    /// How long to wait after the last send for everything to arrive, in seconds.
    #[arg(long, default_value_t = 5.0)]
    pub drain: f64,
    /// Messages posted in the room before the app-open people connect (their unread backlog).
    #[arg(long, default_value_t = 0)]
    pub backlog: usize,
    /// Messages posted in each room before anything is measured, so the server's first
    /// messages (statements being prepared, pages read in) are not what is timed.
    #[arg(long, default_value_t = 20)]
    pub warmup: usize,
    /// How long to hold the sockets open before sending (idle memory is read at its end).
    #[arg(long, default_value_t = 2.0)]
    pub settle: f64,
    /// Sign-ups (or logins) at a time while preparing people.
    #[arg(long, default_value_t = 8)]
    pub signup_concurrency: usize,
    /// Sockets opened at a time.
    #[arg(long, default_value_t = 64)]
    pub connect_concurrency: usize,
    /// Only prepare the people (sign-ups), then report the server's memory.
    #[arg(long, default_value_t = false)]
    pub signup_only: bool,
    /// Where session cookies are kept between runs (skips logging in again).
    #[arg(long)]
    pub sessions: Option<std::path::PathBuf>,
    /// The server's process id: its CPU-seconds and RSS are reported.
    #[arg(long)]
    pub server_pid: Option<u32>,
    /// Another server process (an instance serving none of these sockets): its CPU-seconds
    /// over the same time are reported too.
    #[arg(long)]
    pub other_pid: Option<u32>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let started = Instant::now();
    let server = args.server_pid.map(proc_stats::Process::new);
    let rss_start = server.as_ref().and_then(|p| p.rss_kb());
    let http = reqwest::Client::builder().pool_max_idle_per_host(64).build()?;
    let base = people::Base::new(&args.url);

    let room_people = people::prepare(&http, &base, &args, "", args.people).await?;
    let app_people = people::prepare(&http, &base, &args, "app", args.app_open).await?;
    let rss_after_signups = server.as_ref().and_then(|p| p.rss_kb());
    if args.signup_only {
        let report = serde_json::json!({
            "scenario": "signups",
            "people": room_people.len() + app_people.len(),
            "seconds": started.elapsed().as_secs_f64(),
            "server_rss_kb_before": rss_start,
            "server_rss_kb_after": rss_after_signups,
        });
        println!("{report}");
        return Ok(());
    }

    // Which room each sender posts in (and each room socket opens).
    let rooms: Vec<String> = if args.own_rooms {
        people::own_rooms(&http, &base, &args, &room_people[..args.senders.min(room_people.len())]).await?
    } else {
        people::join(&http, &base, &args.room, &room_people).await;
        vec![args.room.clone()]
    };

    let run: u32 = rand::random::<u32>() % 1_000_000;
    let marker = Arc::new(Marker::new(run));

    if args.warmup > 0 {
        for (i, room) in rooms.iter().enumerate() {
            let person = &room_people[if args.own_rooms { i } else { 0 }];
            sockets::post_backlog(&base, person, room, args.warmup, run + 1_000_000).await?;
        }
    }
    if args.backlog > 0 {
        sockets::post_backlog(&base, &room_people[0], &rooms[0], args.backlog, run).await?;
    }

    // The app-open people, then the room sockets.
    let app_sockets: Vec<AppSocket> = futures_util::stream::iter(app_people.iter().cloned())
        .map(|person| AppSocket::open(base.clone(), person, rooms[0].clone()))
        .buffer_unordered(args.connect_concurrency)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<anyhow::Result<_>>()?;

    let arrived = Arc::new(AtomicU64::new(0));
    let socket_count = if args.own_rooms { args.senders } else { args.sockets };
    let rss_before_sockets = server.as_ref().and_then(|p| p.rss_kb());
    let plans: Vec<(Person, String, Option<SenderPlan>)> = (0..socket_count)
        .map(|i| {
            let person = room_people[i % room_people.len()].clone();
            let room = rooms[if args.own_rooms { i } else { 0 }].clone();
            let plan = (i < args.senders).then(|| SenderPlan::new(&args, i));
            (person, room, plan)
        })
        .collect();
    let mut room_sockets: Vec<RoomSocket> = futures_util::stream::iter(plans)
        .map(|(person, room, plan)| RoomSocket::open(base.clone(), person, room, plan, marker.clone(), arrived.clone()))
        .buffer_unordered(args.connect_concurrency)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<anyhow::Result<_>>()?;
    tokio::time::sleep(Duration::from_secs_f64(args.settle)).await;
    let rss_idle = server.as_ref().and_then(|p| p.rss_kb());

    // Send.
    let other = args.other_pid.map(proc_stats::Process::new);
    let other_before = other.as_ref().and_then(|p| p.cpu_seconds());
    let cpu_before = server.as_ref().and_then(|p| p.cpu_seconds());
    let own_cpu_before = proc_stats::Process::own().cpu_seconds();
    let send_start = Instant::now();
    for socket in &room_sockets {
        socket.start_sending(send_start);
    }
    let mut sent = 0u64;
    for socket in &mut room_sockets {
        sent += socket.wait_sent().await;
    }
    let send_seconds = send_start.elapsed().as_secs_f64();
    let receivers_per_message = if args.own_rooms { 1 } else { room_sockets.len() as u64 };
    let expected = sent * receivers_per_message;
    let drain_deadline = Instant::now() + Duration::from_secs_f64(args.drain);
    while arrived.load(Ordering::Relaxed) < expected && Instant::now() < drain_deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let total_seconds = send_start.elapsed().as_secs_f64();
    let cpu_after = server.as_ref().and_then(|p| p.cpu_seconds());
    let other_after = other.as_ref().and_then(|p| p.cpu_seconds());
    let own_cpu_after = proc_stats::Process::own().cpu_seconds();
    let rss_end = server.as_ref().and_then(|p| p.rss_kb());

    // Collect.
    let mut latencies: Vec<u32> = Vec::new();
    let mut closed = 0u64;
    let mut close_reasons: std::collections::BTreeMap<String, u64> = Default::default();
    let mut acked = 0u64;
    let mut errors = 0u64;
    for socket in room_sockets {
        let stats = socket.finish().await;
        latencies.extend(stats.latencies_us);
        acked += stats.acked;
        errors += stats.errors;
        if let Some(reason) = stats.closed_by_server {
            closed += 1;
            *close_reasons.entry(reason).or_default() += 1;
        }
    }
    let mut app_events = 0u64;
    let mut unread_exact = 0u64;
    let mut unread_wrong = 0u64;
    let mut app_closed = 0u64;
    for socket in app_sockets {
        let person = socket.person.clone();
        let stats = socket.finish().await;
        app_events += stats.events;
        if stats.closed_by_server.is_some() {
            app_closed += 1;
        }
        let truth = people::unread_of(&http, &base, &person, &rooms[0]).await;
        match (truth, stats.last_unread) {
            (Some(truth), Some(seen)) if truth == seen => unread_exact += 1,
            (Some(truth), None) if truth == stats.unread_at_start.unwrap_or(u32::MAX) => unread_exact += 1,
            _ => unread_wrong += 1,
        }
    }
    latencies.sort_unstable();
    let arrived = latencies.len() as u64;
    let pct = |p: f64| -> Option<f64> {
        (!latencies.is_empty()).then(|| {
            let index = ((latencies.len() as f64 * p).ceil() as usize).clamp(1, latencies.len()) - 1;
            latencies[index] as f64 / 1000.0
        })
    };
    let cpu = match (cpu_before, cpu_after) {
        (Some(a), Some(b)) => Some(b - a),
        _ => None,
    };
    let per_socket = match (rss_before_sockets, rss_idle) {
        (Some(a), Some(b)) if socket_count > 0 => Some((b.saturating_sub(a)) as f64 * 1024.0 / socket_count as f64),
        _ => None,
    };
    let report = serde_json::json!({
        "room_sockets": socket_count,
        "app_open": app_people.len(),
        "senders": args.senders,
        "rate": args.rate,
        "duration_s": args.duration,
        "backlog": args.backlog,
        "sent": sent,
        "acked": acked,
        "errors": errors,
        "send_seconds": send_seconds,
        "stored_per_s": acked as f64 / send_seconds,
        "expected": expected,
        "arrived": arrived,
        "lost": expected.saturating_sub(arrived),
        "deliveries_per_s": arrived as f64 / total_seconds,
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
        "max_ms": latencies.last().map(|l| *l as f64 / 1000.0),
        "closed_by_server": closed,
        "close_reasons": close_reasons,
        "app_events": app_events,
        "app_closed_by_server": app_closed,
        "unread_exact": unread_exact,
        "unread_wrong": unread_wrong,
        "server_cpu_s": cpu,
        "deliveries_per_server_cpu_s": cpu.map(|c| arrived as f64 / c.max(1e-9)),
        "client_cpu_s": match (own_cpu_before, own_cpu_after) { (Some(a), Some(b)) => Some(b - a), _ => None },
        "other_server_cpu_s": match (other_before, other_after) { (Some(a), Some(b)) => Some(b - a), _ => None },
        "server_rss_kb_start": rss_start,
        "server_rss_kb_idle": rss_idle,
        "server_rss_kb_end": rss_end,
        "server_bytes_per_idle_socket": per_socket,
    });
    println!("{report}");
    Ok(())
}
