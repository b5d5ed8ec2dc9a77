//! A room page's live state: its messages (in `seq` order, each once, with their edits and
//! reactions), online count, title, who is typing, what is on its way out, what is being
//! edited or answered, and the connection's status, folded from the room socket's
//! [`ServerEvent`]s by [`RoomLive::apply`]. Nothing connects on the server; the signals hold
//! the server-rendered state there.

use leptos::prelude::*;

use super::transport::{Connection, Status, Storage};
use super::{new_client_id, now_ms, page_is_seen};
use crate::model::RoomPage;
use crate::protocol::{Author, ChatMessage, ClientControl, ClientFrame, ClosedReason, ErrorCode, Quote, ServerEvent};

/// A page says its person is typing at most this often, and shows someone else typing for
/// this long after their last signal.
const TYPING_EVERY_MS: f64 = 3_000.0;
const TYPING_SHOWN_MS: f64 = 5_000.0;

/// The live state of one room page.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
#[derive(Clone, Copy)]
pub struct RoomLive {
    room: StoredValue<String>,
    pub messages: RwSignal<Vec<ChatMessage>>,
    pub online: RwSignal<u32>,
    pub title: RwSignal<String>,
    pub status: RwSignal<Status>,
    /// Set when the server ends the room for this person (deleted, or removed from it).
    pub closed: RwSignal<Option<ClosedReason>>,
    /// Whether messages older than the first one shown exist.
    pub has_older: RwSignal<bool>,
    pub loading_older: RwSignal<bool>,
    /// The last problem to show under the message box.
    pub error: RwSignal<Option<String>>,
    /// Messages sent but not yet acknowledged, oldest first: shown as "sending…", and sent
    /// again (under the same client id, so stored once) whenever the socket reopens.
    pub outbox: RwSignal<Vec<Outgoing>>,
    /// Set while the server refuses messages for coming too fast: they wait in the outbox and
    /// go out again when it says.
    pub slowed: RwSignal<bool>,
    /// A resend of the outbox is already planned.
    resend_planned: StoredValue<bool>,
    /// The newest `seq` this page told the server was read.
    read_up_to: StoredValue<i64>,
    /// Who is typing in the room, and until when (ms) to believe it.
    pub typing: RwSignal<Vec<(Author, f64)>>,
    /// When this page last said its person is typing (ms).
    typing_sent: StoredValue<f64>,
    /// The newest change number (edit, deletion, reaction) this page has applied: where a
    /// reconnecting socket resumes changes (`?since=`).
    changed: StoredValue<i64>,
    /// The reader's username, and whether they may delete anyone's message here.
    pub me: StoredValue<String>,
    pub moderates: bool,
    /// The message being edited in place, by `seq`.
    pub editing: RwSignal<Option<i64>>,
    /// The message the next one answers.
    pub replying: RwSignal<Option<Quote>>,
    /// The message a quote was followed to, shown highlighted for a moment.
    pub highlight: RwSignal<Option<i64>>,
    /// The time now (ms since 1970), for "5 min ago": set once the page runs in the browser,
    /// then every 20 seconds (one timer a page); 0 on the server, which shows clock times.
    pub now: RwSignal<i64>,
    connection: StoredValue<Option<Connection>, Storage>,
}

/// A message on its way to the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    pub client_id: String,
    pub body: String,
    pub reply_to: Option<i64>,
}

impl Outgoing {
    fn frame(&self) -> String {
        let frame =
            ClientFrame { body: self.body.clone(), client_id: Some(self.client_id.clone()), reply_to: self.reply_to };
        serde_json::to_string(&frame).expect("client frames always serialise")
    }
}

#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
impl RoomLive {
    pub fn new(page: &RoomPage) -> Self {
        Self {
            room: StoredValue::new(page.room.name.clone()),
            messages: RwSignal::new(page.messages.clone()),
            online: RwSignal::new(page.online),
            title: RwSignal::new(page.room.title.clone()),
            status: RwSignal::new(Status::Connecting),
            closed: RwSignal::new(None),
            has_older: RwSignal::new(page.has_older),
            loading_older: RwSignal::new(false),
            error: RwSignal::new(None),
            outbox: RwSignal::new(Vec::new()),
            slowed: RwSignal::new(false),
            resend_planned: StoredValue::new(false),
            read_up_to: StoredValue::new(0),
            typing: RwSignal::new(Vec::new()),
            typing_sent: StoredValue::new(0.0),
            changed: StoredValue::new(page.last_change),
            me: StoredValue::new(page.me.clone()),
            now: RwSignal::new(0),
            moderates: page.moderates,
            editing: RwSignal::new(None),
            replying: RwSignal::new(None),
            highlight: RwSignal::new(None),
            connection: StoredValue::new_with_storage(None),
        }
    }

