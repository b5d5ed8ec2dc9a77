//! The server's side of the edge. Server functions in this crate validate their input into
//! domain types and then call these traits; the `server` crate implements them with the
//! database, the fan-out hub and the session store. Nothing here touches a database.

use std::net::IpAddr;
use std::sync::Arc;

use async_trait::async_trait;
use http::{HeaderMap, HeaderValue};

use crate::domain::{
    Bio, DisplayName, Email, Emoji, MessageBody, Password, PushSubscription, Role, RoomTitle, SearchQuery, Username,
    Visibility,
};
use crate::error::AppError;
use crate::model::{
    AdminOverview, AdminRoomPage, Author, CurrentUser, HistoryPage, Person, Profile, PublicRoom, RoomPage,
    RoomSettings, RoomSummary, SearchOrder, SearchPage, SessionInfo,
};

/// Where a request came from, as the server worked it out (put in the request's extensions).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddress(pub std::net::IpAddr);

/// A new account, validated.
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub username: Username,
    pub password: Password,
    pub email: Option<Email>,
}

/// A freshly created session: the user, and the `Set-Cookie` value that carries it.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub user: CurrentUser,
    pub set_cookie: HeaderValue,
}

/// Accounts and sessions.
#[async_trait]
pub trait Accounts: Send + Sync + 'static {
    /// The signed-in person, from the session cookie in `headers`.
    async fn current_user(&self, headers: &HeaderMap) -> Result<Option<CurrentUser>, AppError>;

    /// Creates the account and signs it in, ending any session `headers` carried.
    async fn signup(
        &self,
        headers: &HeaderMap,
        client: Option<IpAddr>,
        account: NewAccount,
    ) -> Result<NewSession, AppError>;

    /// Checks the password of the account named by `login` (a username or an email) and starts
    /// a new session, ending any session `headers` carried. After too many failures for the
    /// account or from `client`, every attempt (a right password too) is `TooManyAttempts`
    /// until the wait is over.
    async fn login(
        &self,
        headers: &HeaderMap,
        client: Option<IpAddr>,
        login: &str,
        password: &str,
    ) -> Result<NewSession, AppError>;

    /// Ends the session in `headers`; gives the `Set-Cookie` value that clears the cookie.
    async fn logout(&self, headers: &HeaderMap) -> Result<HeaderValue, AppError>;

    /// Changes the password of the person signed in by `headers`, after checking the current
    /// one; every other session of theirs ends.
    async fn change_password(&self, headers: &HeaderMap, current: &str, new: Password) -> Result<(), AppError>;

    /// Changes (or removes) the email of the person signed in by `headers`, after checking
    /// their password.
    async fn change_email(&self, headers: &HeaderMap, email: Option<Email>, password: &str) -> Result<(), AppError>;

    /// Ends every session of the person signed in by `headers`, this one included; gives the
    /// `Set-Cookie` value that clears the cookie.
    async fn sign_out_everywhere(&self, headers: &HeaderMap) -> Result<HeaderValue, AppError>;

    /// Deletes the account of the person signed in by `headers`, after checking their
    /// password: sessions and sockets end, messages stay as "deleted user", the avatar file
    /// goes. Gives the `Set-Cookie` value that clears the cookie.
    async fn delete_account(&self, headers: &HeaderMap, password: &str) -> Result<HeaderValue, AppError>;

    /// The live sessions of the person signed in by `headers`, the most recently used first.
    async fn sessions(&self, headers: &HeaderMap) -> Result<Vec<SessionInfo>, AppError>;

    /// Ends one session of the person signed in by `headers` (not the one it comes with: that
    /// is logging out); its sockets close at once. `NotFound` when there is no such session.
    async fn end_session(&self, headers: &HeaderMap, id: &str) -> Result<(), AppError>;

    /// The username a one-time set-password link is for (`NotFound` once used or expired).
    async fn password_link(&self, token: &str) -> Result<String, AppError>;

    /// Uses a one-time link: sets the password, ends every other session and signs in.
    async fn set_password(
        &self,
        headers: &HeaderMap,
        client: Option<IpAddr>,
        token: &str,
        password: Password,
    ) -> Result<NewSession, AppError>;
}

