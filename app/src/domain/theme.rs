//! The colours a browser shows the chat in: light, dark, or as the system says (the default).

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Theme {
    Light,
    Dark,
    #[default]
    System,
}

impl Theme {
    pub const ALL: [Theme; 3] = [Theme::System, Theme::Light, Theme::Dark];

    /// What a form or cookie says; anything else is the system's choice.
    pub fn parse(value: &str) -> Self {
        match value.trim() {
            "light" => Self::Light,
            "dark" => Self::Dark,
            _ => Self::System,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Light => "light",
            Self::Dark => "dark",
            Self::System => "system",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Light => "Light",
            Self::Dark => "Dark",
            Self::System => "As the system (light or dark)",
        }
    }

    /// The value of `<html data-theme>`: none when the stylesheet follows the system.
    pub fn attribute(self) -> Option<&'static str> {
        (self != Self::System).then(|| self.as_str())
    }

    /// The theme a `Cookie` header chose (`theme=dark`).
    pub fn from_cookies(header: &str) -> Self {
        header
            .split(';')
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(name, _)| *name == Self::COOKIE)
            .map_or(Self::System, |(_, value)| Self::parse(value))
    }

    pub const COOKIE: &'static str = "theme";
}

#[cfg(test)]
mod tests {
    use super::Theme;

    #[test]
    fn the_cookie_says_which_theme_and_anything_else_is_the_system() {
        assert_eq!(Theme::from_cookies("session=abc; theme=dark"), Theme::Dark);
        assert_eq!(Theme::from_cookies("theme=light"), Theme::Light);
        assert_eq!(Theme::from_cookies("theme=purple"), Theme::System);
        assert_eq!(Theme::from_cookies("mytheme=dark"), Theme::System);
        assert_eq!(Theme::from_cookies(""), Theme::System);
        assert_eq!(Theme::Dark.attribute(), Some("dark"));
        assert_eq!(Theme::System.attribute(), None);
    }
}
