//! What a running server is doing, in the Prometheus text format (`GET /metrics`): sockets
//! open, messages stored, deliveries, sockets dropped, limits that refused, post latency, the
//! database pool and the bus. Counting is an atomic add where the work happens (once per
//! message, per socket written to, per refusal); what can be read off the state (the pool, the
//! bus) is read when scraped.

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry, TextEncoder,
};

/// The server's metrics, registered once per application.
pub struct Metrics {
    registry: Registry,
    /// `chat_sockets_open{kind="room"|"user"}`.
    sockets: IntGaugeVec,
    /// `chat_connections_open`: HTTP connections, sockets included.
    pub connections: IntGauge,
    /// `chat_messages_stored_total`.
    pub messages_stored: IntCounter,
    /// `chat_deliveries_total`: frames written to room sockets (messages, counts, typing…).
    pub deliveries: IntCounter,
    /// `chat_sockets_dropped_total{reason="lagging"}`.
    dropped: IntCounterVec,
    /// `chat_rate_limited_total{limit=…}`.
    refused: IntCounterVec,
    /// `chat_pushes_total{outcome=…}`.
    pushes: IntCounterVec,
    /// `chat_post_seconds{stage="stored"|"fanned_out"}`: from a message reaching the committer
    /// to its commit, and to its broadcast to the room's sockets.
    post: HistogramVec,
    /// `chat_db_connections{state="in_use"|"idle"}`, read when scraped.
    pool: IntGaugeVec,
    /// `chat_bus_connected` (with Redis only), read when scraped.
    bus: IntGauge,
}

/// One of what a gauge counts (an open socket, a connection), counted while it lives.
pub struct Held(IntGauge);

impl Held {
    pub fn new(gauge: IntGauge) -> Self {
        gauge.inc();
        Self(gauge)
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// The kinds of socket counted apart.
#[derive(Debug, Clone, Copy)]
pub enum SocketKind {
    Room,
    User,
    Provisioning,
}

impl SocketKind {
    fn label(self) -> &'static str {
        match self {
            SocketKind::Room => "room",
            SocketKind::User => "user",
            SocketKind::Provisioning => "provisioning",
        }
    }
}

/// A stage of a post, for its latency.
#[derive(Debug, Clone, Copy)]
pub enum Stage {
    Stored,
    FannedOut,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let registry = Registry::new();
        let sockets = IntGaugeVec::new(Opts::new("chat_sockets_open", "WebSockets open, by kind"), &["kind"]).unwrap();
        let connections =
            IntGauge::new("chat_connections_open", "HTTP connections open (WebSockets included)").unwrap();
        let messages_stored = IntCounter::new("chat_messages_stored_total", "Messages stored").unwrap();
        let deliveries =
            IntCounter::new("chat_deliveries_total", "Frames written to room sockets (messages, counts, typing)")
                .unwrap();
        let dropped = IntCounterVec::new(
            Opts::new("chat_sockets_dropped_total", "Sockets closed by the server, by reason"),
            &["reason"],
        )
        .unwrap();
        let refused = IntCounterVec::new(
            Opts::new("chat_rate_limited_total", "Requests and frames refused (or delayed) by a limit, by limit"),
            &["limit"],
        )
        .unwrap();
        let pushes = IntCounterVec::new(
            Opts::new(
                "chat_pushes_total",
                "Web Pushes posted to push services, by outcome (accepted, gone, failed, dropped)",
            ),
            &["outcome"],
        )
        .unwrap();
        let post = HistogramVec::new(
            HistogramOpts::new("chat_post_seconds", "Seconds from a message reaching the committer to each stage")
                .buckets(vec![0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5]),
            &["stage"],
        )
        .unwrap();
        let pool =
            IntGaugeVec::new(Opts::new("chat_db_connections", "Database pool connections, by state"), &["state"])
                .unwrap();
        let bus = IntGauge::new("chat_bus_connected", "1 while the Redis subscription is up (with REDIS_URL)").unwrap();
        for collector in [
            Box::new(sockets.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(connections.clone()),
            Box::new(messages_stored.clone()),
            Box::new(deliveries.clone()),
            Box::new(dropped.clone()),
            Box::new(refused.clone()),
            Box::new(pushes.clone()),
            Box::new(post.clone()),
            Box::new(pool.clone()),
        ] {
            registry.register(collector).expect("metric names are unique");
        }
        // Every kind shows from the start, at 0.
        for kind in [SocketKind::Room, SocketKind::User, SocketKind::Provisioning] {
            sockets.with_label_values(&[kind.label()]);
        }
        Self { registry, sockets, connections, messages_stored, deliveries, dropped, refused, pushes, post, pool, bus }
    }

