//! What server functions return to pages. Shared by the server and the browser.

use serde::{Deserialize, Serialize};

/// One of the signed-in person's sessions, as settings list them (never its token).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    /// What ends it (`/api/end_session`).
    pub id: String,
    /// The browser and system, from its user agent ("Firefox on Linux").
    pub device: String,
    /// The client address it signed in from, when known.
    pub address: Option<String>,
    /// RFC 3339, UTC.
    pub signed_in_at: String,
    /// When it was last used (to the minute), RFC 3339, UTC.
    pub last_seen_at: String,
    /// The session of this very browser.
    pub current: bool,
}

/// The signed-in person, as the pages show them. Never carries secrets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrentUser {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub is_admin: bool,
    /// The avatar's URL, if they uploaded one.
    #[serde(default)]
    pub avatar: Option<String>,
}

/// Someone as the directory, member lists and chat headers show them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    pub username: String,
    pub display_name: String,
    pub roles: Vec<String>,
    /// Whether they have the app open anywhere (when the data was read; `presence` events on
    /// `/ws/chat/` keep it current).
    #[serde(default)]
    pub online: bool,
    /// The avatar's URL (256×256), if they uploaded one; else pages show [`Person::initials`].
    #[serde(default)]
    pub avatar: Option<String>,
}

impl Person {
    /// Up to two letters for the avatar circle: the first letters of the first two words of
    /// the display name (`Ana María` → `AM`), else the first letter.
    pub fn initials(&self) -> String {
        initials(&self.display_name)
    }
}

/// How a person is named on screen: their display name, else (none, or only spaces) their
/// username.
pub fn shown_name(username: &str, display_name: Option<&str>) -> String {
    display_name.filter(|name| !name.trim().is_empty()).unwrap_or(username).to_owned()
}

/// How someone whose account was deleted is shown: the author of their messages, the other
/// side of a one-to-one chat with them.
pub const DELETED_USER: &str = "deleted user";

pub fn initials(name: &str) -> String {
    let letters: String = name
        .split(|c: char| c.is_whitespace() || c == '_' || c == '-')
        .filter_map(|word| word.chars().next())
        .take(2)
        .flat_map(char::to_uppercase)
        .collect();
    if letters.is_empty() {
        "?".to_owned()
    } else {
        letters
    }
}

/// A person's profile page (`/@<username>`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    pub person: Person,
    pub bio: String,
    /// RFC 3339, UTC: when they signed up.
    pub member_since: String,
    /// Whether this is the signed-in person's own profile.
    pub is_me: bool,
}

/// What kind of room a room is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoomKind {
    /// Listed; anyone signed in may read and join (the public chat is one).
    Public,
    /// A group room only its members can see.
    Private,
    /// A one-to-one chat between two people.
    Direct,
}

impl RoomKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RoomKind::Public => "public",
            RoomKind::Private => "private",
            RoomKind::Direct => "direct",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "public" => Some(RoomKind::Public),
            "private" => Some(RoomKind::Private),
            "direct" => Some(RoomKind::Direct),
            _ => None,
        }
    }
}

/// A room in the sidebar: group rooms by title, one-to-one chats by the other person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomSummary {
    pub name: String,
    pub title: String,
    pub kind: RoomKind,
    /// The other person of a one-to-one chat.
    pub other: Option<Person>,
    /// Messages by others this person has not read yet.
    #[serde(default)]
    pub unread: u32,
}

/// The person who wrote a message, as every client shows them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Author {
    /// Empty when the account was deleted (then `display_name` is "deleted user").
    pub username: String,
    pub display_name: String,
    /// The avatar's URL, if they have one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar: Option<String>,
}

/// One stored message. `seq` counts up by one per room, so a client can order messages and
/// tell whether it missed any.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    pub room: String,
    pub seq: i64,
    pub id: i64,
    pub author: Author,
    pub body: String,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// The id the sending client gave the message, so it can tell its own message arrived.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// The message this one answers, quoted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<Quote>,
    /// When its author last edited it (RFC 3339, UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edited_at: Option<String>,
    /// Its reactions, in the order each emoji was first used.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reactions: Vec<Reaction>,
    /// The usernames (lowercased) of the room's members it mentions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mentions: Vec<String>,
    /// Files shared with it, in the order they were attached.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
}

impl ChatMessage {
    /// The message in a line of text (a notification): its body, or for a message with files
    /// only, what it shares.
    pub fn summary(&self) -> String {
        match (self.body.is_empty(), self.attachments.as_slice()) {
            (true, [one]) => format!("📎 {}", one.name),
            (true, [first, rest @ ..]) => format!("📎 {} and {} more", first.name, rest.len()),
            _ => self.body.clone(),
        }
    }
}

