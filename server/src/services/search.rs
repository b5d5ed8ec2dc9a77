//! Searching messages: the query's filters resolved to ids (a room or person the searcher may
//! not see finds nothing, exactly like one that does not exist), a page from the store, and
//! each message's matches marked.

use app::backend::Search;
use app::domain::{Day, SearchQuery};
use app::error::AppError;
use app::model::{shown_name, Author, CurrentUser, Marked, RoomKind, SearchHit, SearchOrder, SearchPage, SEARCH_PAGE};
use async_trait::async_trait;
use unicode_normalization::UnicodeNormalization;

use super::rooms::viewable;
use super::{me, Services};
use crate::store::{rfc3339, Cursor, Find, Found};

/// The longest excerpt shown, in characters; longer messages are cut around the first match.
const EXCERPT_CHARS: usize = 300;
/// How much of the text before the first match an excerpt keeps.
const EXCERPT_LEAD: usize = 60;

#[async_trait]
impl Search for Services {
    async fn search(
        &self,
        user: &CurrentUser,
        query: &SearchQuery,
        order: SearchOrder,
        page: Option<&str>,
    ) -> Result<SearchPage, AppError> {
        let me = me(self, user).await?;
        let after = page.map(parse_cursor).transpose()?;
        let room_id = match &query.room {
            None => None,
            Some(name) => match viewable(self, &me, name).await? {
                Some((room, _)) => Some(room.id),
                // Not a room name: the one-to-one chat with the person of that username.
                None => match self.store.find_user_by_login(name).await? {
                    Some(other) if !name.contains('@') => match self.store.direct_room_of(me.id, other.id).await? {
                        Some(room_id) => Some(room_id),
                        None => return Ok(SearchPage::default()),
                    },
                    _ => return Ok(SearchPage::default()),
                },
            },
        };
        let author_id = match &query.from {
            None => None,
            Some(username) if username.contains('@') => return Ok(SearchPage::default()),
            Some(username) => match self.store.find_user_by_login(username).await? {
                Some(author) => Some(author.id),
                None => return Ok(SearchPage::default()),
            },
        };
        let relevance = order == SearchOrder::Relevance;
        let find = Find {
            user_id: me.id,
            terms: &query.terms,
            prefix: query.prefix,
            room_id,
            author_id,
            since: query.since.map(day_start),
            until: query.until.map(day_start),
            relevance,
            after,
            limit: SEARCH_PAGE as i64 + 1,
            config: &self.config.search_config,
        };
        let mut found = self.store.search(&find).await?;
        let next = (found.len() > SEARCH_PAGE).then(|| {
            found.truncate(SEARCH_PAGE);
            let last = found.last().expect("a full page");
            match relevance {
                true => format!("r:{}:{}", last.score, last.id),
                false => format!("n:{}", last.id),
            }
        });
        let words = Words::of(query);
        Ok(SearchPage { hits: found.into_iter().map(|found| hit(found, &words)).collect(), next })
    }
}

/// Midnight UTC at the start of a day, in milliseconds.
fn day_start(day: Day) -> i64 {
    chrono::NaiveDate::from_ymd_opt(day.year, day.month, day.day)
        .and_then(|date| date.and_hms_opt(0, 0, 0))
        .map_or(i64::MAX, |time| time.and_utc().timestamp_millis())
}

/// `n:<id>` (newest first) or `r:<score>:<id>` (best match first), as `next` wrote it.
fn parse_cursor(page: &str) -> Result<Cursor, AppError> {
    let stale = || AppError::Invalid("that page of results is no longer valid: search again".into());
    let parsed = match page.split(':').collect::<Vec<_>>().as_slice() {
        ["n", id] => id.parse().ok().map(|id| Cursor { score: 0.0, id }),
        ["r", score, id] => match (score.parse::<f64>(), id.parse()) {
            (Ok(score), Ok(id)) if score.is_finite() => Some(Cursor { score, id }),
            _ => None,
        },
        _ => None,
    };
    parsed.ok_or_else(stale)
}

fn hit(found: Found, words: &Words) -> SearchHit {
    let kind = RoomKind::parse(&found.room_kind).unwrap_or(RoomKind::Public);
    let room_title = match (&kind, found.other_username) {
        (RoomKind::Direct, Some(other)) => shown_name(&other, found.other_display_name.as_deref()),
        _ => found.room_title,
    };
    let author = match found.author_username {
        Some(username) => Author {
            display_name: shown_name(&username, found.author_display_name.as_deref()),
            username,
            avatar: found.author_avatar.as_deref().map(app::url::avatar),
        },
        None => Author { display_name: app::model::DELETED_USER.to_owned(), ..Author::default() },
    };
    SearchHit {
        room: found.room_name,
        room_title,
        kind,
        seq: found.seq,
        author,
        created_at: rfc3339(found.created_at),
        excerpt: words.mark(&found.body),
        files: found.file_names.lines().filter(|name| !name.is_empty()).map(|name| words.mark(name)).collect(),
    }
}

