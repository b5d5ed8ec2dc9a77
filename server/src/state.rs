//! What every request handler shares: handles to the database, the hub, the committer, the
//! avatar and shared files, and the configuration. Data only: the operations on it live in `services`.

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::prelude::LeptosOptions;

use crate::avatars::Avatars;
use crate::config::Config;
use crate::files::Files;
use crate::metrics::Metrics;
use crate::realtime::hub::Hub;
use crate::realtime::redis::RedisBroker;
use crate::services::committer::Committer;
use crate::services::push::Pusher;
use crate::services::throttle::{Buckets, SocketSlots};
use crate::store::Store;

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub hub: Arc<Hub>,
    pub config: Arc<Config>,
    pub avatars: Avatars,
    /// Files shared with messages.
    pub files: Files,
    /// Where every message is stored (in batches) and published from.
    pub committer: Committer,
    /// Where private messages and mentions go out as Web Pushes.
    pub push: Pusher,
    /// How fast each person may post (on this instance).
    pub posting: Arc<Buckets>,
    /// How fast each person may send read and typing frames (on this instance).
    pub frames: Arc<Buckets>,
    /// How many sockets each person holds open (on this instance).
    pub sockets: Arc<SocketSlots>,
    /// Turns `true` when the server is stopping: every socket finishes what it was doing and
    /// closes with 1012 ("restarting"), so that clients come back at once (to this instance
    /// restarted, or another).
    pub stopping: Arc<tokio::sync::watch::Sender<bool>>,
    /// What `/metrics` tells.
    pub metrics: Arc<Metrics>,
    /// The Redis broker, with several instances (`REDIS_URL`).
    pub bus: Option<Arc<RedisBroker>>,
    pub leptos_options: LeptosOptions,
    /// The names of the page's own files under `/pkg/` (read from the built site).
    pub assets: Arc<app::Assets>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}