/// A file shared with a message. Images (which the server re-encoded, without their
/// metadata) have their size in pixels and a thumbnail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    pub id: i64,
    /// The file's name as its uploader had it (without any folder).
    pub name: String,
    /// Bytes, as served.
    pub size: i64,
    /// The type, as read from the content (never from the name).
    pub mime: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumb_url: Option<String>,
    pub url: String,
}

impl Attachment {
    pub fn is_image(&self) -> bool {
        self.thumb_url.is_some()
    }

    pub fn size_text(&self) -> String {
        file_size(self.size)
    }

    /// The size its thumbnail is shown at: its own, scaled to fit in `side` × `side`.
    pub fn shown_size(&self, side: u32) -> Option<(u32, u32)> {
        let (width, height) = (self.width?, self.height?);
        let scale = (f64::from(side) / f64::from(width.max(height).max(1))).min(1.0);
        Some((((f64::from(width) * scale).round() as u32).max(1), ((f64::from(height) * scale).round() as u32).max(1)))
    }
}

/// A size in bytes as people read it: "2.4 MB", "512 KB", "80 bytes".
pub fn file_size(bytes: i64) -> String {
    match bytes {
        n if n >= 1024 * 1024 => format!("{:.1} MB", n as f64 / (1024.0 * 1024.0)),
        n if n >= 1024 => format!("{} KB", n / 1024),
        n => format!("{n} bytes"),
    }
}

/// A reply's one-line view of the message it answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quote {
    /// The `seq` of the message answered.
    pub seq: i64,
    /// Its author (empty names when it was deleted).
    pub author: Author,
    /// The start of its body (at most [`Quote::EXCERPT_CHARS`] characters), empty when deleted.
    pub excerpt: String,
    /// The message answered was deleted.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deleted: bool,
}

impl Quote {
    pub const EXCERPT_CHARS: usize = 100;

    /// The start of a body, on one line.
    pub fn excerpt_of(body: &str) -> String {
        let line: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
        match line.char_indices().nth(Self::EXCERPT_CHARS) {
            Some((end, _)) => format!("{}…", &line[..end]),
            None => line,
        }
    }
}

/// One emoji on a message: how many reacted with it, and who (usernames, first first).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reaction {
    pub emoji: String,
    pub count: u32,
    pub people: Vec<String>,
}

/// The most different emoji one message may carry.
pub const MAX_REACTIONS_PER_MESSAGE: usize = 20;

/// Everything the room page needs for its first render.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomPage {
    pub room: RoomSummary,
    /// The messages shown, oldest first: the latest ones, or a page of older ones when the
    /// page was asked for messages before a `seq`.
    pub messages: Vec<ChatMessage>,
    /// Whether messages older than the first one shown exist.
    pub has_older: bool,
    /// Whether this page shows older messages (`?before=`) rather than the latest.
    pub is_history: bool,
    pub online: u32,
    /// False when someone previews a public room they have not joined.
    pub is_member: bool,
    pub is_owner: bool,
    /// The room's change number when the page was read: the socket resumes from it
    /// (`?since=`), so an edit, deletion or reaction made after is not missed.
    #[serde(default)]
    pub last_change: i64,
    /// The reader's username, and whether they may delete anyone's message here (an admin,
    /// or the room's owner).
    #[serde(default)]
    pub me: String,
    #[serde(default)]
    pub moderates: bool,
    /// The `seq` the reader had read up to when the page was read (members, latest page only):
    /// the "New messages" line goes above the first later message by someone else.
    #[serde(default)]
    pub read_up_to: Option<i64>,
}

impl RoomPage {
    /// The first message shown that the reader had not read (and did not write).
    pub fn first_unread(&self) -> Option<i64> {
        let read = self.read_up_to?;
        self.messages.iter().find(|m| m.seq > read && m.author.username != self.me).map(|m| m.seq)
    }
}

/// One page of older messages, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryPage {
    pub messages: Vec<ChatMessage>,
    pub has_older: bool,
}

/// A public room under "browse rooms".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicRoom {
    pub name: String,
    pub title: String,
    pub members: i64,
    pub is_member: bool,
}

/// A group room's settings page: who is in it and who owns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomSettings {
    pub room: RoomSummary,
    pub owner: Option<String>,
    pub members: Vec<Person>,
    pub is_member: bool,
    pub is_owner: bool,
}

/// Someone on the admin page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminUser {
    pub person: Person,
    pub email: Option<String>,
    pub is_admin: bool,
    pub suspended: bool,
    /// Provisioned people who have not used their set-password link yet.
    pub has_password: bool,
    /// RFC 3339, UTC.
    pub member_since: String,
}

/// A room on the admin page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminRoom {
    pub name: String,
    pub title: String,
    pub kind: RoomKind,
    pub owner: Option<String>,
    pub members: i64,
    pub messages: i64,
}

