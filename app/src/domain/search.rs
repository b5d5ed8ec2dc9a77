//! A search as typed into the search box: words (and `"quoted phrases"`) to find, and the
//! filters `in:<room>`, `from:<username>`, `after:<date>`, `before:<date>` and `on:<date>`
//! (dates `YYYY-MM-DD`, days in UTC). The last word is matched as a prefix while it is being
//! typed (no space after it yet), so results come as you type.

/// The most words and phrases one search may hold.
pub const MAX_TERMS: usize = 12;
/// The longest search the box takes, in characters.
pub const MAX_CHARS: usize = 300;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SearchQuery {
    /// Words and phrases, all of which a message must contain (as typed; each holds at least
    /// one letter or digit).
    pub terms: Vec<String>,
    /// Whether the last term is a word still being typed: it matches as a prefix.
    pub prefix: bool,
    /// `in:<room>`: a room's name, or the username of the other person of a one-to-one chat.
    pub room: Option<String>,
    /// `from:<username>` (lowercased, without `@`).
    pub from: Option<String>,
    /// Messages from this day on (`after:`, or `on:`).
    pub since: Option<Day>,
    /// Messages before this day (`before:`; `on:` sets the day after).
    pub until: Option<Day>,
}

impl SearchQuery {
    /// Reads what was typed. An error says which part to fix.
    pub fn parse(input: &str) -> Result<Self, String> {
        if input.chars().count() > MAX_CHARS {
            return Err(format!("a search can be at most {MAX_CHARS} characters: shorten it"));
        }
        let mut query = SearchQuery::default();
        let mut rest = input.trim_start();
        let mut last_was_word = false;
        while !rest.is_empty() {
            let (token, quoted, after) = next_token(rest);
            rest = after.trim_start();
            last_was_word = false;
            if quoted {
                if has_word(&token) {
                    query.terms.push(token);
                }
                continue;
            }
            if let Some((key, value)) = token.split_once(':').filter(|(key, _)| is_filter(key)) {
                query.filter(&key.to_ascii_lowercase(), value)?;
                continue;
            }
            let word = token.trim_matches(|c: char| !c.is_alphanumeric());
            if has_word(word) {
                query.terms.push(word.to_owned());
                last_was_word = true;
            }
        }
        // Still typing the last word: nothing after it, not even a space.
        query.prefix = last_was_word && !input.ends_with(char::is_whitespace);
        if query.terms.len() > MAX_TERMS {
            return Err(format!("a search can hold at most {MAX_TERMS} words: remove some"));
        }
        if let (Some(since), Some(until)) = (query.since, query.until) {
            if since >= until {
                return Err("the date range is empty: `after:` must come before `before:`".into());
            }
        }
        Ok(query)
    }

    /// Whether there is anything to search for: a word, or at least a filter.
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
            && self.room.is_none()
            && self.from.is_none()
            && self.since.is_none()
            && self.until.is_none()
    }

    fn filter(&mut self, key: &str, value: &str) -> Result<(), String> {
        let value = value.trim();
        if value.is_empty() {
            return Err(format!("`{key}:` needs a value right after the colon, e.g. {}", example(key)));
        }
        match key {
            "in" => self.room = Some(value.trim_start_matches(['#', '@']).to_lowercase()),
            "from" => self.from = Some(value.trim_start_matches('@').to_lowercase()),
            _ => {
                let day = Day::parse(value)
                    .ok_or_else(|| format!("`{key}:{value}` is not a date: write it as {}", example(key)))?;
                match key {
                    "after" => self.since = Some(day),
                    "before" => self.until = Some(day),
                    _ => {
                        self.since = Some(day);
                        self.until = Some(day.next());
                    }
                }
            }
        }
        Ok(())
    }
}

/// A day of the calendar, as `YYYY-MM-DD` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Day {
    pub year: i32,
    pub month: u32,
    pub day: u32,
}

impl Day {
    /// `YYYY-MM-DD`, a day that exists (years 1970 to 9999).
    pub fn parse(text: &str) -> Option<Day> {
        let mut parts = text.splitn(3, '-');
        let (year, month, day) = (parts.next()?, parts.next()?, parts.next()?);
        if year.len() != 4 || month.len() != 2 || day.len() != 2 {
            return None;
        }
        let day = Day { year: year.parse().ok()?, month: month.parse().ok()?, day: day.parse().ok()? };
        (day.year >= 1970 && (1..=12).contains(&day.month) && (1..=day.days_in_month()).contains(&day.day))
            .then_some(day)
    }

    fn days_in_month(&self) -> u32 {
        let leap = (self.year % 4 == 0 && self.year % 100 != 0) || self.year % 400 == 0;
        match self.month {
            2 if leap => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        }
    }

