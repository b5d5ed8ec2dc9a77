//! Full-text search over the messages one person may see: the rooms they are in, public
//! rooms, their one-to-one chats. The one place where the two databases need different SQL:
//! SQLite matches through the FTS5 table `messages_search`, PostgreSQL through the generated
//! `messages.search` tsvector and its GIN index (see the migrations). Everything else (who
//! may see what, the filters, the order and the keyset paging) is the same text.

use sqlx::FromRow;

use super::{Pool, Result, Store};

/// What to look for, already resolved to ids.
#[derive(Debug, Clone, Copy)]
pub struct Find<'a> {
    /// Who is searching: only rooms they may see right now are searched.
    pub user_id: i64,
    /// Words or phrases, all of which must be in the message (none: filters only).
    pub terms: &'a [String],
    /// The last term is a word still being typed: it matches as a prefix.
    pub prefix: bool,
    pub room_id: Option<i64>,
    pub author_id: Option<i64>,
    /// `created_at` bounds in milliseconds: from `since` on, before `until`.
    pub since: Option<i64>,
    pub until: Option<i64>,
    /// Best match first (else newest first).
    pub relevance: bool,
    /// Where the previous page ended.
    pub after: Option<Cursor>,
    pub limit: i64,
    /// PostgreSQL's text search configuration (`chat_search` unless `SEARCH_CONFIG` says).
    pub config: &'a str,
}

/// Where a page of results ended: the last one's score (lower is better; 0 when newest first)
/// and its id.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cursor {
    pub score: f64,
    pub id: i64,
}

/// A message found, with its room and author.
#[derive(Debug, Clone, FromRow)]
pub struct Found {
    pub id: i64,
    pub seq: i64,
    pub body: String,
    /// The names of the files it shares, one a line.
    pub file_names: String,
    pub created_at: i64,
    pub room_name: String,
    pub room_title: String,
    pub room_kind: String,
    pub author_username: Option<String>,
    pub author_display_name: Option<String>,
    pub author_avatar: Option<String>,
    /// For a one-to-one chat, the other person.
    pub other_username: Option<String>,
    pub other_display_name: Option<String>,
    pub score: f64,
}

/// Best match first ranks the newest this many matches the searcher may see, so that a word
/// in half of all messages costs as much as a rarer one (scoring every match of such a word
/// took 380 ms at p95 over a million messages; see README, Performance). In a chat the newest
/// matches are the ones looked for; older ones are a `before:` away.
const RELEVANCE_WINDOW: i64 = 1_000;

/// The score of every result when they are newest first (a float on both databases).
const NO_SCORE: &str = "CAST(0 AS DOUBLE PRECISION)";

/// A value bound to a numbered placeholder.
enum Bind {
    Int(i64),
    Text(String),
    Float(f64),
}

/// Numbered placeholders and their values, in order.
#[derive(Default)]
struct Binds(Vec<Bind>);

impl Binds {
    fn push(&mut self, value: Bind) -> String {
        self.0.push(value);
        format!("${}", self.0.len())
    }
}

/// The FTS5 query for the terms: each a quoted string (quotes doubled, so nothing typed is
/// FTS5 syntax), all required, the last one a prefix if asked.
fn fts5_query(terms: &[String], prefix: bool) -> String {
    let mut query = terms.iter().map(|term| format!("\"{}\"", term.replace('"', "\"\""))).collect::<Vec<_>>().join(" ");
    if prefix {
        query.push('*');
    }
    query
}

/// A term as a PostgreSQL prefix lexeme (`'word':*`): without the characters that are
/// tsquery syntax inside quotes.
fn prefix_lexeme(term: &str) -> String {
    format!("'{}':*", term.replace(['\'', '\\'], " ").trim())
}

