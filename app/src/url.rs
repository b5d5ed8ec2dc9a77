//! Every URL of the app, built in one place and used on both sides of the edge: pages, links,
//! redirects, sockets. Room names are slugs and usernames letters, digits and `._-` (see
//! `domain`), so neither needs encoding; free text (a search, a path to come back to) is
//! percent-encoded.

/// The directory (also the home page).
pub const DIRECTORY: &str = "/profiles/";
/// Browsing and creating rooms.
pub const ROOMS: &str = "/rooms";
/// The person's own settings.
pub const SETTINGS: &str = "/settings";
/// Logging in, and signing up.
pub const LOGIN: &str = "/login";
pub const SIGNUP: &str = "/signup";
/// The first page after signing up: a name and a picture.
pub const WELCOME: &str = "/welcome";
/// The admin page.
pub const ADMIN: &str = "/admin";
/// Searching messages: `/search?q=…`.
pub const SEARCH: &str = "/search";

/// A search's results page: the query, the order (`relevance`, or newest first) and the
/// page to start at (from the previous page's `next`).
pub fn search(query: &str, relevance: bool, page: Option<&str>) -> String {
    let mut url = format!("{SEARCH}?q={}", percent_encode(query));
    if relevance {
        url.push_str("&sort=relevance");
    }
    if let Some(page) = page {
        url.push_str(&format!("&page={}", percent_encode(page)));
    }
    url
}

/// Where a one-time link sets a password.
pub fn set_password(token: &str) -> String {
    format!("/set-password?token={}", percent_encode(token))
}

/// A room's page.
pub fn room(name: &str) -> String {
    format!("/chat/room/{name}/")
}

/// A group room's members page.
pub fn room_settings(name: &str) -> String {
    format!("/chat/room/{name}/settings")
}

/// A room's page scrolled to one of its messages.
pub fn room_at(name: &str, seq: i64) -> String {
    format!("{}#m{seq}", room(name))
}

/// A room's page opened at one of its messages, with the history around it (a still page of
/// the messages up to 25 after it and those before), the message highlighted.
pub fn message_in(name: &str, seq: i64) -> String {
    format!("{}?before={}#m{seq}", room(name), seq + 26)
}

/// A room's socket, replaying what came after `after` (`0`: from the start of what is kept)
/// and the changes since change number `since`.
pub fn room_socket(name: &str, after: i64, since: i64) -> String {
    format!("/ws/chatroom/{name}/?after={after}&since={since}")
}

/// The person's own socket.
pub const USER_SOCKET: &str = "/ws/chat/";

/// Someone's profile.
pub fn profile(username: &str) -> String {
    format!("/@{username}")
}

/// Starts (or opens) the one-to-one chat with someone.
pub fn chat_with(username: &str) -> String {
    format!("/chat/{username}/")
}

/// A room as the admin page shows it.
pub fn admin_room(name: &str) -> String {
    format!("/admin/room/{name}")
}

/// Where avatars are served: `/avatars/<file>`. Each upload gets a new file name, so the
/// files are cached for a year.
pub fn avatar(file: &str) -> String {
    format!("/avatars/{file}")
}

/// A file shared in a room, under its name (`/files/<id>/<name>`): only people who may see the
/// room get it.
pub fn file(id: i64, name: &str) -> String {
    format!("/files/{id}/{}", percent_encode(name).replace('/', "%2F"))
}

/// An image's thumbnail.
pub fn thumbnail(id: i64) -> String {
    format!("/files/thumb/{id}")
}

/// Where files are posted with a message (a multipart form).
pub const ATTACH: &str = "/api/attach";

/// The login page, coming back to `next` (a path of this site) once signed in.
pub fn login_then(next: &str) -> String {
    format!("/login?next={}", percent_encode(next))
}

/// Only same-site paths are followed after login, never `//evil.example` or `https://…`.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(path) if path.starts_with('/') && !path.starts_with("//") && !path.contains('\\') => path.to_owned(),
        _ => "/".to_owned(),
    }
}

/// Percent-encodes a query value (everything but unreserved characters and `/`).
pub fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => out.push(byte as char),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

/// `path`, with `?q=<query>` when the query is not empty.
pub fn with_query(path: &str, query: &str) -> String {
    if query.trim().is_empty() {
        path.to_owned()
    } else {
        format!("{path}?q={}", percent_encode(query))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_is_only_followed_within_the_site() {
        assert_eq!(safe_next(Some("/chat/room/public-chat/")), "/chat/room/public-chat/");
        assert_eq!(safe_next(Some("//evil.example/")), "/");
        assert_eq!(safe_next(Some("https://evil.example/")), "/");
        assert_eq!(safe_next(Some("/\\evil.example")), "/");
        assert_eq!(safe_next(None), "/");
    }

    #[test]
    fn search_results_and_found_messages_have_addresses() {
        assert_eq!(search("from:ana #1", false, None), "/search?q=from%3Aana%20%231");
        assert_eq!(search("x", true, Some("r:-1.5:7")), "/search?q=x&sort=relevance&page=r%3A-1.5%3A7");
        assert_eq!(message_in("general", 100), "/chat/room/general/?before=126#m100");
    }

    #[test]
    fn files_are_named_safely() {
        assert_eq!(file(7, "my report (final).pdf"), "/files/7/my%20report%20%28final%29.pdf");
        assert_eq!(file(7, "a/b"), "/files/7/a%2Fb");
        assert_eq!(thumbnail(7), "/files/thumb/7");
    }

    #[test]
    fn queries_are_encoded() {
        assert_eq!(with_query("/profiles", "ana maría&x"), "/profiles?q=ana%20mar%C3%ADa%26x");
        assert_eq!(with_query("/profiles", "  "), "/profiles");
    }

    #[test]
    fn the_path_to_come_back_to_is_encoded_so_its_own_query_survives() {
        assert_eq!(login_then("/settings"), "/login?next=/settings");
        assert_eq!(login_then("/profiles/?q=ana&x=1"), "/login?next=/profiles/%3Fq%3Dana%26x%3D1");
        assert_eq!(login_then("/chat/room/café/"), "/login?next=/chat/room/caf%C3%A9/");
    }

    #[test]
    fn rooms_people_and_files_have_one_address_each() {
        assert_eq!(room("public-chat"), "/chat/room/public-chat/");
        assert_eq!(room_settings("book-club"), "/chat/room/book-club/settings");
        assert_eq!(room_socket("book-club", 42, 7), "/ws/chatroom/book-club/?after=42&since=7");
        assert_eq!(profile("ana"), "/@ana");
        assert_eq!(chat_with("ana"), "/chat/ana/");
        assert_eq!(admin_room("book-club"), "/admin/room/book-club");
        assert_eq!(avatar("7-abc.png"), "/avatars/7-abc.png");
        assert_eq!(set_password("a-b_c"), "/set-password?token=a-b_c");
    }
}