    fn is_this_room(&self, room: &str) -> bool {
        self.room.with_value(|current| current == room)
    }

    /// Folds one server event into the page state. Messages are kept in `seq` order and a
    /// message already shown (same `seq`) is not shown twice.
    pub fn apply(&self, event: ServerEvent) {
        match event {
            ServerEvent::Message(message) if self.is_this_room(&message.room) => {
                if let Some(id) = &message.client_id {
                    if self.outbox.with_untracked(|outbox| outbox.iter().any(|o| &o.client_id == id)) {
                        self.outbox.update(|outbox| outbox.retain(|o| &o.client_id != id));
                        if self.slowed.get_untracked() && self.outbox.with_untracked(Vec::is_empty) {
                            self.slowed.set(false);
                        }
                    }
                }
                // Their message arrived: they are no longer typing it.
                if self.typing.with_untracked(|t| t.iter().any(|(a, _)| a.username == message.author.username)) {
                    self.typing.update(|t| t.retain(|(a, _)| a.username != message.author.username));
                }
                self.messages.update(|messages| insert_in_order(messages, message));
                self.mark_read();
            }
            ServerEvent::Typing { room, author } if self.is_this_room(&room) => {
                let until = now_ms() + TYPING_SHOWN_MS;
                self.typing.update(|typing| {
                    typing.retain(|(a, _)| a.username != author.username);
                    typing.push((author, until));
                });
            }
            ServerEvent::MessageDeleted { room, seq, change } if self.is_this_room(&room) => {
                self.saw_change(change);
                self.messages.update(|messages| {
                    messages.retain(|message| message.seq != seq);
                    for reply in messages.iter_mut().filter_map(|m| m.reply_to.as_mut()).filter(|q| q.seq == seq) {
                        *reply = Quote { seq, author: Author::default(), excerpt: String::new(), deleted: true };
                    }
                });
                if self.editing.get_untracked() == Some(seq) {
                    self.editing.set(None);
                }
                if self.replying.with_untracked(|r| r.as_ref().is_some_and(|q| q.seq == seq)) {
                    self.replying.set(None);
                }
            }
            ServerEvent::MessageEdited { room, seq, body, edited_at, mentions, change } if self.is_this_room(&room) => {
                self.saw_change(change);
                self.messages.update(|messages| {
                    for reply in messages.iter_mut().filter_map(|m| m.reply_to.as_mut()).filter(|q| q.seq == seq) {
                        reply.excerpt = Quote::excerpt_of(&body);
                    }
                    if let Ok(at) = messages.binary_search_by_key(&seq, |m| m.seq) {
                        let message = &mut messages[at];
                        message.body = body;
                        message.edited_at = Some(edited_at);
                        message.mentions = mentions;
                    }
                });
            }
            ServerEvent::Reactions { room, seq, reactions, change } if self.is_this_room(&room) => {
                self.saw_change(change);
                self.messages.update(|messages| {
                    if let Ok(at) = messages.binary_search_by_key(&seq, |m| m.seq) {
                        messages[at].reactions = reactions;
                    }
                });
            }
            ServerEvent::OnlineCount { room, count } if self.is_this_room(&room) => self.online.set(count),
            ServerEvent::RoomRenamed { room, title } if self.is_this_room(&room) => self.title.set(title),
            ServerEvent::RoomClosed { room, reason } if self.is_this_room(&room) => {
                self.stop();
                self.closed.set(Some(reason));
            }
            ServerEvent::Error { code: ErrorCode::RateLimited, retry_after_ms, .. } => {
                self.slowed.set(true);
                self.resend_after(retry_after_ms.unwrap_or(1000));
            }
            // A message refused for good (it answers one that was deleted): it leaves the
            // outbox, and the page says why.
            ServerEvent::Error { message, client_id: Some(id), .. } => {
                self.outbox.update(|outbox| outbox.retain(|o| o.client_id != id));
                self.error.set(Some(message));
            }
            ServerEvent::Error { message, .. } => self.error.set(Some(message)),
            _ => {}
        }
    }