/// `/admin`: everyone and every room.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminOverview {
    pub users: Vec<AdminUser>,
    pub rooms: Vec<AdminRoom>,
}

/// `/admin/room/<name>`: a room's latest messages, each with a delete button.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminRoomPage {
    pub room: AdminRoom,
    pub messages: Vec<ChatMessage>,
}

/// How many of a room's latest messages the admin page lists.
pub const ADMIN_ROOM_MESSAGES: i64 = 100;

/// How many messages a room page shows when it opens.
pub const ROOM_PAGE_MESSAGES: i64 = 20;
/// How many older messages each history page holds.
pub const HISTORY_PAGE_MESSAGES: i64 = 50;
/// The most people the directory lists at once; a search narrows it.
pub const DIRECTORY_LIMIT: i64 = 100;

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str, size: i64, pixels: Option<(u32, u32)>) -> Attachment {
        Attachment {
            id: 1,
            name: name.into(),
            size,
            mime: "image/png".into(),
            width: pixels.map(|p| p.0),
            height: pixels.map(|p| p.1),
            thumb_url: pixels.map(|_| "/files/thumb/1".into()),
            url: "/files/1/x".into(),
        }
    }

    #[test]
    fn files_are_told_by_name_size_and_shown_size() {
        let message =
            ChatMessage { attachments: vec![file("a.png", 10, None), file("b.txt", 10, None)], ..Default::default() };
        assert_eq!(message.summary(), "📎 a.png and 1 more");
        let words = ChatMessage { body: "hi".into(), attachments: vec![file("a.png", 1, None)], ..Default::default() };
        assert_eq!(words.summary(), "hi");
        assert_eq!(file("a", 2_516_582, None).size_text(), "2.4 MB");
        assert_eq!(file("a", 4096, None).size_text(), "4 KB");
        assert_eq!(file("a", 80, None).size_text(), "80 bytes");
        assert_eq!(file("a", 1, Some((1200, 600))).shown_size(320), Some((320, 160)));
        assert_eq!(file("a", 1, Some((40, 30))).shown_size(320), Some((40, 30)), "never enlarged");
    }

    #[test]
    fn the_display_name_is_shown_unless_it_is_blank() {
        assert_eq!(shown_name("ana", Some("Ana María")), "Ana María");
        assert_eq!(shown_name("ana", None), "ana");
        assert_eq!(shown_name("ana", Some("   ")), "ana");
        assert_eq!(shown_name("ana", Some("")), "ana");
    }

    #[test]
    fn initials_take_two_words() {
        assert_eq!(initials("Ana María"), "AM");
        assert_eq!(initials("bob"), "B");
        assert_eq!(initials("jo_smith"), "JS");
        assert_eq!(initials("  "), "?");
        assert_eq!(initials("élan vital extra"), "ÉV");
    }

    #[test]
    fn a_quote_is_the_start_of_the_body_on_one_line() {
        assert_eq!(Quote::excerpt_of("hello\n\n  world"), "hello world");
        let long = "é".repeat(150);
        assert_eq!(Quote::excerpt_of(&long), format!("{}…", "é".repeat(100)));
        assert_eq!(Quote::excerpt_of(&"a".repeat(100)), "a".repeat(100));
    }

    #[test]
    fn room_kinds_round_trip() {
        for kind in [RoomKind::Public, RoomKind::Private, RoomKind::Direct] {
            assert_eq!(RoomKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(RoomKind::parse("other"), None);
    }
}

/// How search results are ordered: newest first (the default) or best match first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SearchOrder {
    #[default]
    Newest,
    Relevance,
}

impl SearchOrder {
    /// From the `sort` query parameter (`relevance`, anything else is newest first).
    pub fn from_param(raw: Option<&str>) -> Self {
        match raw {
            Some("relevance") => SearchOrder::Relevance,
            _ => SearchOrder::Newest,
        }
    }
}

/// A piece of a found message's text, marked when it is one of the words searched for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Marked {
    pub text: String,
    pub mark: bool,
}

/// One message found by a search, with where it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchHit {
    /// The room's name (for its URL) and how it is shown: its title, or for a one-to-one
    /// chat the other person's name.
    pub room: String,
    pub room_title: String,
    pub kind: RoomKind,
    pub seq: i64,
    pub author: Author,
    pub created_at: String,
    /// The message's text (around the first match when it is long), matches marked.
    pub excerpt: Vec<Marked>,
    /// The names of the files it shares, matches marked.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<Vec<Marked>>,
}

/// A page of search results (at most [`SEARCH_PAGE`]) and where the next page starts.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SearchPage {
    pub hits: Vec<SearchHit>,
    /// Pass back as `page` for the results after these; `None` on the last page.
    pub next: Option<String>,
}

/// Search results per page.
pub const SEARCH_PAGE: usize = 20;
