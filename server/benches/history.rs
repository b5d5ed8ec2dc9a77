//! How long the queries behind a room page and a history page take in a room of a million
//! messages, beside a room of twenty: keyset paging should make them the same. Then the same
//! pages when their messages carry reactions, and the catch-up of changes after `since`.
//!
//! Run: `cargo bench -p server --bench history` (builds in release; about a minute, most of it
//! writing the million rows into a temporary SQLite file). With
//! `BENCH_POSTGRES_URL=postgres://user@127.0.0.1:5432` the same runs on PostgreSQL, in a
//! database made for the run and dropped after.

mod common;

use std::time::Instant;

use common::{report, time, BenchDatabase};
use server::store::{Room, Store};

const BIG_ROOM_MESSAGES: i64 = 1_000_000;
const SMALL_ROOM_MESSAGES: i64 = 20;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let database = BenchDatabase::new("chat_history_bench").await;
    let url = database.url.clone();
    let store = Store::connect(&url, server::store::SqliteSync::Full).await.expect("the store opens");

    let started = Instant::now();
    let big = fill(&url, &store, "big", BIG_ROOM_MESSAGES).await;
    let small = fill(&url, &store, "small", SMALL_ROOM_MESSAGES).await;
    println!("wrote {BIG_ROOM_MESSAGES} + {SMALL_ROOM_MESSAGES} messages in {:.1?}", started.elapsed());

    // The room page: the newest 20 (and one more, to know whether older ones exist).
    report("room page, new room (20 messages)", time(|| store.messages_before(&small, None, 21)).await);
    report("room page, room of 1,000,000", time(|| store.messages_before(&big, None, 21)).await);
    // History pages of 50: near the top, and half a million messages back.
    report(
        "history page, just below the newest",
        time(|| store.messages_before(&big, Some(BIG_ROOM_MESSAGES - 20), 51)).await,
    );
    report(
        "history page, 500,000 messages back",
        time(|| store.messages_before(&big, Some(BIG_ROOM_MESSAGES / 2), 51)).await,
    );
    report("history page, the oldest", time(|| store.messages_before(&big, Some(60), 51)).await);

    // Changes: 1,000 of the newest messages get a reaction (one transaction each, as people
    // make them); then the pages that show them, and the catch-up of a page that was away.
    let started = Instant::now();
    let user_id = store.find_user_by_login("bench").await.unwrap().expect("the bench user").id;
    for seq in BIG_ROOM_MESSAGES - 999..=BIG_ROOM_MESSAGES {
        store.react(&big, seq, user_id, "👍", true).await.unwrap();
    }
    println!("made 1,000 changes in {:.1?}", started.elapsed());
    report("room page, every message with a reaction", time(|| store.messages_before(&big, None, 21)).await);
    report(
        "catch-up: changes since 900 changes ago (100 messages)",
        time(|| store.changes_after(&big, 900, BIG_ROOM_MESSAGES, 500)).await,
    );
    report(
        "catch-up: all 1,000 changes (two batches of 500)",
        time(|| async {
            let first = store.changes_after(&big, 0, BIG_ROOM_MESSAGES, 500).await?;
            store.changes_after(&big, first.last().map_or(0, |m| m.change_seq), BIG_ROOM_MESSAGES, 500).await
        })
        .await,
    );

    drop(store);
    database.finish().await;
}

/// A room with `count` messages, written in one statement straight into the database.
async fn fill(url: &str, store: &Store, name: &str, count: i64) -> Room {
    if url.starts_with("postgres") {
        return fill_postgres(url, store, name, count).await;
    }
    let pool = sqlx::SqlitePool::connect(url).await.expect("a second connection");
    let now = server::store::now_ms();
    sqlx::query("INSERT OR IGNORE INTO users (username, password_hash, created_at) VALUES ('bench', 'x', ?)")
        .bind(now)
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("INSERT INTO rooms (name, title, created_at, last_seq) VALUES (?, ?, ?, ?)")
        .bind(name)
        .bind(name)
        .bind(now)
        .bind(count)
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query(
        "WITH RECURSIVE n(seq) AS (SELECT 1 UNION ALL SELECT seq + 1 FROM n WHERE seq < ?) \
         INSERT INTO messages (room_id, seq, author_id, body, created_at) \
         SELECT (SELECT id FROM rooms WHERE name = ?), seq, (SELECT id FROM users WHERE username = 'bench'), \
                'message number ' || seq || ', long enough to look like a sentence someone typed', ? + seq \
         FROM n",
    )
    .bind(count)
    .bind(name)
    .bind(now)
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;
    store.room_by_name(name).await.unwrap().expect("the room was just made")
}

async fn fill_postgres(url: &str, store: &Store, name: &str, count: i64) -> Room {
    let pool = sqlx::PgPool::connect(url).await.expect("a second connection");
    let now = server::store::now_ms();
    sqlx::query(
        "INSERT INTO users (username, password_hash, created_at) VALUES ('bench', 'x', $1) ON CONFLICT DO NOTHING",
    )
    .bind(now)
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query("INSERT INTO rooms (name, title, created_at, last_seq) VALUES ($1, $1, $2, $3)")
        .bind(name)
        .bind(now)
        .bind(count)
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO messages (room_id, seq, author_id, body, created_at) \
         SELECT (SELECT id FROM rooms WHERE name = $2), seq, (SELECT id FROM users WHERE username = 'bench'), \
                'message number ' || seq || ', long enough to look like a sentence someone typed', $3 + seq \
         FROM generate_series(1, $1::BIGINT) AS seq",
    )
    .bind(count)
    .bind(name)
    .bind(now)
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query("ANALYZE messages").execute(&pool).await.unwrap();
    pool.close().await;
    store.room_by_name(name).await.unwrap().expect("the room was just made")
}