    fn saw_change(&self, change: i64) {
        if change > self.changed.get_value() {
            self.changed.set_value(change);
        }
    }

    /// Sends a control frame if the socket is open; otherwise says to try again.
    fn control(&self, control: ClientControl) -> bool {
        let sent = self
            .connection
            .with_value(|connection| connection.as_ref().is_some_and(|c| c.send(&control.to_json()).is_ok()));
        if !sent {
            self.error.set(Some("not connected right now: try again in a moment".into()));
        }
        sent
    }

    /// Saves a new body for one of this person's messages (shown once the server has it).
    pub fn edit(&self, seq: i64, body: &crate::domain::MessageBody) -> bool {
        self.control(ClientControl::Edit { seq, body: body.as_str().to_owned() })
    }

    pub fn delete(&self, seq: i64) {
        self.control(ClientControl::Delete { seq });
    }

    /// Adds or takes back this person's reaction.
    pub fn react(&self, seq: i64, emoji: &crate::domain::Emoji, on: bool) {
        self.control(ClientControl::React { seq, emoji: emoji.as_str().to_owned(), on });
    }

    /// The newest message of this person's shown (what Up-arrow edits).
    pub fn my_last_message(&self) -> Option<i64> {
        let me = self.me.get_value();
        self.messages.with_untracked(|messages| messages.iter().rev().find(|m| m.author.username == me).map(|m| m.seq))
    }

    /// Adds a page of older messages in front of the ones shown.
    pub fn prepend(&self, older: Vec<ChatMessage>, has_older: bool) {
        self.messages.update(|messages| {
            for message in older {
                insert_in_order(messages, message);
            }
        });
        self.has_older.set(has_older);
    }

    /// The `seq` of the oldest message shown.
    pub fn first_seq(&self) -> Option<i64> {
        self.messages.with_untracked(|messages| messages.first().map(|m| m.seq))
    }

    /// The `seq` of the newest message shown: where a reconnecting socket resumes.
    pub fn last_seq(&self) -> Option<i64> {
        self.messages.with_untracked(|messages| messages.last().map(|m| m.seq))
    }

    /// Queues a message and sends it now if the socket is open; otherwise it goes out as soon
    /// as the socket reopens. Either way it shows as "sending…" until the server has it.
    pub fn send(&self, body: &crate::domain::MessageBody) {
        let reply_to = self.replying.get_untracked().map(|quote| quote.seq);
        if reply_to.is_some() {
            self.replying.set(None);
        }
        let outgoing = Outgoing { client_id: new_client_id(), body: body.as_str().to_owned(), reply_to };
        let frame = outgoing.frame();
        self.outbox.update(|outbox| outbox.push(outgoing));
        self.connection.with_value(|connection| {
            if let Some(connection) = connection {
                let _ = connection.send(&frame);
            }
        });
    }

    /// Tells the server the room is read up to the newest message shown, when someone can see
    /// it: the tab is visible and focused. Every tab and device then shows the new count.
    pub fn mark_read(&self) {
        let Some(seq) = self.last_seq() else { return };
        if seq <= self.read_up_to.get_value() || !page_is_seen() {
            return;
        }
        let sent = self.connection.with_value(|connection| {
            connection.as_ref().is_some_and(|c| c.send(&ClientControl::Read { seq }.to_json()).is_ok())
        });
        if sent {
            self.read_up_to.set_value(seq);
        }
    }

    /// Called on every keystroke in the message box: tells the room, at most every 3 seconds.
    pub fn typed(&self) {
        let now = now_ms();
        if now - self.typing_sent.get_value() < TYPING_EVERY_MS {
            return;
        }
        let sent = self.connection.with_value(|connection| {
            connection.as_ref().is_some_and(|c| c.send(&ClientControl::Typing.to_json()).is_ok())
        });
        if sent {
            self.typing_sent.set_value(now);
        }
    }

