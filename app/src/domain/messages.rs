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

    /// The text of a message that shares files: it may be empty.
    pub fn caption(raw: &str) -> Result<Self, BodyError> {
        match raw.trim().is_empty() {
            true => Ok(Self(String::new())),
            false => Self::parse(raw),
        }
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

/// A reaction: one emoji, as people type or pick it (`👍`, `❤️`, `👍🏽`, `🇫🇷`, `1️⃣`,
/// `👩‍💻`). Anything else (text, two emoji, an emoji with letters) is refused.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Emoji(String);

/// What pages offer to react with in one tap; any other single emoji can be typed.
pub const REACTION_PALETTE: [&str; 8] = ["👍", "❤️", "😂", "🎉", "😮", "😢", "🙏", "👀"];

impl Emoji {
    /// The longest emoji accepted, in bytes (the longest family and flag sequences fit).
    pub const MAX_BYTES: usize = 40;

    pub fn parse(raw: &str) -> Result<Self, String> {
        let emoji = raw.trim();
        if !emoji.is_empty() && emoji.len() <= Self::MAX_BYTES && is_one_emoji(emoji) {
            Ok(Self(emoji.to_owned()))
        } else {
            Err("react with one emoji, like 👍".to_owned())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Whether `text` is a single emoji: a flag (two regional indicators), a keycap (`1️⃣`), or
/// pictographs joined by zero-width joiners, each with an optional variation selector, skin
/// tone and (for subdivision flags) tag characters.
fn is_one_emoji(text: &str) -> bool {
    let chars: Vec<char> = text.chars().collect();
    let regional = |c: char| ('\u{1F1E6}'..='\u{1F1FF}').contains(&c);
    if chars.iter().any(|c| regional(*c)) {
        return chars.len() == 2 && chars.iter().all(|c| regional(*c));
    }
    if let [key, rest @ ..] = chars.as_slice() {
        if key.is_ascii_digit() || *key == '#' || *key == '*' {
            return matches!(rest, ['\u{20E3}'] | ['\u{FE0F}', '\u{20E3}']);
        }
    }
    let parts: Vec<&[char]> = chars.split(|c| *c == '\u{200D}').collect();
    parts.len() <= 8
        && parts.iter().all(|part| match part {
            [base, rest @ ..] => {
                is_pictograph(*base)
                    && rest.iter().all(|c| {
                        *c == '\u{FE0F}'
                            || ('\u{1F3FB}'..='\u{1F3FF}').contains(c)
                            || ('\u{E0020}'..='\u{E007F}').contains(c)
                    })
            }
            [] => false,
        })
}

/// The code points that are emoji on their own (Unicode's Extended_Pictographic, in blocks),
/// less the letters those blocks hold (the squared and circled letters, `🄷`): a reaction is a
/// picture, never a word.
fn is_pictograph(c: char) -> bool {
    !c.is_alphabetic()
        && matches!(c,
        '\u{00A9}' | '\u{00AE}' | '\u{203C}' | '\u{2049}' | '\u{2122}' | '\u{2139}'
        | '\u{2194}'..='\u{21AA}' | '\u{231A}'..='\u{23FF}' | '\u{24C2}' | '\u{25AA}'..='\u{25FE}'
        | '\u{2600}'..='\u{27BF}' | '\u{2934}' | '\u{2935}' | '\u{2B05}'..='\u{2B55}' | '\u{3030}'
        | '\u{303D}' | '\u{3297}' | '\u{3299}' | '\u{1F000}'..='\u{1F1E5}' | '\u{1F200}'..='\u{1F3FA}'
        | '\u{1F400}'..='\u{1FAFF}')
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

    #[test]
    fn a_reaction_is_one_emoji() {
        for ok in ["👍", "❤️", "👍🏽", "🇫🇷", "1️⃣", "#⃣", "👩‍💻", "👨‍👩‍👧‍👦", "🏴󠁧󠁢󠁳󠁣󠁴󠁿", " 🎉 ", "©️"]
        {
            assert_eq!(Emoji::parse(ok).map(|e| e.as_str().to_owned()), Ok(ok.trim().to_owned()), "{ok:?}");
        }
        for bad in
            ["", " ", "a", "ok", "👍👍", "🇫", "🇫🇷🇩🇪", "1", "👍a", "\u{200D}", "👍\u{200D}", "<b>", "\u{FE0F}", "🄷", "🄰"]
        {
            assert!(Emoji::parse(bad).is_err(), "{bad:?}");
        }
        for emoji in REACTION_PALETTE {
            assert!(Emoji::parse(emoji).is_ok(), "{emoji}");
        }
        assert!(Emoji::parse(&"👍".repeat(11)).is_err());
    }
}