impl Store {
    /// A page of what `find` matches: newest first (keyset on the message id), or best match
    /// first among the newest [`RELEVANCE_WINDOW`] matches (keyset on score then id).
    pub async fn search(&self, find: &Find<'_>) -> Result<Vec<Found>> {
        let mut binds = Binds::default();
        let postgres = matches!(self.pool, Pool::Postgres(_));
        let me = binds.push(Bind::Int(find.user_id));
        let other = binds.push(Bind::Int(find.user_id));
        // How the words are matched and scored, per database.
        // Who may see what is the set of rooms, written as one `IN` list: PostgreSQL then
        // knows how few messages that is (an `OR EXISTS` per row it guessed at half, and read
        // a million rows backwards for a word in one message of 2,000: 145 ms against 17).
        // `score` is worked out with the matching (SQLite's bm25 must be), or, on PostgreSQL,
        // only for the window of rows kept (`rescore`): ts_rank reads each row's tsvector, and
        // scoring every match of a common word before keeping the newest took 250 ms.
        let (from, matched, score, id, rescore) = match (find.terms.is_empty(), postgres) {
            (true, _) => ("messages m".to_owned(), "TRUE".to_owned(), NO_SCORE.to_owned(), "m.id", None),
            (false, false) => {
                let query = binds.push(Bind::Text(fts5_query(find.terms, find.prefix)));
                (
                    "messages_search s JOIN messages m ON m.id = s.rowid".to_owned(),
                    format!("messages_search MATCH {query}"),
                    "bm25(messages_search)".to_owned(),
                    "s.rowid",
                    None,
                )
            }
            (false, true) => {
                let config = binds.push(Bind::Text(find.config.to_owned()));
                let mut parts = Vec::new();
                for (index, term) in find.terms.iter().enumerate() {
                    if find.prefix && index + 1 == find.terms.len() {
                        let lexeme = binds.push(Bind::Text(prefix_lexeme(term)));
                        parts.push(format!("to_tsquery({config}::regconfig, {lexeme})"));
                    } else {
                        let term = binds.push(Bind::Text(term.clone()));
                        parts.push(format!("phraseto_tsquery({config}::regconfig, {term})"));
                    }
                }
                let query = format!("({})", parts.join(" && "));
                (
                    "messages m".to_owned(),
                    format!("m.search @@ {query}"),
                    NO_SCORE.to_owned(),
                    "m.id",
                    Some(format!("(-ts_rank(ms.search, {query}))::float8")),
                )
            }
        };
        let mut filters = String::new();
        for (column, value) in [
            ("m.room_id =", find.room_id),
            ("m.author_id =", find.author_id),
            ("m.created_at >=", find.since),
            ("m.created_at <", find.until),
        ] {
            if let Some(value) = value {
                filters.push_str(&format!(" AND {column} {}", binds.push(Bind::Int(value))));
            }
        }
        let relevance = find.relevance && !find.terms.is_empty();
        let score = if relevance { score } else { NO_SCORE.to_owned() };
        let inner = format!(
            "SELECT m.id, m.seq, m.body, m.file_names, m.created_at, r.name AS room_name, r.title AS room_title, \
             r.kind AS room_kind, u.username AS author_username, u.display_name AS author_display_name, \
             u.avatar AS author_avatar, ou.username AS other_username, ou.display_name AS other_display_name, \
             {score} AS score \
             FROM {from} JOIN rooms r ON r.id = m.room_id LEFT JOIN users u ON u.id = m.author_id \
             LEFT JOIN room_members om ON r.kind = 'direct' AND om.room_id = r.id AND om.user_id <> {other} \
             LEFT JOIN users ou ON ou.id = om.user_id \
             WHERE {matched} AND m.deleted_at IS NULL \
             AND m.room_id IN (SELECT v.room_id FROM room_members v WHERE v.user_id = {me} \
                               UNION ALL SELECT p.id FROM rooms p WHERE p.kind = 'public'){filters}"
        );
        let sql = if relevance {
            let keyset = match find.after {
                Some(cursor) => {
                    let score = binds.push(Bind::Float(cursor.score));
                    let id = binds.push(Bind::Int(cursor.id));
                    format!("WHERE hits.score > {score} OR (hits.score = {score} AND hits.id < {id}) ")
                }
                None => String::new(),
            };
            let window = binds.push(Bind::Int(RELEVANCE_WINDOW));
            let limit = binds.push(Bind::Int(find.limit));
            let newest = format!("{inner} ORDER BY {id} DESC LIMIT {window}");
            let scored = match rescore {
                None => newest,
                Some(rescore) => format!(
                    "SELECT w.id, w.seq, w.body, w.file_names, w.created_at, w.room_name, w.room_title, w.room_kind, \
                     w.author_username, w.author_display_name, w.author_avatar, w.other_username, \
                     w.other_display_name, {rescore} AS score \
                     FROM ({newest}) w JOIN messages ms ON ms.id = w.id"
                ),
            };
            format!("SELECT * FROM ({scored}) hits {keyset}ORDER BY hits.score, hits.id DESC LIMIT {limit}")
        } else {
            // Newest first straight off the index's id order (FTS5 reads its rowids backwards
            // and stops at the limit).
            let keyset = match find.after {
                Some(cursor) => format!(" AND {id} < {}", binds.push(Bind::Int(cursor.id))),
                None => String::new(),
            };
            let limit = binds.push(Bind::Int(find.limit));
            format!("{inner}{keyset} ORDER BY {id} DESC LIMIT {limit}")
        };
        on_pool!(self, db => {
            let mut query = sqlx::query_as::<_, Found>(&sql);
            for bind in binds.0 {
                query = match bind {
                    Bind::Int(value) => query.bind(value),
                    Bind::Text(value) => query.bind(value),
                    Bind::Float(value) => query.bind(value),
                };
            }
            Ok(query.fetch_all(db).await?)
        })
    }

    /// The one-to-one room of two people, if they have one (never creates it).
    pub async fn direct_room_of(&self, a: i64, b: i64) -> Result<Option<i64>> {
        let key = format!("{}:{}", a.min(b), a.max(b));
        on_pool!(self, db => {
            Ok(sqlx::query_scalar("SELECT id FROM rooms WHERE direct_key = $1").bind(key).fetch_optional(db).await?)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_text_never_becomes_query_syntax() {
        let terms = vec!["a\"b".to_owned(), "NEAR(x".to_owned(), "café".to_owned()];
        assert_eq!(fts5_query(&terms, true), r#""a""b" "NEAR(x" "café"*"#);
        assert_eq!(fts5_query(&terms[2..], false), r#""café""#);
        assert_eq!(prefix_lexeme("o'brien\\"), "'o brien':*");
    }
}
