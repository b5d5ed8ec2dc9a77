//! Search: a person finds the messages of every room they may see right now (their rooms,
//! public rooms, their one-to-one chats) and nothing else, filtered, paged without gaps,
//! and current after edits and deletions.

use app::model::{SearchHit, SearchPage};
use reqwest::StatusCode;

use crate::helpers::*;

/// Searches as `user` (newest first unless `sort` says), from `page`.
async fn search_page(app: &TestApp, user: &TestUser, q: &str, sort: &str, page: Option<&str>) -> SearchPage {
    let mut form = vec![("q", q), ("sort", sort)];
    if let Some(page) = page {
        form.push(("page", page));
    }
    app.call_ok("search", &form, user).await
}

async fn search(app: &TestApp, user: &TestUser, q: &str) -> Vec<SearchHit> {
    search_page(app, user, q, "", None).await.hits
}

/// Each hit's text, unmarked.
fn texts(hits: &[SearchHit]) -> Vec<String> {
    hits.iter().map(|hit| hit.excerpt.iter().map(|piece| piece.text.as_str()).collect()).collect()
}

fn marked(hit: &SearchHit) -> Vec<&str> {
    hit.excerpt.iter().filter(|piece| piece.mark).map(|piece| piece.text.as_str()).collect()
}

#[tokio::test]
async fn nobody_finds_a_message_of_a_room_they_may_not_see() {
    let app = spawn_app().await;
    let ana = app.signup("ana").await;
    let bob = app.signup("bob").await;
    let carol = app.signup("carol").await;
    let secret = app.create_room(&ana, "Secret plans", "private").await;
    let open = app.create_room(&carol, "Open house", "public").await;
    let chat = app.direct_room(&ana, "carol").await;
    // More hidden matches than a page holds: paging must not give them away either.
    for n in 0..25 {
        app.post(&secret, &ana, &format!("zebra secret {n}")).await;
    }
    app.post(&chat, &ana, "zebra between ana and carol").await;
    app.post("public-chat", &carol, "zebra for everyone").await;
    app.post(&open, &carol, "zebra in an open room bob never joined").await;

    let found = search_page(&app, &bob, "zebra", "", None).await;
    assert_eq!(texts(&found.hits), ["zebra in an open room bob never joined", "zebra for everyone"]);
    assert_eq!(found.next, None, "no further page hints at hidden matches");
    let by_relevance = search_page(&app, &bob, "zebra", "relevance", None).await;
    assert_eq!(by_relevance.hits.len(), 2);
    assert_eq!(by_relevance.next, None);
    // Naming the room or its author does not open it.
    assert!(search(&app, &bob, &format!("zebra in:{secret}")).await.is_empty());
    assert!(search(&app, &bob, "in:carol").await.is_empty(), "bob has no chat with carol");
    assert_eq!(texts(&search(&app, &bob, "from:ana").await), Vec::<String>::new());

    // Ana sees her private room and her chat; carol her chat and the rooms, not the secret.
    assert_eq!(search(&app, &ana, "zebra").await.len(), 20);
    assert_eq!(search(&app, &ana, &format!("in:{secret}")).await.len(), 20);
    let carols = search(&app, &carol, "zebra").await;
    assert_eq!(carols.len(), 3);
    assert_eq!(carols[0].room_title, "Open house");
    let direct = carols.iter().find(|hit| hit.room == chat).expect("carol finds her chat with ana");
    assert_eq!(direct.room_title, "ana", "a one-to-one chat is named after the other person");
    assert_eq!(texts(&search(&app, &carol, "in:ana").await), ["zebra between ana and carol"]);

    // Signed out, nothing at all.
    let response = app.call("search", &[("q", "zebra")], None).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_member_who_leaves_stops_finding_the_room() {
    let app = spawn_app().await;
    let ana = app.signup("ana").await;
    let bob = app.signup("bob").await;
    let room = app.create_room(&ana, "Book club", "private").await;
    let _: () = app.call_ok("add_member", &[("room", &room), ("username", "bob")], &ana).await;
    app.post(&room, &ana, "the next book is Dune").await;
    assert_eq!(texts(&search(&app, &bob, "dune").await), ["the next book is Dune"]);
    let _: () = app.call_ok("leave_room", &[("room", &room)], &bob).await;
    assert!(search(&app, &bob, "dune").await.is_empty());
    assert!(search(&app, &bob, &format!("in:{room}")).await.is_empty());
}

#[tokio::test]
async fn words_match_whole_or_as_typed_ignoring_case_and_accents() {
    let app = spawn_app().await;
    let ana = app.signup("ana").await;
    for body in [
        "Meet at the Café at noon",
        "the cafeteria is closed",
        "Deploy Friday?",
        "naïve question",
        "release notes are out",
    ] {
        app.post("public-chat", &ana, body).await;
    }
    assert_eq!(texts(&search(&app, &ana, "cafe ").await), ["Meet at the Café at noon"]);
    // The last word, still being typed, is a prefix.
    assert_eq!(texts(&search(&app, &ana, "caf").await), ["the cafeteria is closed", "Meet at the Café at noon"]);
    assert_eq!(texts(&search(&app, &ana, "DEPLOY fri").await), ["Deploy Friday?"]);
    assert_eq!(texts(&search(&app, &ana, "naive").await), ["naïve question"]);
    assert_eq!(texts(&search(&app, &ana, "\"release notes\"").await), ["release notes are out"]);
    assert!(search(&app, &ana, "\"notes release\"").await.is_empty(), "a phrase keeps its order");
    assert!(search(&app, &ana, "deploy monday").await.is_empty(), "every word must be there");
    // Matches are marked as typed.
    let hits = search(&app, &ana, "meet caf").await;
    assert_eq!(marked(&hits[0]), ["Meet", "Café"]);
    // Query syntax typed by someone is just text.
    for odd in ["\"", "NEAR(a b)", "a* OR b", "-x", "'; DROP TABLE messages; --", ":", "((("] {
        let response = app.call("search", &[("q", odd)], Some(&ana)).await;
        assert_eq!(response.status(), StatusCode::OK, "{odd}: {}", response.text().await.unwrap());
    }
}

#[tokio::test]
async fn filters_narrow_by_room_author_and_day() {
    let app = spawn_app().await;
    let ana = app.signup("ana").await;
    let bob = app.signup("bob").await;
    let room = app.create_room(&ana, "Ops", "public").await;
    let _: () = app.call_ok("join_room", &[("room", &room)], &bob).await;
    app.post(&room, &ana, "deploy from ana in ops").await;
    app.post(&room, &bob, "deploy from bob in ops").await;
    app.post("public-chat", &bob, "deploy from bob in public").await;

    assert_eq!(texts(&search(&app, &ana, &format!("deploy in:{room}")).await).len(), 2);
    assert_eq!(
        texts(&search(&app, &ana, "deploy from:bob").await),
        ["deploy from bob in public", "deploy from bob in ops"]
    );
    assert_eq!(texts(&search(&app, &ana, &format!("deploy from:@Bob in:#{room}")).await), ["deploy from bob in ops"]);
    // Filters alone list messages too.
    assert_eq!(search(&app, &ana, "from:ana").await.len(), 1);
    assert!(search(&app, &ana, "deploy from:nobody").await.is_empty());
    assert!(search(&app, &ana, "deploy in:no-such-room").await.is_empty());

    let today = chrono::Utc::now().date_naive();
    let day = |offset: i64| (today + chrono::Duration::days(offset)).format("%Y-%m-%d").to_string();
    assert_eq!(search(&app, &ana, &format!("deploy on:{}", day(0))).await.len(), 3);
    assert_eq!(search(&app, &ana, &format!("deploy after:{} before:{}", day(0), day(1))).await.len(), 3);
    assert!(search(&app, &ana, &format!("deploy before:{}", day(0))).await.is_empty());
    assert!(search(&app, &ana, &format!("deploy after:{}", day(1))).await.is_empty());

    // A date that is not one says how to write it.
    let response = app.call("search", &[("q", "deploy after:last-week")], Some(&ana)).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response.text().await.unwrap().contains("after:2026-11-01"));
    let response = app.call("search", &[("q", "deploy"), ("page", "bogus")], Some(&ana)).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response.text().await.unwrap().contains("search again"));
}

