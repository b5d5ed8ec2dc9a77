//! History: the room page holds the latest 20 messages; older ones come in pages of 50 by
//! `seq` (keyset), and the pages stitch together exactly while new messages keep arriving.

use app::model::{HistoryPage, RoomPage};
use reqwest::StatusCode;

use crate::helpers::*;

async fn post_many(app: &TestApp, room: &str, author: &TestUser, from: usize, to: usize) {
    let mut socket = app.socket(room, author).await;
    next_count(&mut socket).await;
    for i in from..=to {
        send_body(&mut socket, &format!("m{i}")).await;
    }
    // Each message comes back to its sender once stored.
    for _ in from..=to {
        next_event(&mut socket).await;
    }
}

#[tokio::test]
async fn history_pages_stitch_together_exactly_while_messages_arrive() {
    let app = spawn_app().await;
    let ana = app.signup("ana").await;
    let room = app.create_room(&ana, "Busy", "public").await;
    post_many(&app, &room, &ana, 1, 120).await;

    let page: RoomPage = app.call_ok("room", &[("name", &room)], &ana).await;
    assert_eq!(page.messages.len(), 20);
    assert!(page.has_older);
    let mut seen: Vec<i64> = page.messages.iter().map(|m| m.seq).collect();
    assert_eq!(seen, (101..=120).collect::<Vec<_>>());

    let mut pages = 0;
    let mut has_older = page.has_older;
    let mut posted = 120;
    while has_older {
        // Others keep talking between page loads.
        post_many(&app, &room, &ana, posted + 1, posted + 7).await;
        posted += 7;
        let before = seen[0].to_string();
        let older: HistoryPage = app.call_ok("history", &[("room", &room), ("before", &before)], &ana).await;
        assert!(older.messages.len() <= 50);
        let mut seqs: Vec<i64> = older.messages.iter().map(|m| m.seq).collect();
        assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "a page is contiguous, oldest first");
        seqs.extend(seen);
        seen = seqs;
        has_older = older.has_older;
        pages += 1;
    }
    assert_eq!(pages, 2, "100 older messages are two pages of 50");
    assert_eq!(seen, (1..=120).collect::<Vec<_>>(), "no gap, no duplicate");
    assert_eq!(app.stored_messages(&room).await, posted as i64);

    // The bodies line up with their seq.
    let first: HistoryPage = app.call_ok("history", &[("room", &room), ("before", "3")], &ana).await;
    assert_eq!(first.messages.iter().map(|m| m.body.as_str()).collect::<Vec<_>>(), ["m1", "m2"]);
    assert!(!first.has_older);
}

#[tokio::test]
async fn without_javascript_older_messages_are_a_link_to_a_still_page() {
    let app = spawn_app().await;
    let ana = app.signup("ana").await;
    let room = app.create_room(&ana, "Busy", "public").await;
    post_many(&app, &room, &ana, 1, 80).await;
    let latest = app.room_html(&room, &ana).await;
    assert!(latest.contains("href=\"?before=61\""), "the latest page links to what is before it");
    let older = app.get(&format!("/chat/room/{room}/?before=61"), Some(&ana.cookie)).await;
    assert_eq!(older.status(), StatusCode::OK);
    let html = older.text().await.unwrap();
    assert!(html.contains("data-seq=\"11\"") && html.contains("data-seq=\"60\""), "50 messages before 61");
    assert!(!html.contains("data-seq=\"10\"") && !html.contains("data-seq=\"61\""));
    assert!(html.contains("href=\"?before=11\"") && html.contains("Back to the latest messages"));
}

#[tokio::test]
async fn the_history_query_reads_the_index_not_the_table() {
    let app = spawn_app().await;
    let plan = app.state.store.explain_history().await.unwrap().join(" | ");
    // A keyset read: the database searches the (room_id, seq) index, in order, and never scans
    // messages or sorts them, so a room of a million messages opens as fast as a new one.
    if app.state.store.is_postgres() {
        assert!(plan.contains("Index Scan Backward using messages_room_id_seq_key"), "{plan}");
        assert!(!plan.contains("Seq Scan") && !plan.contains("Sort"), "{plan}");
    } else {
        assert!(plan.contains("SEARCH m USING INDEX") && plan.contains("seq<?"), "{plan}");
        assert!(!plan.contains("SCAN m") && !plan.contains("TEMP B-TREE"), "{plan}");
    }
}

#[tokio::test]
async fn bad_history_requests_get_clear_answers() {
    let app = spawn_app().await;
    let ana = app.signup("ana").await;
    let nonsense = app.call("history", &[("room", "public-chat"), ("before", "soon")], Some(&ana)).await;
    let status = nonsense.status();
    let text = nonsense.text().await.unwrap();
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{text}");
    assert!(text.contains("the form was incomplete"), "{text}");
    let empty: HistoryPage = app.call_ok("history", &[("room", "public-chat"), ("before", "1")], &ana).await;
    assert!(empty.messages.is_empty() && !empty.has_older);
}
