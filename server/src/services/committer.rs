//! The committer: where every message, from a socket or a form, is stored and published.
//!
//! **Group commit.** Every message, from a socket or a form, goes through one [`Committer`]
//! task per instance. It takes whatever messages are waiting (up to [`MAX_BATCH`]), stores
//! them in one transaction (one commit, one fsync), then publishes them in order and answers
//! each sender. One task publishing in commit order means each room's messages go out in
//! `seq` order; a socket waiting for its answer keeps delivering (see `sockets::room`).
//!

use std::sync::Arc;
use std::time::Instant;

use app::domain::{ClientId, MessageBody};
use app::model::RoomKind;
use app::protocol::{ChatMessage, Notice, ServerEvent, UserEvent};
use axum::extract::ws::Utf8Bytes;
use tokio::sync::{mpsc, oneshot};

use crate::files::{Files, Prepared};
use crate::metrics::{Metrics, Stage};
use crate::realtime::hub::{self, Hub};
use crate::services::push::Pusher;
use crate::store::{Inserted, NewAttachment, NewMessage, Room, Store, StoreError, User};

/// The most messages stored in one transaction.
pub const MAX_BATCH: usize = 512;

/// How many messages may wait for the committer; a sender past that waits for room.
const QUEUE: usize = 8192;

/// A message that was posted: now, or before under the same client id.
#[derive(Debug)]
pub enum Posted {
    New(ChatMessage),
    Again(ChatMessage),
}

/// Why a message was not posted.
#[derive(Debug, thiserror::Error)]
pub enum PostError {
    #[error("join the room to post in it")]
    NotMember,
    #[error("the room no longer exists")]
    RoomGone,
    #[error("the message you answer does not exist, or was deleted")]
    NoSuchReply,
    #[error("messages are coming too fast")]
    TooFast(std::time::Duration),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a sender is answered.
pub type Answer = Result<Posted, PostError>;

struct Job {
    room: Arc<Room>,
    author: Arc<User>,
    body: MessageBody,
    client_id: Option<ClientId>,
    /// The `seq` of the message it answers.
    reply_to: Option<i64>,
    /// Files it shares, received and typed, put in place once it is committed.
    files: Vec<Prepared>,
    answer: oneshot::Sender<Answer>,
    /// When it reached the committer, for the post latency.
    received: Instant,
}

/// The way to the committer task.
#[derive(Clone)]
pub struct Committer {
    queue: mpsc::Sender<Job>,
}

/// A message to store.
pub struct Post {
    pub room: Arc<Room>,
    pub author: Arc<User>,
    pub body: MessageBody,
    pub client_id: Option<ClientId>,
    /// The `seq` of the message it answers.
    pub reply_to: Option<i64>,
    pub files: Vec<Prepared>,
}

impl Committer {
    /// Starts the committer task for this instance.
    pub fn start(store: Store, hub: Arc<Hub>, metrics: Arc<Metrics>, files: Files, push: Pusher) -> Self {
        let (queue, jobs) = mpsc::channel(QUEUE);
        tokio::spawn(commit_loop(store, hub, metrics, files, push, jobs));
        Self { queue }
    }

    /// Hands a message (from a member) to the committer; the answer comes once it is stored
    /// and published.
    pub async fn submit(
        &self,
        room: Arc<Room>,
        author: Arc<User>,
        body: MessageBody,
        client_id: Option<ClientId>,
        reply_to: Option<i64>,
    ) -> oneshot::Receiver<Answer> {
        self.post(Post { room, author, body, client_id, reply_to, files: Vec::new() }).await
    }