/// People: the directory and profiles, as seen by one signed-in person. Someone outside
/// their directory is `AppError::NotFound`, exactly like someone who does not exist.
#[async_trait]
pub trait People: Send + Sync + 'static {
    /// The people `user` may see whose username, display name or a role contains `query`.
    async fn directory(&self, user: &CurrentUser, query: &str) -> Result<Vec<Person>, AppError>;

    /// The profile of `username`, if `user` may see them in the directory (or it is `user`).
    async fn profile(&self, user: &CurrentUser, username: &str) -> Result<Profile, AppError>;

    /// Changes `user`'s own display name (`None`: show the username) and bio.
    async fn update_profile(
        &self,
        user: &CurrentUser,
        display_name: Option<DisplayName>,
        bio: Bio,
    ) -> Result<(), AppError>;

    /// The one-to-one room of `user` and `username`, created if needed; gives its name.
    async fn start_chat(&self, user: &CurrentUser, username: &str) -> Result<String, AppError>;
}

/// Rooms, always as seen by one signed-in person. A room that person may not see is
/// `AppError::NotFound`, exactly like a room that does not exist.
#[async_trait]
pub trait Rooms: Send + Sync + 'static {
    /// The rooms `user` is in, for the sidebar.
    async fn my_rooms(&self, user: &CurrentUser) -> Result<Vec<RoomSummary>, AppError>;

    /// The room page: the latest messages, or a page of older ones before `before`.
    async fn room_page(&self, user: &CurrentUser, room: &str, before: Option<i64>) -> Result<RoomPage, AppError>;

    /// Older messages: a page of the ones with a `seq` below `before`.
    async fn history(&self, user: &CurrentUser, room: &str, before: i64) -> Result<HistoryPage, AppError>;

    /// Stores a message (answering the one with `seq` `reply_to`, if given) and delivers it
    /// to everyone in the room, exactly as the socket does.
    async fn post_message(
        &self,
        user: &CurrentUser,
        room: &str,
        body: MessageBody,
        reply_to: Option<i64>,
    ) -> Result<(), AppError>;

    /// The author gives their message a new body.
    async fn edit_message(&self, user: &CurrentUser, room: &str, seq: i64, body: MessageBody) -> Result<(), AppError>;

    /// Deletes a message: the author's own, or any for the room's owner and admins.
    async fn delete_message(&self, user: &CurrentUser, room: &str, seq: i64) -> Result<(), AppError>;

    /// Adds (`on`) or takes back the person's reaction to a message.
    async fn react(&self, user: &CurrentUser, room: &str, seq: i64, emoji: Emoji, on: bool) -> Result<(), AppError>;

    /// Up to 8 of the room's members whose username or display name starts with `prefix`
    /// (ignoring case), for the composer's `@` autocomplete.
    async fn mentionable(&self, user: &CurrentUser, room: &str, prefix: &str) -> Result<Vec<Author>, AppError>;

    /// Public rooms whose title contains `query`.
    async fn public_rooms(&self, user: &CurrentUser, query: &str) -> Result<Vec<PublicRoom>, AppError>;

    /// Creates a group room owned by `user`; gives its name (the slug).
    async fn create_room(
        &self,
        user: &CurrentUser,
        title: RoomTitle,
        visibility: Visibility,
    ) -> Result<String, AppError>;

    async fn join_room(&self, user: &CurrentUser, room: &str) -> Result<(), AppError>;

    async fn leave_room(&self, user: &CurrentUser, room: &str) -> Result<(), AppError>;

    /// The members page of a group room.
    async fn room_settings(&self, user: &CurrentUser, room: &str) -> Result<RoomSettings, AppError>;

    /// The owner adds someone from their directory.
    async fn add_member(&self, user: &CurrentUser, room: &str, username: &str) -> Result<(), AppError>;

    /// The owner removes a member.
    async fn remove_member(&self, user: &CurrentUser, room: &str, username: &str) -> Result<(), AppError>;

    /// The owner hands the room to another member.
    async fn transfer_room(&self, user: &CurrentUser, room: &str, username: &str) -> Result<(), AppError>;

    async fn rename_room(&self, user: &CurrentUser, room: &str, title: RoomTitle) -> Result<(), AppError>;

    /// The owner deletes the room and its messages; `confirm` must repeat the room's name.
    async fn delete_room(&self, user: &CurrentUser, room: &str, confirm: &str) -> Result<(), AppError>;
}