#[tokio::test]
async fn pages_follow_each_other_without_gaps_or_repeats_in_both_orders() {
    let app = spawn_app().await;
    let ana = app.signup("ana").await;
    for n in 0..45 {
        // Different lengths give different scores, some equal: the keyset must hold for ties.
        let extra = "word ".repeat(n % 4);
        app.post("public-chat", &ana, &format!("needle {n} {extra}")).await;
    }
    app.post("public-chat", &ana, "no match here").await;
    for sort in ["relevance", ""] {
        let mut seen = Vec::new();
        let mut page = None;
        let mut pages = 0;
        loop {
            let found = search_page(&app, &ana, "needle", sort, page.as_deref()).await;
            pages += 1;
            assert!(found.hits.len() <= 20);
            seen.extend(found.hits.iter().map(|hit| hit.seq));
            match found.next {
                Some(next) => page = Some(next),
                None => break,
            }
        }
        assert_eq!(pages, 3, "{sort}: 45 results are 3 pages");
        let mut unique = seen.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), 45, "{sort}: every match once");
        if sort.is_empty() {
            assert!(seen.windows(2).all(|pair| pair[0] > pair[1]), "newest first");
        }
        // A message posted while paging appears on the first page, not in the middle.
        if sort.is_empty() {
            let first = search_page(&app, &ana, "needle", "", None).await;
            app.post("public-chat", &ana, "needle newest").await;
            let second = search_page(&app, &ana, "needle", "", first.next.as_deref()).await;
            assert_eq!(second.hits[0].seq, seen[20], "the next page starts where the first ended");
        }
    }
}