    /// Hands a message that may share files to the committer (see [`Committer::submit`]).
    pub async fn post(&self, post: Post) -> oneshot::Receiver<Answer> {
        let (answer, receiver) = oneshot::channel();
        let Post { room, author, body, client_id, reply_to, files } = post;
        let job = Job { room, author, body, client_id, reply_to, files, answer, received: Instant::now() };
        if let Err(mpsc::error::SendError(job)) = self.queue.send(job).await {
            Files::discard(job.files).await;
            let _ = job.answer.send(Err(PostError::Store(StoreError::Database(sqlx::Error::PoolClosed))));
        }
        receiver
    }
}

async fn commit_loop(
    store: Store,
    hub: Arc<Hub>,
    metrics: Arc<Metrics>,
    files: Files,
    push: Pusher,
    mut jobs: mpsc::Receiver<Job>,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while jobs.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let outcomes = match store_all(&store, &batch).await {
            Ok(outcomes) => outcomes.into_iter().map(Ok).collect(),
            // One bad message must not sink the others: store them one by one.
            Err(error) => {
                tracing::warn!(%error, messages = batch.len(), "a batch of messages failed; storing them one by one");
                let mut outcomes = Vec::with_capacity(batch.len());
                for job in &batch {
                    outcomes.push(store_all(&store, std::slice::from_ref(job)).await.map(|mut o| o.remove(0)));
                }
                outcomes
            }
        };
        let stored_at = Instant::now();
        for (mut job, outcome) in batch.drain(..).zip(outcomes) {
            let shared = std::mem::take(&mut job.files);
            match &outcome {
                // In place before anyone hears of the message, so its links work at once.
                Ok(Inserted::New(_)) if !shared.is_empty() => files.place(shared).await,
                _ => Files::discard(shared).await,
            }
            let answer = match outcome {
                Ok(Inserted::New(stored)) => {
                    let message = stored.into_wire(&job.room.name);
                    let text = hub::encode(&ServerEvent::Message(message.clone()));
                    hub.publish_message(job.room.id, message.seq, Some(job.author.id), text);
                    metrics.messages_stored.inc();
                    metrics.post_took(Stage::Stored, (stored_at - job.received).as_secs_f64());
                    metrics.post_took(Stage::FannedOut, job.received.elapsed().as_secs_f64());
                    if job.room.kind() == RoomKind::Direct || !app::domain::mentions(&message.body).is_empty() {
                        let (store, hub, push, room, author) =
                            (store.clone(), hub.clone(), push.clone(), job.room.clone(), job.author.clone());
                        let message = message.clone();
                        tokio::spawn(async move { notify_people(&store, &hub, &push, &room, &author, &message).await });
                    }
                    Ok(Posted::New(message))
                }
                Ok(Inserted::Again(stored)) => Ok(Posted::Again(stored.into_wire(&job.room.name))),
                Ok(Inserted::Gone) => Err(PostError::RoomGone),
                Ok(Inserted::NoSuchReply) => Err(PostError::NoSuchReply),
                Err(error) => Err(PostError::Store(error)),
            };
            // A sender that went away meanwhile needs no answer.
            let _ = job.answer.send(answer);
        }
    }
}

async fn store_all(store: &Store, jobs: &[Job]) -> Result<Vec<Inserted>, StoreError> {
    let mentioned: Vec<Vec<String>> = jobs.iter().map(|job| app::domain::mentions(job.body.as_str())).collect();
    let shared: Vec<Vec<NewAttachment>> =
        jobs.iter().map(|job| job.files.iter().map(|file| file.attachment.clone()).collect()).collect();
    let messages: Vec<NewMessage> = jobs
        .iter()
        .zip(mentioned.iter().zip(&shared))
        .map(|(job, (mentions, attachments))| NewMessage {
            room_id: job.room.id,
            author_id: job.author.id,
            body: job.body.as_str(),
            client_id: job.client_id.as_ref().map(ClientId::as_str),
            reply_to: job.reply_to,
            mentions,
            attachments,
        })
        .collect();
    store.insert_messages(&messages).await
}

/// Sends a `notify` event for a new message to the other person of a private chat and to
/// the members it mentions: their pages decide whether to show it (only when not in view);
/// those with no page open get it pushed to their browsers.
async fn notify_people(store: &Store, hub: &Hub, push: &Pusher, room: &Room, author: &User, message: &ChatMessage) {
    let mut told: Vec<i64> = Vec::new();
    if room.kind() == RoomKind::Direct {
        match store.other_member(room, author.id).await {
            Ok(Some(other)) => {
                let title = author.shown_name();
                push.notify(vec![other.id], &Notice::new(&title, message, false));
                let event = UserEvent::Notify { title, message: message.clone(), mention: false };
                hub.notify_user(other.id, Utf8Bytes::from(event.to_json()));
                told.push(other.id);
            }
            Ok(None) => {}
            Err(error) => tracing::warn!(%error, "could not find the other person of a chat"),
        }
    }
    let mentioned = app::domain::mentions(&message.body);
    if mentioned.is_empty() {
        return;
    }
    match store.members_named(room.id, &mentioned, author.id).await {
        Ok(ids) => {
            let title = if room.kind() == RoomKind::Direct { author.shown_name() } else { room.title.clone() };
            let ids: Vec<i64> = ids.into_iter().filter(|id| !told.contains(id)).collect();
            push.notify(ids.clone(), &Notice::new(&title, message, true));
            let event = Utf8Bytes::from(UserEvent::Notify { title, message: message.clone(), mention: true }.to_json());
            for id in ids {
                hub.notify_user(id, event.clone());
            }
        }
        Err(error) => tracing::warn!(%error, "could not look up mentions"),
    }
}
