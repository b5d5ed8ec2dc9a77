//! What describes a person: their username, password, email, roles, display name and bio.

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
    fn roles_are_lowercase_words() {
        assert_eq!(Role::parse(" Tenant ").unwrap().as_str(), "tenant");
        assert!(Role::parse("").is_err());
        assert!(Role::parse("two words").is_err());
        assert!(Role::parse(&"r".repeat(33)).is_err());
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
