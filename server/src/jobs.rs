//! The background jobs of a running server, started together and stopped together: the hub's
//! flusher (unread counts, online counts and presence, every 100 ms), the reloads the Redis
//! broker asks for, and the watch for people suspended elsewhere. (The committer, which
//! every post waits for, starts with the state in `Application::build`.)

use std::time::Duration;

use tokio::task::JoinHandle;

use crate::services::messaging;
use crate::state::AppState;

/// How often a server looks for people suspended from the command line (or by another
/// instance), to close their sockets.
pub const SUSPENSION_POLL: Duration = Duration::from_secs(2);

pub struct Jobs(Vec<JoinHandle<()>>);

pub fn start(state: &AppState) -> Jobs {
    Jobs(vec![
        tokio::spawn(state.hub.clone().run_flusher()),
        tokio::spawn(messaging::serve_reloads(state.store.clone(), state.hub.clone())),
        tokio::spawn(watch_suspensions(state.clone())),
    ])
}

impl Jobs {
    pub fn stop(self) {
        for job in self.0 {
            job.abort();
        }
    }
}

/// Closes the sockets of people suspended elsewhere (`chat-server admin suspend`, or
/// another instance), polling the database. Runs for the life of the server.
async fn watch_suspensions(state: AppState) {
    let mut since = crate::store::now_ms();
    let mut ticks = tokio::time::interval(SUSPENSION_POLL);
    loop {
        ticks.tick().await;
        // A little overlap, so a suspension committed during the last query is not missed.
        let now = crate::store::now_ms();
        match state.store.suspended_since(since - 1000).await {
            Ok(ids) => {
                for id in ids {
                    state.hub.end_sockets_of(id);
                }
                since = now;
            }
            Err(error) => tracing::warn!(%error, "could not check for suspensions"),
        }
    }
}