#[tokio::test]
async fn edits_and_deletions_are_what_search_finds() {
    let app = spawn_app().await;
    let ana = app.signup("ana").await;
    app.post("public-chat", &ana, "apple pie recipe").await;
    let seq = search(&app, &ana, "apple").await[0].seq.to_string();
    let _: () = app
        .call_ok("edit_message", &[("room", "public-chat"), ("seq", &seq), ("body", "banana bread recipe")], &ana)
        .await;
    assert!(search(&app, &ana, "apple").await.is_empty(), "the old words are gone");
    assert_eq!(texts(&search(&app, &ana, "banana").await), ["banana bread recipe"]);
    let _: () = app.call_ok("delete_message", &[("room", "public-chat"), ("seq", &seq)], &ana).await;
    assert!(search(&app, &ana, "banana").await.is_empty(), "a deleted message is not found");
    assert!(search(&app, &ana, "recipe").await.is_empty());
}

#[tokio::test]
async fn the_search_page_works_without_javascript_and_links_to_the_message() {
    let app = spawn_app().await;
    let ana = app.signup("ana").await;
    app.post("public-chat", &ana, "the <b>zebra</b> report").await;
    let seq = search(&app, &ana, "zebra").await[0].seq;
    let response = app.get("/search?q=zebra", Some(&ana.cookie)).await;
    assert_eq!(response.status(), StatusCode::OK);
    let html = markup(&response.text().await.unwrap());
    assert!(html.contains("<mark>zebra</mark>"), "the match is marked");
    assert!(html.contains("&lt;b&gt;"), "the message's text is text, never markup");
    assert!(html.contains(&format!("/chat/room/public-chat/?before={}#m{seq}", seq + 26)));
    // The page it links to holds the message.
    let room = app.get(&format!("/chat/room/public-chat/?before={}", seq + 26), Some(&ana.cookie)).await;
    assert!(room.text().await.unwrap().contains(&format!("id=\"m{seq}\"")));
    // Signed out, the login page (coming back here).
    let response = app.get("/search?q=zebra", None).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(response.headers()["location"].to_str().unwrap().starts_with("/login?next=/search"));
}
