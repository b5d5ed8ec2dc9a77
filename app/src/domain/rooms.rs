//! What names a room: its name in URLs, the title people typed (and the slug made of it),
//! and who may find it.

use serde::{Deserialize, Serialize};

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn room_names_are_url_safe() {
        assert!(RoomName::parse("public-chat").is_some());
        assert!(RoomName::parse("").is_none());
        assert!(RoomName::parse("Public").is_none());
        assert!(RoomName::parse("../etc").is_none());
        assert!(RoomName::parse(&"a".repeat(65)).is_none());
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
}