/// Lowercased, without diacritics: how the index compares words ("Café" is "cafe").
fn fold(word: &str) -> String {
    word.nfd().filter(|c| !unicode_normalization::char::is_combining_mark(*c)).flat_map(char::to_lowercase).collect()
}

/// The words searched for, folded, and the prefix being typed.
struct Words {
    exact: Vec<String>,
    prefix: Option<String>,
}

impl Words {
    fn of(query: &SearchQuery) -> Self {
        let mut exact: Vec<String> = query
            .terms
            .iter()
            .flat_map(|term| term.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(fold))
            .collect();
        let prefix = if query.prefix { exact.pop() } else { None };
        Words { exact, prefix }
    }

    fn matches(&self, word: &str) -> bool {
        let word = fold(word);
        self.exact.contains(&word) || self.prefix.as_ref().is_some_and(|prefix| word.starts_with(prefix.as_str()))
    }

    /// The text as pieces, the words searched for marked; a long text is cut to an excerpt
    /// around the first match.
    fn mark(&self, text: &str) -> Vec<Marked> {
        // Runs of letters and digits (words) and of everything else, with their offsets.
        let mut runs: Vec<(usize, &str, bool)> = Vec::new();
        let mut start = 0;
        let mut in_word = None;
        for (index, c) in text.char_indices() {
            let word = c.is_alphanumeric();
            if in_word.is_some_and(|was| was != word) {
                runs.push((start, &text[start..index], in_word == Some(true)));
                start = index;
            }
            in_word = Some(word);
        }
        if start < text.len() {
            runs.push((start, &text[start..], in_word == Some(true)));
        }
        let marked: Vec<bool> = runs.iter().map(|(_, run, word)| *word && self.matches(run)).collect();
        // The window of the text shown: from a little before the first match.
        let chars = text.chars().count();
        let (from, to) = if chars <= EXCERPT_CHARS {
            (0, text.len())
        } else {
            let first = runs.iter().zip(&marked).find(|(_, m)| **m).map_or(0, |((offset, _, _), _)| *offset);
            let from = text[..first].char_indices().rev().take(EXCERPT_LEAD).last().map_or(first, |(i, _)| i);
            let to = text[from..].char_indices().nth(EXCERPT_CHARS).map_or(text.len(), |(i, _)| from + i);
            (from, to)
        };
        let mut pieces: Vec<Marked> = Vec::new();
        if from > 0 {
            pieces.push(Marked { text: "…".into(), mark: false });
        }
        for ((offset, run, _), mark) in runs.iter().zip(marked) {
            let (start, end) = ((*offset).max(from), (offset + run.len()).min(to));
            if start >= end {
                continue;
            }
            let piece = &text[start..end];
            match pieces.last_mut() {
                Some(last) if !last.mark && !mark => last.text.push_str(piece),
                _ => pieces.push(Marked { text: piece.to_owned(), mark }),
            }
        }
        if to < text.len() {
            match pieces.last_mut() {
                Some(last) if !last.mark => last.text.push('…'),
                _ => pieces.push(Marked { text: "…".into(), mark: false }),
            }
        }
        pieces
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(pieces: &[Marked]) -> String {
        pieces.iter().map(|p| if p.mark { format!("[{}]", p.text) } else { p.text.clone() }).collect()
    }

    fn words(query: &str) -> Words {
        Words::of(&SearchQuery::parse(query).unwrap())
    }

    #[test]
    fn matches_are_marked_ignoring_case_and_diacritics() {
        assert_eq!(
            shown(&words("cafe ").mark("Le Café, le CAFE et la cafetière.")),
            "Le [Café], le [CAFE] et la cafetière."
        );
        assert_eq!(shown(&words("caf").mark("Le Café et la cafetière")), "Le [Café] et la [cafetière]");
        assert_eq!(shown(&words("\"release notes\" ").mark("The release-notes")), "The [release]-[notes]");
    }

    #[test]
    fn long_messages_are_cut_around_the_first_match() {
        let text = format!("{} needle {}", "hay ".repeat(100), "straw ".repeat(100));
        let pieces = words("needle ").mark(&text);
        let shown = shown(&pieces);
        assert!(shown.starts_with('…') && shown.ends_with('…'), "{shown}");
        assert!(shown.contains("[needle]"));
        let chars = pieces.iter().map(|p| p.text.chars().count()).sum::<usize>();
        assert!(chars <= EXCERPT_CHARS + 2, "{chars}");
        // Short texts are whole.
        assert_eq!(shown_plain(&words("x ").mark("no match here")), "no match here");
    }

    fn shown_plain(pieces: &[Marked]) -> String {
        pieces.iter().map(|p| p.text.as_str()).collect()
    }

    #[test]
    fn cursors_round_trip_and_junk_is_refused() {
        let cursor = parse_cursor(&format!("r:{}:{}", -1.234_567_890_123_f64, 42)).unwrap();
        assert_eq!(cursor, Cursor { score: -1.234_567_890_123, id: 42 });
        assert_eq!(parse_cursor("n:7").unwrap().id, 7);
        for junk in ["", "n:", "x:1", "r:NaN:1", "r:1", "n:1:2"] {
            assert!(parse_cursor(junk).is_err(), "{junk}");
        }
    }
}
