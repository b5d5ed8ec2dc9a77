//! Validated values. Each newtype's `parse` is its only constructor, so holding one means the
//! value was checked; the messages are the ones people see, and say what to do.

use serde::{Deserialize, Serialize};

/// A username: 3–30 ASCII letters, digits, `_` or `-`. Uniqueness ignores case (enforced by
/// the database); the spelling the person chose is kept for display.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Username(String);

impl Username {
    pub const MIN_CHARS: usize = 3;
    pub const MAX_CHARS: usize = 30;

    pub fn parse(raw: &str) -> Result<Self, String> {
        let name = raw.trim();
        if name.len() < Self::MIN_CHARS || name.len() > Self::MAX_CHARS {
            return Err(format!("usernames are {} to {} characters long", Self::MIN_CHARS, Self::MAX_CHARS));
        }
        if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
            return Err("usernames may only use letters, digits, '_' and '-'".into());
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A new password: at least 8 characters (counted as characters, not bytes), at most 1024 so
/// that nobody can make the server hash megabytes.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    pub const MIN_CHARS: usize = 8;
    pub const MAX_CHARS: usize = 1024;

    pub fn parse(raw: &str) -> Result<Self, String> {
        let count = raw.chars().count();
        if count < Self::MIN_CHARS {
            return Err(format!("password too short: use at least {} characters", Self::MIN_CHARS));
        }
        if count > Self::MAX_CHARS {
            return Err(format!("password too long: use at most {} characters", Self::MAX_CHARS));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// An email address, checked only for shape (one `@`, something on both sides, no spaces);
/// stored as given, unique ignoring case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Email(String);

impl Email {
    pub const MAX_CHARS: usize = 254;

    /// An empty string means "no email" and gives `Ok(None)`.
    pub fn parse_optional(raw: &str) -> Result<Option<Self>, String> {
        let email = raw.trim();
        if email.is_empty() {
            return Ok(None);
        }
        let valid_shape = match email.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !domain.contains('@')
            }
            None => false,
        };
        if !valid_shape || email.len() > Self::MAX_CHARS || email.chars().any(char::is_whitespace) {
            return Err("that email address does not look right: use the form name@example.com".into());
        }
        Ok(Some(Self(email.to_owned())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A message body: 1–1000 characters after trimming.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageBody(String);

/// Why a message body was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyError {
    Empty,
    TooLong,
}

impl BodyError {
    pub fn message(self) -> String {
        match self {
            BodyError::Empty => "write something before sending".into(),
            BodyError::TooLong => {
                format!("messages are at most {} characters: shorten it or split it in two", MessageBody::MAX_CHARS)
            }
        }
    }
}

impl MessageBody {
    pub const MAX_CHARS: usize = 1000;

    pub fn parse(raw: &str) -> Result<Self, BodyError> {
        let body = raw.trim();
        if body.is_empty() {
            return Err(BodyError::Empty);
        }
        if body.chars().count() > Self::MAX_CHARS {
            return Err(BodyError::TooLong);
        }
        Ok(Self(body.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A room name as it appears in URLs (`public-chat`): 1–64 lowercase letters, digits and `-`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RoomName(String);

impl RoomName {
    pub const MAX_CHARS: usize = 64;
    pub const PUBLIC: &'static str = "public-chat";
    /// One-to-one chats are named `dm-…`; group room slugs never start with it.
    pub const DIRECT_PREFIX: &'static str = "dm-";
    /// Room slugs leave room for a `-NN` suffix within [`RoomName::MAX_CHARS`].
    pub const SLUG_MAX_CHARS: usize = 48;

    pub fn parse(raw: &str) -> Option<Self> {
        let valid = !raw.is_empty()
            && raw.len() <= Self::MAX_CHARS
            && raw.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
        valid.then(|| Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A role: a plain lowercase word such as `tenant` or `landlord` (1–32 letters, digits, `_`
/// or `-`). People see, in the directory, the people who share one of their roles.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Role(String);

impl Role {
    pub const MAX_CHARS: usize = 32;

    pub fn parse(raw: &str) -> Result<Self, String> {
        let role = raw.trim().to_lowercase();
        let valid = !role.is_empty()
            && role.len() <= Self::MAX_CHARS
            && role.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !valid {
            return Err(format!(
                "roles are single words of 1 to {} letters, digits, '_' or '-' (like tenant), not {raw:?}",
                Self::MAX_CHARS
            ));
        }
        Ok(Self(role))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A group room's title as people typed it: 1–60 characters after trimming, no line breaks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomTitle(String);

impl RoomTitle {
    pub const MAX_CHARS: usize = 60;

    pub fn parse(raw: &str) -> Result<Self, String> {
        let title = raw.trim();
        if title.is_empty() {
            return Err("give the room a name".into());
        }
        if title.chars().count() > Self::MAX_CHARS {
            return Err(format!("room names are at most {} characters", Self::MAX_CHARS));
        }
        if title.chars().any(char::is_control) {
            return Err("room names are one line of text".into());
        }
        Ok(Self(title.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The URL slug derived from the title: lowercase ASCII letters and digits joined by `-`
    /// (`"Rent & Repairs!"` → `rent-repairs`). Never starts with the prefix reserved for
    /// one-to-one chats, and is never empty. The store adds `-2`, `-3`… when it is taken.
    pub fn slug(&self) -> String {
        let mut slug = String::new();
        for c in self.0.chars().flat_map(char::to_lowercase) {
            if c.is_ascii_alphanumeric() {
                slug.push(c);
            } else if !slug.is_empty() && !slug.ends_with('-') {
                slug.push('-');
            }
        }
        slug.truncate(RoomName::SLUG_MAX_CHARS);
        let slug = slug.trim_end_matches('-').to_owned();
        if slug.is_empty() {
            "room".to_owned()
        } else if slug.starts_with(RoomName::DIRECT_PREFIX) || slug == RoomName::PUBLIC {
            format!("room-{slug}")
        } else {
            slug
        }
    }
}

/// Who can find and join a group room.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    /// Listed under "browse rooms"; anyone signed in may read and join.
    Public,
    /// Members only; the owner adds people. Everyone else is told it does not exist.
    Private,
}

impl Visibility {
    pub fn parse(raw: &str) -> Result<Self, String> {
        match raw.trim() {
            "public" => Ok(Self::Public),
            "private" => Ok(Self::Private),
            _ => Err("choose whether the room is public or private".into()),
        }
    }
}

/// The name people see instead of the username: at most 20 characters, no line breaks.
/// Empty means "use my username".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisplayName(String);

impl DisplayName {
    pub const MAX_CHARS: usize = 20;

    pub fn parse(raw: &str) -> Result<Option<Self>, String> {
        let name = raw.split_whitespace().collect::<Vec<_>>().join(" ");
        if name.is_empty() {
            return Ok(None);
        }
        if name.chars().count() > Self::MAX_CHARS {
            return Err(format!("display names are at most {} characters", Self::MAX_CHARS));
        }
        if name.chars().any(char::is_control) {
            return Err("display names are one line of text".into());
        }
        Ok(Some(Self(name)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A few words about yourself: at most 300 characters, trimmed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bio(String);

impl Bio {
    pub const MAX_CHARS: usize = 300;

    pub fn parse(raw: &str) -> Result<Self, String> {
        let bio = raw.trim().replace("\r\n", "\n");
        if bio.chars().count() > Self::MAX_CHARS {
            return Err(format!("the bio is at most {} characters", Self::MAX_CHARS));
        }
        Ok(Self(bio))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The usernames a message body mentions (`@ana`), lowercased, each once, in order. A mention
/// is `@` at the start or after a character that cannot be in a username (so an email address
/// mentions nobody), followed by a valid username.
pub fn mentions(body: &str) -> Vec<String> {
    let is_name_char = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    let mut found: Vec<String> = Vec::new();
    let mut previous: Option<char> = None;
    for (at, c) in body.char_indices() {
        if c == '@' && !previous.is_some_and(is_name_char) {
            let name: String = body[at + 1..].chars().take_while(|c| is_name_char(*c)).collect();
            let name = name.trim_end_matches(['-', '_']).to_lowercase();
            if Username::parse(&name).is_ok() && !found.contains(&name) {
                found.push(name);
            }
        }
        previous = Some(c);
    }
    found
}

/// The name a client gives a message it sends, so that sending it again after a dropped
/// connection stores it once: 1–64 letters, digits, `-` or `_` (a UUID fits).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ClientId(String);

impl ClientId {
    pub const MAX_CHARS: usize = 64;

    pub fn parse(raw: &str) -> Result<Self, String> {
        let valid = !raw.is_empty()
            && raw.len() <= Self::MAX_CHARS
            && raw.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if valid {
            Ok(Self(raw.to_owned()))
        } else {
            Err(format!("client_id must be 1 to {} letters, digits, '-' or '_' (a UUID works)", Self::MAX_CHARS))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_follow_the_rules() {
        assert_eq!(Username::parse(" ana ").unwrap().as_str(), "ana");
        assert!(Username::parse("Ana_B-3").is_ok());
        assert!(Username::parse("ab").is_err());
        assert!(Username::parse(&"a".repeat(31)).is_err());
        assert!(Username::parse(&"a".repeat(30)).is_ok());
        assert!(Username::parse("ana b").is_err());
        assert!(Username::parse("anä").is_err());
        assert!(Username::parse("ana@x").is_err());
    }

    #[test]
    fn passwords_count_characters_not_bytes() {
        assert!(Password::parse("1234567").unwrap_err().contains("too short"));
        assert!(Password::parse("12345678").is_ok());
        // Seven characters, fourteen bytes: still too short.
        assert!(Password::parse("ääääääa").is_err());
        assert!(Password::parse(&"x".repeat(1025)).is_err());
        assert_eq!(format!("{:?}", Password::parse("secret-password").unwrap()), "Password(<redacted>)");
    }

    #[test]
    fn emails_are_optional_and_shaped() {
        assert_eq!(Email::parse_optional("  ").unwrap(), None);
        assert_eq!(Email::parse_optional("a@b.co").unwrap().unwrap().as_str(), "a@b.co");
        for bad in ["a", "@b.co", "a@b", "a@.co", "a b@c.co", "a@b@c.co", "a@b.co."] {
            assert!(Email::parse_optional(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn message_bodies_are_trimmed_and_bounded() {
        assert_eq!(MessageBody::parse("  hi \n").unwrap().as_str(), "hi");
        assert_eq!(MessageBody::parse(" \n\t ").unwrap_err(), BodyError::Empty);
        assert!(MessageBody::parse(&"é".repeat(1000)).is_ok());
        assert_eq!(MessageBody::parse(&"é".repeat(1001)).unwrap_err(), BodyError::TooLong);
        // Surrounding whitespace does not count towards the limit.
        assert!(MessageBody::parse(&format!("  {}  ", "a".repeat(1000))).is_ok());
    }

    #[test]
    fn room_names_are_url_safe() {
        assert!(RoomName::parse("public-chat").is_some());
        assert!(RoomName::parse("").is_none());
        assert!(RoomName::parse("Public").is_none());
        assert!(RoomName::parse("../etc").is_none());
        assert!(RoomName::parse(&"a".repeat(65)).is_none());
    }

    #[test]
    fn roles_are_lowercase_words() {
        assert_eq!(Role::parse(" Tenant ").unwrap().as_str(), "tenant");
        assert!(Role::parse("").is_err());
        assert!(Role::parse("two words").is_err());
        assert!(Role::parse(&"r".repeat(33)).is_err());
    }

    #[test]
    fn slugs_are_url_safe_and_never_look_like_a_direct_chat() {
        let slug = |t: &str| RoomTitle::parse(t).unwrap().slug();
        assert_eq!(slug("Rent & Repairs!"), "rent-repairs");
        assert_eq!(slug("  Café  Élan "), "caf-lan");
        assert_eq!(slug("!!!"), "room");
        assert_eq!(slug("日本語"), "room");
        assert_eq!(slug("DM-1-2"), "room-dm-1-2");
        assert_eq!(slug("Public Chat"), "room-public-chat");
        let long = slug(&"word ".repeat(12));
        assert!(long.len() <= RoomName::SLUG_MAX_CHARS && !long.ends_with('-'), "{long}");
        for title in ["Rent & Repairs!", "!!!", "DM-1-2", &"x".repeat(60)] {
            assert!(RoomName::parse(&slug(title)).is_some(), "{title}");
        }
        assert!(RoomTitle::parse("   ").is_err());
        assert!(RoomTitle::parse("a\nb").is_err());
        assert!(RoomTitle::parse(&"é".repeat(61)).is_err());
    }

    #[test]
    fn client_ids_are_short_plain_words() {
        assert_eq!(ClientId::parse("0b8e0c1e-5a4f-4c8e-9d1a-3f2b7c6d5e4f").unwrap().as_str().len(), 36);
        assert!(ClientId::parse("").is_err());
        assert!(ClientId::parse("has space").is_err());
        assert!(ClientId::parse(&"x".repeat(65)).is_err());
        assert!(ClientId::parse(&"x".repeat(64)).is_ok());
    }

    #[test]
    fn mentions_are_at_signs_before_usernames_but_not_emails() {
        assert_eq!(mentions("hi @Ana and @bob_x, @ana again"), ["ana", "bob_x"]);
        assert_eq!(mentions("@cleo: look"), ["cleo"]);
        assert_eq!(mentions("write to ana@example.org"), Vec::<String>::new());
        assert_eq!(mentions("@@ @ab @ok-"), Vec::<String>::new(), "nothing, or too short");
        assert_eq!(mentions("(@dan)"), ["dan"]);
    }

    #[test]
    fn display_names_are_short_single_lines_and_empty_means_none() {
        assert_eq!(DisplayName::parse("  Ana   María ").unwrap().unwrap().as_str(), "Ana María");
        assert_eq!(DisplayName::parse("   ").unwrap(), None);
        assert!(DisplayName::parse(&"é".repeat(20)).unwrap().is_some());
        assert!(DisplayName::parse(&"é".repeat(21)).is_err());
        assert!(Bio::parse(&"x".repeat(301)).is_err());
        assert_eq!(Bio::parse("  hi\r\nthere ").unwrap().as_str(), "hi\nthere");
    }
}