    /// Forgets typists not heard from for [`TYPING_SHOWN_MS`].
    fn forget_quiet_typists(&self) {
        let now = now_ms();
        if self.typing.with_untracked(|t| t.iter().any(|(_, until)| *until <= now)) {
            self.typing.update(|t| t.retain(|(_, until)| *until > now));
        }
    }

    /// Sends the outbox again once the server is ready for it (one resend planned at a time,
    /// however many messages it refused).
    fn resend_after(&self, ms: u64) {
        if self.resend_planned.get_value() {
            return;
        }
        self.resend_planned.set_value(true);
        #[cfg(feature = "hydrate")]
        {
            let live = *self;
            set_timeout(
                move || {
                    live.resend_planned.set_value(false);
                    live.flush();
                },
                std::time::Duration::from_millis(ms),
            );
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = ms;
    }

    /// Sends every queued message again, oldest first (the socket just reopened).
    fn flush(&self) {
        let frames: Vec<String> = self.outbox.with_untracked(|outbox| outbox.iter().map(Outgoing::frame).collect());
        self.connection.with_value(|connection| {
            if let Some(connection) = connection {
                for frame in &frames {
                    let _ = connection.send(frame);
                }
            }
        });
    }

    fn stop(&self) {
        self.connection.with_value(|connection| {
            if let Some(connection) = connection {
                connection.stop();
            }
        });
    }
}

#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
fn insert_in_order(messages: &mut Vec<ChatMessage>, message: ChatMessage) {
    match messages.last() {
        None => messages.push(message),
        Some(last) if last.seq < message.seq => messages.push(message),
        _ => {
            if let Err(at) = messages.binary_search_by_key(&message.seq, |m| m.seq) {
                messages.insert(at, message);
            }
        }
    }
}

/// Opens the room socket for this page and closes it when the page goes away. Nothing on the
/// server: there the page is rendered once, and its thread-local state must not be touched
/// from the thread that later cleans it up.
pub fn connect(live: RoomLive) {
    #[cfg(feature = "hydrate")]
    {
        // Every (re)connection asks for what came after the newest message shown, and for the
        // changes after the last one applied, so nothing posted, edited, deleted or reacted
        // to while the page loaded or while the network was down goes missing.
        let path = move || {
            crate::url::room_socket(&live.room.get_value(), live.last_seq().unwrap_or(0), live.changed.get_value())
        };
        let handlers = super::transport::Handlers {
            ping: ClientControl::Ping.to_json(),
            on_open: Box::new(move || {
                live.flush();
                live.mark_read();
            }),
            on_text: Box::new(move |text| match serde_json::from_str(text) {
                Ok(event) => live.apply(event),
                Err(error) => leptos::logging::warn!("ignoring an event this page does not understand: {error}"),
            }),
            still_welcome: Box::new(super::still_signed_in),
        };
        live.connection.set_value(Connection::open(path, live.status, handlers));
        // Coming back to the tab reads what arrived meanwhile.
        let focus = window_event_listener(leptos::ev::focus, move |_| live.mark_read());
        let typists =
            set_interval_with_handle(move || live.forget_quiet_typists(), std::time::Duration::from_secs(1)).ok();
        live.now.set(super::wall_clock_ms());
        let clock =
            set_interval_with_handle(move || live.now.set(super::wall_clock_ms()), std::time::Duration::from_secs(20))
                .ok();
        on_cleanup(move || {
            focus.remove();
            for timer in [typists, clock].into_iter().flatten() {
                timer.clear();
            }
            if let Some(Some(connection)) = live.connection.try_update_value(|c| c.take()) {
                connection.stop();
            }
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = live;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(seq: i64) -> ChatMessage {
        ChatMessage {
            room: "r".into(),
            seq,
            id: seq,
            author: Author { username: "a".into(), display_name: "A".into(), avatar: None },
            body: format!("m{seq}"),
            ..Default::default()
        }
    }

    #[test]
    fn messages_stay_in_seq_order_without_duplicates() {
        let mut messages = vec![message(1), message(3)];
        insert_in_order(&mut messages, message(4));
        insert_in_order(&mut messages, message(2));
        insert_in_order(&mut messages, message(3));
        let seqs: Vec<i64> = messages.iter().map(|m| m.seq).collect();
        assert_eq!(seqs, [1, 2, 3, 4]);
    }
}
