//! What makes a message: its body, the client id that makes a resend harmless, and the
//! people it mentions.

use serde::{Deserialize, Serialize};

use super::people::Username;

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
    fn message_bodies_are_trimmed_and_bounded() {
        assert_eq!(MessageBody::parse("  hi \n").unwrap().as_str(), "hi");
        assert_eq!(MessageBody::parse(" \n\t ").unwrap_err(), BodyError::Empty);
        assert!(MessageBody::parse(&"é".repeat(1000)).is_ok());
        assert_eq!(MessageBody::parse(&"é".repeat(1001)).unwrap_err(), BodyError::TooLong);
        // Surrounding whitespace does not count towards the limit.
        assert!(MessageBody::parse(&format!("  {}  ", "a".repeat(1000))).is_ok());
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
}