    /// The day after.
    pub fn next(self) -> Day {
        match (self.day < self.days_in_month(), self.month < 12) {
            (true, _) => Day { day: self.day + 1, ..self },
            (false, true) => Day { month: self.month + 1, day: 1, ..self },
            (false, false) => Day { year: self.year + 1, month: 1, day: 1 },
        }
    }
}

fn is_filter(key: &str) -> bool {
    ["in", "from", "after", "before", "on"].iter().any(|filter| key.eq_ignore_ascii_case(filter))
}

fn example(key: &str) -> &'static str {
    match key {
        "in" => "in:general",
        "from" => "from:ana",
        "after" => "after:2026-11-01",
        "before" => "before:2026-12-01",
        _ => "on:2026-11-15",
    }
}

fn has_word(text: &str) -> bool {
    text.chars().any(char::is_alphanumeric)
}

/// The next token: a `"quoted phrase"` (true; an unclosed quote runs to the end) or a run of
/// non-space characters (false), and what follows it.
fn next_token(input: &str) -> (String, bool, &str) {
    if let Some(quoted) = input.strip_prefix('"') {
        return match quoted.find('"') {
            Some(end) => (quoted[..end].trim().to_owned(), true, &quoted[end + 1..]),
            None => (quoted.trim().to_owned(), true, ""),
        };
    }
    let end = input.find(char::is_whitespace).unwrap_or(input.len());
    (input[..end].to_owned(), false, &input[end..])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> Option<Day> {
        Day::parse(text)
    }

    #[test]
    fn days_exist_or_are_refused() {
        assert!(Day::parse("2024-02-29").is_some());
        assert!(Day::parse("2026-02-29").is_none());
        assert!(Day::parse("2026-13-01").is_none());
        assert!(Day::parse("2026-1-01").is_none());
        assert_eq!(day("2026-12-31").unwrap().next(), day("2027-01-01").unwrap());
        assert_eq!(day("2026-04-30").unwrap().next(), day("2026-05-01").unwrap());
    }

    #[test]
    fn words_filters_and_phrases_are_told_apart() {
        let query =
            SearchQuery::parse(r#"deploy "release notes" in:#General from:@Ana after:2026-11-01 frida"#).unwrap();
        assert_eq!(query.terms, ["deploy", "release notes", "frida"]);
        assert!(query.prefix, "the last word is still being typed");
        assert_eq!(query.room.as_deref(), Some("general"));
        assert_eq!(query.from.as_deref(), Some("ana"));
        assert_eq!(query.since, day("2026-11-01"));
        assert_eq!(query.until, None);
    }

    #[test]
    fn a_space_or_a_filter_at_the_end_ends_the_prefix() {
        assert!(!SearchQuery::parse("deploy ").unwrap().prefix);
        assert!(!SearchQuery::parse("deploy from:ana").unwrap().prefix);
        assert!(!SearchQuery::parse(r#"deploy "friday""#).unwrap().prefix);
        assert!(SearchQuery::parse("deplo").unwrap().prefix);
    }

    #[test]
    fn punctuation_alone_is_not_a_word_and_words_lose_their_punctuation() {
        let query = SearchQuery::parse("?? (café), — naïve!").unwrap();
        assert_eq!(query.terms, ["café", "naïve"]);
        assert!(SearchQuery::parse("  ... !!! ").unwrap().is_empty());
        // A colon that is not a filter stays part of the word.
        assert_eq!(SearchQuery::parse("https://example.com").unwrap().terms, ["https://example.com"]);
    }

    #[test]
    fn on_is_one_day_and_bad_dates_say_how_to_write_them() {
        let query = SearchQuery::parse("on:2026-02-28").unwrap();
        assert_eq!((query.since, query.until), (day("2026-02-28"), day("2026-03-01")));
        let error = SearchQuery::parse("after:yesterday").unwrap_err();
        assert!(error.contains("after:2026-11-01"), "{error}");
        let error = SearchQuery::parse("after:2026-12-01 before:2026-11-01").unwrap_err();
        assert!(error.contains("empty"), "{error}");
        assert!(SearchQuery::parse("from:").unwrap_err().contains("from:ana"));
    }

    #[test]
    fn limits_on_length_and_terms() {
        assert!(SearchQuery::parse(&"a".repeat(MAX_CHARS + 1)).is_err());
        let many = (0..=MAX_TERMS).map(|i| format!("w{i}")).collect::<Vec<_>>().join(" ");
        assert!(SearchQuery::parse(&many).unwrap_err().contains("at most"));
    }
}
