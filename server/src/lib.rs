//! The chat server. `Application::build` wires configuration, storage and the hub;
//! `run_until_stopped` starts the background jobs and serves the routes of `http`. `main` only
//! parses the command line. Integration tests build the same application on port 0.
//!
//! Imports run one way: `http` → `services` → `realtime`, `store`, `auth`, `avatars`, `files`, `webpush`; `state`
//! holds the handles they share, `config` what they are told.

pub mod auth;
pub mod avatars;
pub mod cli;
pub mod config;
mod error;
pub mod files;
pub mod http;
mod jobs;
pub mod metrics;
pub mod realtime;
pub mod services;
pub mod state;
pub mod store;
pub mod webpush;

use std::sync::Arc;

use leptos::prelude::*;
use tokio::net::TcpListener;

use crate::avatars::Avatars;
use crate::config::Config;
use crate::files::Files;
use crate::metrics::Metrics;
use crate::realtime::hub::Hub;
use crate::realtime::redis;
use crate::services::committer::Committer;
use crate::services::push::{PushSettings, Pusher};
use crate::services::throttle::{Buckets, SocketSlots};
use crate::state::AppState;
use crate::store::Store;

pub struct Application {
    listener: TcpListener,
    state: AppState,
}

impl Application {
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let store = Store::connect(&config.database_url, config.sqlite_sync).await?;
        let listener = TcpListener::bind(config.site_addr).await?;
        let leptos_options = LeptosOptions::builder()
            .output_name("chat")
            .site_root(config.site_root.to_string_lossy().into_owned())
            .site_pkg_dir("pkg")
            .site_addr(listener.local_addr()?)
            .build();
        let assets = Arc::new(http::assets::load(&config.site_root));
        let avatars = Avatars::new(config.data_dir.join("avatars"));
        let files = Files::new(config.data_dir.join("files"));
        let stale = files.clone();
        tokio::spawn(async move { stale.clear_stale().await });
        let hub = Hub::new();
        let bus = match &config.redis_url {
            Some(url) => Some(redis::start(&hub, url, &config.redis_prefix, config.presence_ttl)?),
            None => None,
        };
        let metrics = Arc::new(Metrics::new());
        let key_path = config.data_dir.join("vapid.pem");
        let key = webpush::VapidKey::load_or_create(&key_path)
            .map_err(|e| anyhow::anyhow!("the push notification key at {}: {e}", key_path.display()))?;
        let settings =
            PushSettings { key, services: config.push_services.clone(), contact: config.push_contact.clone() };
        let push = Pusher::start(store.clone(), hub.clone(), bus.clone(), metrics.clone(), settings);
        let committer = Committer::start(store.clone(), hub.clone(), metrics.clone(), files.clone(), push.clone());
        let limits = config.limits;
        let posting = Arc::new(Buckets::new(limits.messages_per_second, limits.message_burst));
        let frames = Arc::new(Buckets::new(limits.frames_per_second, limits.frames_per_second.saturating_mul(3)));
        let sockets = SocketSlots::new(limits.sockets_per_person);
        let state = AppState {
            store,
            hub,
            committer,
            push,
            posting,
            frames,
            sockets,
            metrics,
            stopping: Arc::new(tokio::sync::watch::Sender::new(false)),
            config: Arc::new(config),
            avatars,
            files,
            bus,
            leptos_options,
            assets,
        };
        Ok(Self { listener, state })
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or_default()
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until Ctrl-C or SIGTERM, then finishes the requests in flight and closes every
    /// socket (1012) once its frames are answered. The background jobs run while it serves.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let jobs = jobs::start(&self.state);
        let limits = http::serve::Limits {
            header_timeout: self.state.config.header_timeout,
            max_connections: self.state.config.max_connections,
            trust_forwarded_for: self.state.config.trust_forwarded_for,
            connections: self.state.metrics.connections.clone(),
        };
        let (stopping, sockets) = (self.state.stopping.clone(), self.state.sockets.clone());
        let stop = async move {
            shutdown_signal().await;
            stopping.send_replace(true);
        };
        let app = http::app(self.state);
        let served = http::serve::serve(self.listener, app, limits, stop).await;
        if !sockets.all_closed(SOCKETS_DRAIN).await {
            tracing::warn!("stopped with sockets still open");
        }
        jobs.stop();
        served
    }
}

/// How long a stop waits for the sockets to answer what they were sent and close.
const SOCKETS_DRAIN: std::time::Duration = std::time::Duration::from_secs(10);

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut signal) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            signal.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
