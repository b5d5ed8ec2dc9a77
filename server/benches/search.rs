//! Search over 1,000,000 messages in 1,000 private rooms, as a person who is in 50 of them:
//! how long one-word and two-word queries take (newest first, best match first, and a word
//! still being typed), and how big the index is per million messages.
//!
//! Message bodies are 6 to 14 words drawn from a vocabulary of 20,000 made-up words with
//! Zipf's law (the commonest word is in about half of all messages, as "the" is in English);
//! query words are drawn the same way, so common words are searched as often as they occur,
//! the hard case for an index. Everything is seeded: two runs search for the same words.
//!
//! Run: `cargo bench -p server --bench search` (builds in release; a few minutes, most of it
//! writing the million rows). With `BENCH_POSTGRES_URL=postgres://user@127.0.0.1:5432` the
//! same runs on PostgreSQL, in a database made for the run and dropped after (kept with
//! `BENCH_KEEP=1`).

mod common;

use std::time::{Duration, Instant};

use common::{at, BenchDatabase};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use server::store::{Find, Store};

const ROOMS: i64 = 1_000;
const MESSAGES: i64 = 1_000_000;
/// The searcher is in every 20th room: 50 rooms, 50,000 messages they may see.
const EVERY_NTH_ROOM: i64 = 20;
const VOCABULARY: usize = 20_000;
/// Queries timed per kind.
const QUERIES: usize = 300;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let database = BenchDatabase::new("chat_search_bench").await;
    let url = database.url.clone();
    let store = Store::connect(&url, server::store::SqliteSync::Normal).await.expect("the store opens");

    let mut rng = StdRng::seed_from_u64(15);
    let words = vocabulary(&mut rng);
    let zipf = Zipf::new(words.len());
    let started = Instant::now();
    let searcher = fill(&url, &words, &zipf, &mut rng).await;
    println!("wrote {MESSAGES} messages in {ROOMS} rooms in {:.1?}", started.elapsed());
    index_size(&url).await;

    let pick = |rng: &mut StdRng| words[zipf.sample(rng)].clone();
    let one: Vec<Vec<String>> = (0..QUERIES).map(|_| vec![pick(&mut rng)]).collect();
    let two: Vec<Vec<String>> = (0..QUERIES).map(|_| vec![pick(&mut rng), pick(&mut rng)]).collect();
    let typing: Vec<Vec<String>> =
        (0..QUERIES).map(|_| vec![pick(&mut rng).chars().take(3).collect::<String>()]).collect();
    for (what, queries, prefix, relevance) in [
        ("one word, newest first", &one, false, false),
        ("two words, newest first", &two, false, false),
        ("a word being typed (3 letters), newest first", &typing, true, false),
        ("one word, best match first", &one, false, true),
        ("two words, best match first", &two, false, true),
    ] {
        let mut samples = Vec::with_capacity(queries.len());
        let mut found = 0;
        for terms in queries {
            let find = find(searcher, terms, prefix, relevance);
            let started = Instant::now();
            let hits = store.search(&find).await.expect("the search runs");
            samples.push(started.elapsed());
            found += hits.len();
        }
        samples.sort_unstable();
        println!(
            "{what:<48} p50 {:>8.1?}  p95 {:>8.1?}  p99 {:>8.1?}  max {:>8.1?}  ({:.1} results a page)",
            at(&samples, 0.5),
            at(&samples, 0.95),
            at(&samples, 0.99),
            samples.last().copied().unwrap_or(Duration::ZERO),
            found as f64 / queries.len() as f64
        );
    }

    drop(store);
    database.finish().await;
}

/// A first page of `terms` as the searcher.
fn find(searcher: i64, terms: &[String], prefix: bool, relevance: bool) -> Find<'_> {
    Find {
        user_id: searcher,
        terms,
        prefix,
        room_id: None,
        author_id: None,
        since: None,
        until: None,
        relevance,
        after: None,
        limit: 21,
        config: "chat_search",
    }
}