    /// Counts a socket open until the gauge is dropped.
    pub fn socket_opened(&self, kind: SocketKind) -> Held {
        Held::new(self.sockets.with_label_values(&[kind.label()]))
    }

    pub fn dropped_lagging(&self) {
        self.dropped.with_label_values(&["lagging"]).inc();
    }

    /// A limit refused (or delayed) something: `messages`, `frames`, `sockets`, or the kind of
    /// a database-counted key (`account`, `login-from`, `signup-from`, `rooms-by`, …).
    pub fn refused(&self, limit: &str) {
        self.refused.with_label_values(&[limit]).inc();
    }

    /// A push went to a push service (`accepted`, `gone`, `failed`), or was not sent because
    /// the queue was full (`dropped`).
    pub fn pushed(&self, outcome: &str) {
        self.pushes.with_label_values(&[outcome]).inc();
    }

    pub fn post_took(&self, stage: Stage, seconds: f64) {
        let label = match stage {
            Stage::Stored => "stored",
            Stage::FannedOut => "fanned_out",
        };
        self.post.with_label_values(&[label]).observe(seconds);
    }

    /// The text a scrape gets, with the pool's state (`in_use`, `idle`) and the bus's (`None`
    /// without Redis) as they are now.
    pub fn render(&self, pool: (u32, u32), bus: Option<bool>) -> String {
        self.pool.with_label_values(&["in_use"]).set(i64::from(pool.0));
        self.pool.with_label_values(&["idle"]).set(i64::from(pool.1));
        let mut families = self.registry.gather();
        if let Some(connected) = bus {
            self.bus.set(i64::from(connected));
            families.extend(prometheus::core::Collector::collect(&self.bus));
        }
        let mut text = Vec::new();
        TextEncoder::new().encode(&families, &mut text).expect("text encoding cannot fail");
        String::from_utf8(text).expect("the text format is UTF-8")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scrape_shows_what_was_counted() {
        let metrics = Metrics::new();
        let room = metrics.socket_opened(SocketKind::Room);
        let _user = metrics.socket_opened(SocketKind::User);
        let _second = metrics.socket_opened(SocketKind::Room);
        drop(room);
        metrics.messages_stored.inc_by(3);
        metrics.refused("messages");
        metrics.post_took(Stage::Stored, 0.003);
        let text = metrics.render((2, 3), None);
        assert!(text.contains("chat_sockets_open{kind=\"room\"} 1"), "{text}");
        assert!(text.contains("chat_sockets_open{kind=\"user\"} 1"));
        assert!(text.contains("chat_sockets_open{kind=\"provisioning\"} 0"));
        assert!(text.contains("chat_messages_stored_total 3"));
        assert!(text.contains("chat_rate_limited_total{limit=\"messages\"} 1"));
        assert!(text.contains("chat_post_seconds_bucket{stage=\"stored\",le=\"0.005\"} 1"));
        assert!(text.contains("chat_db_connections{state=\"in_use\"} 2"));
        assert!(!text.contains("chat_bus_connected"), "no bus without Redis");
        assert!(metrics.render((0, 0), Some(true)).contains("chat_bus_connected 1"));
    }
}
