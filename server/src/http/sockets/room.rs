//! `/ws/chatroom/<name>/`: the room socket. Authenticated by the session cookie at the upgrade;
//! open to whoever may see the room (members, and anyone signed in for a public room);
//! receives `{"body": "..."}` frames and edits, deletions and reactions from members; sends the
//! room's events (see `app::protocol`). Resumes after the client's last message (`?after=`)
//! and its last change (`?since=`).

use std::sync::Arc;

use app::domain::{BodyError, ClientId, Emoji, MessageBody};
use app::protocol::{ClientControl, ClientFrame, ErrorCode, ServerEvent};
use axum::extract::ws::{close_code, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use futures_util::future::BoxFuture;
use futures_util::stream::FuturesUnordered;
use futures_util::{FutureExt, SinkExt, StreamExt};
use http::HeaderMap;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use tracing::Instrument;

use super::{
    authorize, close, close_lagging, limited, on_beat, read, send, still_signed_in, stopping, Heartbeat, Read,
    RESTARTING, SEND_TIMEOUT, SESSION_ENDED,
};
use crate::error::Error;
use crate::metrics::{Held, SocketKind};
use crate::realtime::hub::{self, Frame, Membership};
use crate::services::changes::{self, ChangeError};
use crate::services::messaging::{self, PostError, Posted};
use crate::services::throttle::SocketSlot;
use crate::state::AppState;
use crate::store::{Room, StoredMessage, User};

/// `?after=<seq>`: the last message the client has; it is first sent every later one.
/// `?since=<change>`: the last change it applied; it is first sent the current state of each
/// of its messages changed since (without it, no changes are replayed).
#[derive(Debug, serde::Deserialize)]
pub struct Resume {
    after: Option<String>,
    since: Option<String>,
}

/// A resume position: absent, or a number of 0 or more.
fn position(raw: Option<&str>, what: &'static str) -> Result<Option<i64>, Error> {
    match raw.map(str::parse::<i64>) {
        None => Ok(None),
        Some(Ok(n)) if n >= 0 => Ok(Some(n)),
        Some(_) => Err(Error::BadRequest(what)),
    }
}

pub async fn upgrade(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(resume): Query<Resume>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Result<Response, Error> {
    let super::Admitted { user, slot, session } = authorize(&state, &headers).await?;
    let after = position(resume.after.as_deref(), "after must be the seq of the last message you have (0 or more)")?;
    let since = position(resume.since.as_deref(), "since must be the last change number you saw (0 or more)")?;
    // A private room of others answers exactly like a room that does not exist.
    let (room, is_member) =
        crate::services::rooms::viewable(&state, &user, name.trim_end_matches('/')).await?.ok_or(Error::NotFound)?;
    let open = state.metrics.socket_opened(SocketKind::Room);
    let held = (slot, open);
    let (room, user) = (Arc::new(room), Arc::new(user));
    let socket = RoomSocket { state, room, user, is_member, sent: 0, changed: 0, session, _held: held };
    let span = tracing::Span::current();
    Ok(limited(ws).on_upgrade(move |ws| socket.serve(ws, after, since).instrument(span)).into_response())
}

/// Typing signals are passed on at most this often per person and room.
const TYPING_EVERY: std::time::Duration = std::time::Duration::from_secs(2);

/// How many missed messages (or changed ones) are read from the database at a time while
/// catching up.
const CATCH_UP_BATCH: i64 = 500;

/// How many of its frames a socket may have waiting for an answer (a message being stored, a
/// read being marked); past that it reads nothing more from its client until one is answered.
const IN_FLIGHT: usize = 32;

/// How many waiting frames are written before one flush.
const WRITE_BATCH: usize = 64;

/// A frame of this socket's waiting for its answer (the event to send back, if any).
type Pending = BoxFuture<'static, Option<ServerEvent>>;

/// One room socket: who it is for, and where its stream of messages stands.
struct RoomSocket {
    state: AppState,
    room: Arc<Room>,
    user: Arc<User>,
    /// Known when the socket opened; a member who leaves is sent `room_closed` (private rooms)
    /// or checked again when they post. A non-member is checked again at each post.
    is_member: bool,
    /// The last `seq` this socket was sent. Messages go out in `seq` order, each once: one
    /// that arrives ahead of others (stored through another instance, with copies late or
    /// lost while the bus was down) makes the socket read the ones in between first.
    sent: i64,
    /// The last change number this socket sent (or knows the client has), likewise: a change
    /// that arrives ahead of others makes it read the changed messages first.
    changed: i64,
    /// The hash of the session it came with.
    session: Vec<u8>,
    /// Its place among its person's sockets, and in the count of open sockets, while it lives.
    _held: (SocketSlot, Held),
}

/// What to do after a frame from the room's channel.
enum Next {
    Go,
    Stop,
}

impl RoomSocket {
    #[tracing::instrument(name = "room_socket", skip_all, fields(room = %self.room.name, user = %self.user.username))]
    async fn serve(mut self, mut socket: WebSocket, after: Option<i64>, since: Option<i64>) {
        // Where this socket starts: after what the client has, else after the room's newest
        // message and change (read before subscribing, so that one made in between shows up
        // as a gap).
        let (last_seq, last_change) = match Box::pin(self.state.store.position(self.room.id)).await {
            Ok(position) => position,
            Err(error) => {
                tracing::error!(%error, "could not read where a room is");
                close(&mut socket, close_code::AGAIN, Utf8Bytes::from_static("try again")).await;
                return;
            }
        };
        self.sent = after.unwrap_or(last_seq);
        self.changed = match after {
            Some(_) => since.unwrap_or(last_change),
            None => last_change,
        };
        // Subscribe before reading what was missed: a message stored meanwhile is then both
        // read and received, and the `seq` check sends it once. Nothing falls in between.
        let (mut membership, first) = self.state.hub.join(self.room.id, &self.room.name, self.user.id);
        if !still_signed_in(&self.state, &self.session).await {
            close(&mut socket, close_code::POLICY, Utf8Bytes::from_static(SESSION_ENDED)).await;
            return;
        }
        if let Some(frame) = first {
            if send(&mut socket, frame).await.is_err() {
                return;
            }
        }
        // The changes to what the client has first, then what it does not have, as it is now.
        if after.is_some() {
            if self.catch_up_changes(&mut socket).await.is_err() {
                return;
            }
            self.changed = self.changed.max(last_change);
            if self.catch_up(&mut socket).await.is_err() {
                return;
            }
        }
        let mut heartbeat = Heartbeat::new(&self.state);
        let mut pending: FuturesUnordered<Pending> = FuturesUnordered::new();
        let mut stop = std::pin::pin!(stopping(&self.state));
        loop {
            tokio::select! {
                () = &mut stop => {
                    Box::pin(self.finish(&mut socket, &mut membership, &mut pending)).await;
                    break;
                }
                beat = heartbeat.beat() => {
                    if on_beat(&mut socket, beat).await.is_err() {
                        break;
                    }
                }
                incoming = socket.recv(), if pending.len() < IN_FLIGHT => match read(&mut socket, &mut heartbeat, incoming).await {
                    Read::Text(text) => match self.handle(&text) {
                        Handled::Reply(reply) => {
                            if send(&mut socket, hub::encode(&reply)).await.is_err() {
                                break;
                            }
                        }
                        Handled::Later(future) => pending.push(future),
                        Handled::Done => {}
                    },
                    Read::Binary => {
                        let reply = ServerEvent::error(ErrorCode::BinaryNotSupported, "send text frames of JSON, like {\"body\": \"hello\"}");
                        if send(&mut socket, hub::encode(&reply)).await.is_err() {
                            break;
                        }
                    }
                    Read::Nothing => {}
                    Read::Stop => break,
                },
                Some(reply) = pending.next(), if !pending.is_empty() => {
                    if let Some(reply) = reply {
                        if send(&mut socket, hub::encode(&reply)).await.is_err() {
                            break;
                        }
                    }
                }
                frame = membership.events.recv() => {
                    if let Next::Stop = self.deliver(&mut socket, &mut membership, frame).await {
                        break;
                    }
                }
            }
        }
    }

    /// The server is stopping: answers the frames already read (a message being stored is
    /// stored, and its broadcast is the acknowledgement), delivers what the room's channel
    /// holds, and closes with 1012 so the client reconnects at once and resends the rest.
    async fn finish(
        &mut self,
        socket: &mut WebSocket,
        membership: &mut Membership,
        pending: &mut FuturesUnordered<Pending>,
    ) {
        let answered = tokio::time::timeout(SEND_TIMEOUT, async {
            while let Some(reply) = pending.next().await {
                if let Some(reply) = reply {
                    feed(socket, hub::encode(&reply)).await?;
                }
            }
            loop {
                let frame = match membership.events.try_recv() {
                    Ok(frame) => Ok(frame),
                    Err(TryRecvError::Lagged(missed)) => Err(RecvError::Lagged(missed)),
                    Err(TryRecvError::Empty | TryRecvError::Closed) => return flush(socket).await,
                };
                if let Next::Stop = self.deliver(socket, membership, frame).await {
                    return Err(());
                }
            }
        })
        .await;
        if let Ok(Ok(())) = answered {
            close(socket, close_code::RESTART, Utf8Bytes::from_static(RESTARTING)).await;
        }
    }

    /// Writes a frame from the room's channel and every other one already waiting (up to
    /// [`WRITE_BATCH`]), then flushes once: a burst costs one write, not one per frame.
    async fn deliver(
        &mut self,
        socket: &mut WebSocket,
        membership: &mut Membership,
        first: Result<Frame, RecvError>,
    ) -> Next {
        let mut frame = Some(first);
        let mut written = 0;
        while let Some(next) = frame.take() {
            match next {
                Ok(Frame::Message { seq, text }) => {
                    if seq > self.sent + 1 && self.catch_up(socket).await.is_err() {
                        return Next::Stop;
                    }
                    if seq > self.sent {
                        self.sent = seq;
                        if feed(socket, text).await.is_err() {
                            return Next::Stop;
                        }
                    }
                }
                Ok(Frame::Change { change, seq, text }) => {
                    if change > self.changed {
                        let next = change == self.changed + 1;
                        if seq > self.sent {
                            // Its message was not sent yet: catching up sends it as it is now.
                            if self.catch_up(socket).await.is_err() {
                                return Next::Stop;
                            }
                        } else if next && feed(socket, text).await.is_err() {
                            return Next::Stop;
                        }
                        if !next && self.catch_up_changes(socket).await.is_err() {
                            return Next::Stop;
                        }
                        self.changed = self.changed.max(change);
                    }
                }
                Ok(Frame::Resync) => {
                    if self.catch_up(socket).await.is_err() || self.catch_up_changes(socket).await.is_err() {
                        return Next::Stop;
                    }
                }
                Ok(Frame::About { user_id, text }) => {
                    if user_id != self.user.id && feed(socket, text).await.is_err() {
                        return Next::Stop;
                    }
                }
                Ok(Frame::Event(text)) => {
                    if feed(socket, text).await.is_err() {
                        return Next::Stop;
                    }
                }
                Ok(Frame::End { user_id }) => {
                    if user_id == self.user.id {
                        let _ = flush(socket).await;
                        close(socket, close_code::POLICY, Utf8Bytes::from_static(SESSION_ENDED)).await;
                        return Next::Stop;
                    }
                }
                Ok(Frame::Close { user_id, event }) => {
                    if user_id.is_none_or(|id| id == self.user.id) {
                        let _ = feed(socket, event).await;
                        let _ = flush(socket).await;
                        close(socket, close_code::NORMAL, Utf8Bytes::from_static("room closed")).await;
                        return Next::Stop;
                    }
                }
                Err(RecvError::Lagged(missed)) => {
                    close_lagging(&self.state, socket, missed).await;
                    return Next::Stop;
                }
                Err(RecvError::Closed) => return Next::Stop,
            }
            written += 1;
            if written < WRITE_BATCH {
                frame = match membership.events.try_recv() {
                    Ok(next) => Some(Ok(next)),
                    Err(TryRecvError::Lagged(missed)) => Some(Err(RecvError::Lagged(missed))),
                    Err(TryRecvError::Empty | TryRecvError::Closed) => None,
                };
            }
        }
        self.state.metrics.deliveries.inc_by(written as u64);
        match flush(socket).await {
            Ok(()) => Next::Go,
            Err(()) => Next::Stop,
        }
    }

    /// Sends the current state of every message up to `sent` changed after `changed`, in
    /// change order, and moves `changed` to the last one. `Err` as for [`Self::catch_up`].
    async fn catch_up_changes(&mut self, socket: &mut WebSocket) -> Result<(), ()> {
        Box::pin(self.catch_up_changes_from_store(socket)).await
    }

    async fn catch_up_changes_from_store(&mut self, socket: &mut WebSocket) -> Result<(), ()> {
        loop {
            let batch = match self.state.store.changes_after(&self.room, self.changed, self.sent, CATCH_UP_BATCH).await
            {
                Ok(batch) => batch,
                Err(error) => {
                    tracing::error!(%error, "could not read changed messages");
                    close(socket, close_code::AGAIN, Utf8Bytes::from_static("try again")).await;
                    return Err(());
                }
            };
            let done = (batch.len() as i64) < CATCH_UP_BATCH;
            for stored in batch {
                self.changed = self.changed.max(stored.change_seq);
                for event in change_events(&self.room.name, stored) {
                    feed(socket, hub::encode(&event)).await?;
                }
            }
            flush(socket).await?;
            if done {
                return Ok(());
            }
        }
    }

    /// Sends every message after `sent`, oldest first, and moves `sent` to the last one. `Err`
    /// means the socket is gone (or the database failed, which closes it: the client
    /// reconnects and asks again).
    async fn catch_up(&mut self, socket: &mut WebSocket) -> Result<(), ()> {
        // On the heap: the database call's future is large, and it would otherwise be part of
        // every idle socket's task (its state machine holds the largest of its awaits).
        Box::pin(self.catch_up_from_store(socket)).await
    }

    async fn catch_up_from_store(&mut self, socket: &mut WebSocket) -> Result<(), ()> {
        loop {
            let batch = match self.state.store.messages_after(&self.room, self.sent, CATCH_UP_BATCH).await {
                Ok(batch) => batch,
                Err(error) => {
                    tracing::error!(%error, "could not read missed messages");
                    close(socket, close_code::AGAIN, Utf8Bytes::from_static("try again")).await;
                    return Err(());
                }
            };
            let done = (batch.len() as i64) < CATCH_UP_BATCH;
            self.state.metrics.deliveries.inc_by(batch.len() as u64);
            for stored in batch {
                self.sent = stored.seq;
                feed(socket, hub::encode(&ServerEvent::Message(stored.into_wire(&self.room.name)))).await?;
            }
            flush(socket).await?;
            if done {
                return Ok(());
            }
        }
    }

    /// Validates one client frame. What needs the database is handed back as a future, so
    /// the socket keeps delivering the room's events while it runs.
    fn handle(&self, text: &str) -> Handled {
        match ClientControl::parse(text) {
            Some(ClientControl::Ping) => return Handled::Reply(ServerEvent::Pong),
            Some(ClientControl::Read { seq }) => {
                let (state, room_id, user_id) = (self.state.clone(), self.room.id, self.user.id);
                // Faster than the frame rate, reads are applied late, never dropped (at most
                // [`IN_FLIGHT`] wait: then the socket stops reading its client).
                let wait = self.state.frames.reserve(user_id);
                if !wait.is_zero() {
                    self.state.metrics.refused("frames");
                }
                return Handled::Later(
                    async move {
                        if !wait.is_zero() {
                            tokio::time::sleep(wait).await;
                        }
                        messaging::mark_read(&state.store, &state.hub, room_id, user_id, seq).await;
                        None
                    }
                    .boxed(),
                );
            }
            Some(ClientControl::Typing) => return self.typing(),
            Some(ClientControl::Edit { seq, body }) => {
                let body = match MessageBody::parse(&body) {
                    Ok(body) => body,
                    Err(error) => return Handled::Reply(body_refused(error)),
                };
                let (state, room, user, member) =
                    (self.state.clone(), self.room.clone(), self.user.clone(), self.is_member);
                return later(async move { changes::edit(&state, &room, &user, member, seq, &body).await });
            }
            Some(ClientControl::Delete { seq }) => {
                let (state, room, user) = (self.state.clone(), self.room.clone(), self.user.clone());
                return later(async move { changes::delete(&state, &room, &user, seq).await });
            }
            Some(ClientControl::React { seq, emoji, on }) => {
                let emoji = match Emoji::parse(&emoji) {
                    Ok(emoji) => emoji,
                    Err(message) => return Handled::Reply(ServerEvent::error(ErrorCode::BadEmoji, message)),
                };
                let (state, room, user, member) =
                    (self.state.clone(), self.room.clone(), self.user.clone(), self.is_member);
                return later(async move { changes::react(&state, &room, &user, member, seq, &emoji, on).await });
            }
            None => {}
        }
        let frame: ClientFrame = match serde_json::from_str(text) {
            Ok(frame) => frame,
            Err(_) => {
                return Handled::Reply(ServerEvent::error(
                    ErrorCode::MalformedFrame,
                    "send a JSON object with a text body, like {\"body\": \"hello\"}",
                ))
            }
        };
        let body = match MessageBody::parse(&frame.body) {
            Ok(body) => body,
            Err(error) => return Handled::Reply(body_refused(error)),
        };
        let reply_to = frame.reply_to;
        let client_id = match frame.client_id.as_deref().map(ClientId::parse).transpose() {
            Ok(client_id) => client_id,
            Err(message) => return Handled::Reply(ServerEvent::error(ErrorCode::MalformedFrame, &message)),
        };
        if let Err(wait) = self.state.posting.take(self.user.id) {
            self.state.metrics.refused("messages");
            return Handled::Reply(ServerEvent::slow_down(wait, client_id.map(|id| id.as_str().to_owned())));
        }
        let (state, room, user, known_member) =
            (self.state.clone(), self.room.clone(), self.user.clone(), self.is_member);
        Handled::Later(
            async move {
                // Someone who was not a member when the socket opened may have joined since.
                if !known_member {
                    match state.store.is_member(room.id, user.id).await {
                        Ok(true) => {}
                        Ok(false) => {
                            return Some(ServerEvent::error(ErrorCode::NotMember, "join the room to post in it"))
                        }
                        Err(error) => return Some(unavailable(&PostError::Store(error))),
                    }
                }
                let refused_id = client_id.as_ref().map(|id| id.as_str().to_owned());
                let answer = state.committer.submit(room, user, body, client_id, reply_to).await;
                match answer.await.unwrap_or(Err(PostError::RoomGone)) {
                    // The broadcast itself is the acknowledgement.
                    Ok(Posted::New(_)) => None,
                    // Sent again after a dropped connection: the sender alone is told it is stored.
                    Ok(Posted::Again(message)) => Some(ServerEvent::Message(message)),
                    Err(PostError::NotMember) => {
                        Some(ServerEvent::error(ErrorCode::NotMember, "join the room to post in it"))
                    }
                    Err(error @ PostError::NoSuchReply) => Some(ServerEvent::Error {
                        code: ErrorCode::NoSuchMessage,
                        message: error.to_string(),
                        retry_after_ms: None,
                        client_id: refused_id,
                    }),
                    Err(error) => Some(unavailable(&error)),
                }
            }
            .boxed(),
        )
    }

    /// Passes on that a member is typing, at most once per [`TYPING_EVERY`] per person and
    /// room whatever the client sends.
    fn typing(&self) -> Handled {
        if self.state.frames.take(self.user.id).is_err() {
            self.state.metrics.refused("frames");
            return Handled::Done;
        }
        let channel = self.state.hub.channel(self.room.id, &self.room.name);
        if !channel.typing_allowed(self.user.id, TYPING_EVERY) {
            return Handled::Done;
        }
        let event = ServerEvent::Typing { room: self.room.name.clone(), author: self.user.author() };
        if self.is_member {
            self.state.hub.publish_about(self.room.id, self.user.id, &event);
            return Handled::Done;
        }
        let (state, room_id, user_id) = (self.state.clone(), self.room.id, self.user.id);
        Handled::Later(
            async move {
                match state.store.is_member(room_id, user_id).await {
                    Ok(true) => state.hub.publish_about(room_id, user_id, &event),
                    Ok(false) => {}
                    Err(error) => tracing::warn!(%error, "could not check a typist's membership"),
                }
                None
            }
            .boxed(),
        )
    }
}

/// What became of a client frame.
#[expect(clippy::large_enum_variant, reason = "one per client frame, answered at once")]
enum Handled {
    /// Answered at once.
    Reply(ServerEvent),
    /// Answered when this is done.
    Later(Pending),
    Done,
}

/// A change's outcome as the asking socket is answered: nothing when made (the broadcast
/// is the acknowledgement), else the refusal.
fn later(change: impl std::future::Future<Output = Result<(), ChangeError>> + Send + 'static) -> Handled {
    Handled::Later(async move { change.await.err().map(|error| error.event()) }.boxed())
}

fn body_refused(error: BodyError) -> ServerEvent {
    let code = match error {
        BodyError::Empty => ErrorCode::EmptyBody,
        BodyError::TooLong => ErrorCode::BodyTooLong,
    };
    ServerEvent::error(code, error.message())
}

fn unavailable(error: &PostError) -> ServerEvent {
    tracing::error!(%error, "could not store a message");
    ServerEvent::error(ErrorCode::Unavailable, "the message could not be saved: please send it again")
}

/// The events that bring a client's copy of a changed message up to date: `message_deleted`,
/// or its body if it was edited and its reactions (each with the message's last change).
fn change_events(room: &str, stored: StoredMessage) -> Vec<ServerEvent> {
    let (seq, change) = (stored.seq, stored.change_seq);
    if stored.is_deleted() {
        return vec![ServerEvent::MessageDeleted { room: room.to_owned(), seq, change }];
    }
    let mut events = Vec::with_capacity(2);
    if let Some(edited_at) = stored.edited_at {
        events.push(ServerEvent::MessageEdited {
            room: room.to_owned(),
            seq,
            body: stored.body.clone(),
            edited_at: crate::store::rfc3339(edited_at),
            mentions: stored.mention_list(),
            change,
        });
    }
    events.push(ServerEvent::Reactions { room: room.to_owned(), seq, reactions: stored.reactions, change });
    events
}

/// Queues a frame for the client without flushing (the socket's write buffer sends it when
/// full, or at the next [`flush`]).
async fn feed(socket: &mut WebSocket, frame: Utf8Bytes) -> Result<(), ()> {
    match tokio::time::timeout(SEND_TIMEOUT, socket.feed(Message::Text(frame))).await {
        Ok(Ok(())) => Ok(()),
        _ => Err(()),
    }
}

async fn flush(socket: &mut WebSocket) -> Result<(), ()> {
    match tokio::time::timeout(SEND_TIMEOUT, socket.flush()).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(_)) => Err(()),
        Err(_) => {
            tracing::info!("dropping a socket that stopped reading");
            Err(())
        }
    }
}