/// Made-up words of two to four syllables, all different.
fn vocabulary(rng: &mut StdRng) -> Vec<String> {
    const ONSETS: [&str; 16] = ["b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "ch", "sh"];
    const VOWELS: [&str; 6] = ["a", "e", "i", "o", "u", "ai"];
    let mut words = std::collections::BTreeSet::new();
    let mut ordered = Vec::with_capacity(VOCABULARY);
    while ordered.len() < VOCABULARY {
        let syllables = rng.gen_range(2..=4);
        let word: String = (0..syllables)
            .map(|_| format!("{}{}", ONSETS[rng.gen_range(0..ONSETS.len())], VOWELS[rng.gen_range(0..VOWELS.len())]))
            .collect();
        if words.insert(word.clone()) {
            ordered.push(word);
        }
    }
    ordered
}

/// Ranks drawn with probability proportional to 1/rank.
struct Zipf {
    cumulative: Vec<f64>,
}

impl Zipf {
    fn new(n: usize) -> Self {
        let mut total = 0.0;
        let cumulative = (1..=n)
            .map(|rank| {
                total += 1.0 / rank as f64;
                total
            })
            .collect();
        Zipf { cumulative }
    }

    fn sample(&self, rng: &mut StdRng) -> usize {
        let target = rng.gen::<f64>() * self.cumulative.last().unwrap();
        self.cumulative.partition_point(|&c| c < target).min(self.cumulative.len() - 1)
    }
}

/// The rooms, the searcher's memberships and the messages (spread over a year, every room
/// taking turns), written in transactions of 10,000 rows; gives the searcher's id.
async fn fill(url: &str, words: &[String], zipf: &Zipf, rng: &mut StdRng) -> i64 {
    let now = server::store::now_ms();
    let year_ms = 365 * 24 * 3600 * 1000_i64;
    let setup = [
        format!("INSERT INTO users (username, password_hash, created_at) VALUES ('searcher', 'x', {now}), ('author', 'x', {now})"),
        format!(
            "INSERT INTO rooms (name, title, kind, created_at, last_seq) \
             SELECT 'room-' || n, 'Room ' || n, 'private', {now}, {} FROM ({}) AS numbers",
            MESSAGES / ROOMS,
            numbers(url, ROOMS)
        ),
        format!(
            "INSERT INTO room_members (room_id, user_id, joined_at) \
             SELECT r.id, u.id, {now} FROM rooms r, users u \
             WHERE u.username = 'searcher' AND r.kind = 'private' AND r.id % {EVERY_NTH_ROOM} = 0"
        ),
    ];
    let batch = |rng: &mut StdRng, from: i64, to: i64, first_room: i64| -> String {
        let rows: Vec<String> = (from..to)
            .map(|i| {
                let length = rng.gen_range(6..=14);
                let body: Vec<&str> = (0..length).map(|_| words[zipf.sample(rng)].as_str()).collect();
                let room = first_room + i % ROOMS;
                let seq = i / ROOMS + 1;
                let created_at = now - year_ms + i * (year_ms / MESSAGES);
                format!(
                    "({room}, {seq}, (SELECT id FROM users WHERE username = 'author'), '{}', {created_at})",
                    body.join(" ")
                )
            })
            .collect();
        format!("INSERT INTO messages (room_id, seq, author_id, body, created_at) VALUES {}", rows.join(", "))
    };
    macro_rules! write_all {
        ($pool:expr) => {{
            let pool = $pool;
            for statement in &setup {
                sqlx::query(statement).execute(&pool).await.unwrap();
            }
            let first_room: i64 =
                sqlx::query_scalar("SELECT MIN(id) FROM rooms WHERE kind = 'private'").fetch_one(&pool).await.unwrap();
            let mut i = 0;
            while i < MESSAGES {
                let mut tx = pool.begin().await.unwrap();
                for _ in 0..50 {
                    sqlx::query(&batch(rng, i, i + 200, first_room)).execute(&mut *tx).await.unwrap();
                    i += 200;
                }
                tx.commit().await.unwrap();
            }
            let searcher: i64 =
                sqlx::query_scalar("SELECT id FROM users WHERE username = 'searcher'").fetch_one(&pool).await.unwrap();
            searcher
        }};
    }
    if url.starts_with("postgres") {
        let pool = sqlx::PgPool::connect(url).await.expect("a second connection");
        let searcher = write_all!(pool.clone());
        sqlx::query("ANALYZE").execute(&pool).await.unwrap();
        searcher
    } else {
        let pool = sqlx::SqlitePool::connect(url).await.expect("a second connection");
        let searcher = write_all!(pool.clone());
        sqlx::query("ANALYZE").execute(&pool).await.unwrap();
        searcher
    }
}

/// `SELECT n` for n from 1 to `count`, in the database's own way.
fn numbers(url: &str, count: i64) -> String {
    if url.starts_with("postgres") {
        format!("SELECT n FROM generate_series(1, {count}) AS n")
    } else {
        format!("WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < {count}) SELECT n FROM c")
    }
}

/// What the full-text index takes on disk, beside the messages themselves.
async fn index_size(url: &str) {
    let mib = |bytes: i64| bytes as f64 / (1024.0 * 1024.0);
    if url.starts_with("postgres") {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        let (index, column, table): (i64, i64, i64) = sqlx::query_as(
            "SELECT pg_relation_size('messages_search'), \
                    (SELECT COALESCE(SUM(pg_column_size(search)), 0)::BIGINT FROM messages), \
                    pg_total_relation_size('messages')",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        println!(
            "index: GIN {:.1} MiB + tsvector column {:.1} MiB per million messages (messages table in all {:.1} MiB)",
            mib(index),
            mib(column),
            mib(table)
        );
    } else {
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        let (index, all): (i64, i64) = sqlx::query_as(
            "SELECT (SELECT SUM(pgsize) FROM dbstat WHERE name LIKE 'messages_search%'), (SELECT SUM(pgsize) FROM dbstat)",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        println!("index: FTS5 {:.1} MiB per million messages (database in all {:.1} MiB)", mib(index), mib(all));
    }
}