/// What admins do on `/admin`. For anyone without the admin flag every method is
/// `AppError::NotFound`, as if the page did not exist.
#[async_trait]
pub trait Admin: Send + Sync + 'static {
    async fn admin_overview(&self, user: &CurrentUser) -> Result<AdminOverview, AppError>;

    /// Suspends (signs out everywhere at once, closes their sockets) or reinstates someone.
    async fn admin_set_suspended(&self, user: &CurrentUser, username: &str, suspended: bool) -> Result<(), AppError>;

    async fn admin_set_roles(&self, user: &CurrentUser, username: &str, roles: Vec<Role>) -> Result<(), AppError>;

    async fn admin_set_admin(&self, user: &CurrentUser, username: &str, is_admin: bool) -> Result<(), AppError>;

    /// A one-time link (72 hours) with which `username` sets a new password; `headers` give
    /// the address the link starts with when `PUBLIC_URL` is not set.
    async fn admin_reset_password(
        &self,
        user: &CurrentUser,
        username: &str,
        headers: &HeaderMap,
    ) -> Result<String, AppError>;

    async fn admin_room(&self, user: &CurrentUser, room: &str) -> Result<AdminRoomPage, AppError>;

    /// Deletes one message; it disappears from every open page of the room at once.
    async fn admin_delete_message(&self, user: &CurrentUser, room: &str, seq: i64) -> Result<(), AppError>;

    /// Deletes a room (never the public chat) with its messages.
    async fn admin_delete_room(&self, user: &CurrentUser, room: &str) -> Result<(), AppError>;
}

/// Searching the messages of every room a person may see right now (their rooms, public
/// rooms, their one-to-one chats), and nothing else.
#[async_trait]
pub trait Search: Send + Sync + 'static {
    /// A page of the messages matching `query`, in `order`, starting at `page` (a previous
    /// page's `next`).
    async fn search(
        &self,
        user: &CurrentUser,
        query: &SearchQuery,
        order: SearchOrder,
        page: Option<&str>,
    ) -> Result<SearchPage, AppError>;
}

/// Push notifications (Web Push): private messages and mentions reach a browser that turned
/// them on, through its push service, when the person has no tab of the chat open.
#[async_trait]
pub trait Push: Send + Sync + 'static {
    /// The key browsers subscribe with (`applicationServerKey`, base64url).
    fn push_key(&self) -> String;

    /// Starts pushes to this browser for the person signed in by `headers`, for as long as
    /// this session lasts.
    async fn save_push_subscription(&self, headers: &HeaderMap, subscription: PushSubscription)
        -> Result<(), AppError>;

    /// Stops pushes to `endpoint` for the person signed in by `headers`.
    async fn drop_push_subscription(&self, headers: &HeaderMap, endpoint: &str) -> Result<(), AppError>;
}

/// Everything server functions call.
pub trait Backend: Accounts + People + Rooms + Admin + Search + Push {}

impl<T: Accounts + People + Rooms + Admin + Search + Push> Backend for T {}

/// How the server provides its backend to server functions (through Leptos context).
pub type SharedBackend = Arc<dyn Backend>;
