//! Messages change after they are posted: the author edits and deletes, the room's owner and
//! admins delete, members react and reply; everyone with the room open sees each change
//! once, and a page that was away is sent every change it missed (`?since=`), then live ones.

use app::model::Reaction;
use app::protocol::{ChatMessage, ErrorCode, ServerEvent};
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

/// The next event that is not an online count.
async fn next_change(socket: &mut Socket) -> ServerEvent {
    loop {
        match next_event(socket).await {
            ServerEvent::OnlineCount { .. } => continue,
            other => return other,
        }
    }
}

async fn next_message(socket: &mut Socket) -> ChatMessage {
    match next_change(socket).await {
        ServerEvent::Message(message) => message,
        other => panic!("expected a message, got {other:?}"),
    }
}

/// Asserts that no change (or any event but an online count) arrives for a short while.
async fn assert_no_change(socket: &mut Socket) {
    let until = tokio::time::Instant::now() + std::time::Duration::from_millis(300);
    while let Ok(event) = tokio::time::timeout_at(until, next_event(socket)).await {
        assert!(matches!(event, ServerEvent::OnlineCount { .. }), "expected nothing, got {event:?}");
    }
}

/// The reactions of the next event, which must be a `reactions` event.
async fn next_reactions(socket: &mut Socket) -> Vec<Reaction> {
    match next_change(socket).await {
        ServerEvent::Reactions { reactions, .. } => reactions,
        other => panic!("expected reactions, got {other:?}"),
    }
}

fn error_code(event: &ServerEvent) -> ErrorCode {
    match event {
        ServerEvent::Error { code, .. } => *code,
        other => panic!("expected an error, got {other:?}"),
    }
}

async fn edit(socket: &mut Socket, seq: i64, body: &str) {
    send_text(socket, &json!({ "type": "edit", "seq": seq, "body": body }).to_string()).await;
}

async fn delete(socket: &mut Socket, seq: i64) {
    send_text(socket, &json!({ "type": "delete", "seq": seq }).to_string()).await;
}

async fn react(socket: &mut Socket, seq: i64, emoji: &str, on: bool) {
    send_text(socket, &json!({ "type": "react", "seq": seq, "emoji": emoji, "on": on }).to_string()).await;
}

/// The room page's data (what the server render shows) for `user`.
async fn page(app: &TestApp, room: &str, user: &TestUser) -> serde_json::Value {
    app.call_ok("room", &[("name", room)], user).await
}

fn message_in(page: &serde_json::Value, seq: i64) -> Option<&serde_json::Value> {
    page["messages"].as_array().unwrap().iter().find(|m| m["seq"] == seq)
}

#[tokio::test]
async fn the_author_edits_and_deletes_and_nobody_else_can() {
    let app = spawn_app().await;
    let (_ana, bob, mut a, mut b) = app.ana_and_bob_in_public_chat().await;
    send_body(&mut a, "helo wrold").await;
    let seq = next_message(&mut a).await.seq;
    next_message(&mut b).await;

    edit(&mut a, seq, "hello world").await;
    for socket in [&mut a, &mut b] {
        match next_change(socket).await {
            ServerEvent::MessageEdited { seq: edited, body, change, .. } => {
                assert_eq!((edited, body.as_str(), change), (seq, "hello world", 1));
            }
            other => panic!("expected message_edited, got {other:?}"),
        }
    }
    let shown = page(&app, "public-chat", &bob).await;
    let message = message_in(&shown, seq).unwrap();
    assert_eq!(message["body"], "hello world");
    assert!(message["edited_at"].is_string(), "the page says it was edited: {message}");

    // Bob may neither edit nor delete Ana's message; nothing changes and his socket stays open.
    edit(&mut b, seq, "mine now").await;
    assert_eq!(error_code(&next_change(&mut b).await), ErrorCode::NotYours);
    delete(&mut b, seq).await;
    assert_eq!(error_code(&next_change(&mut b).await), ErrorCode::NotYours);
    let refused = app.call("delete_message", &[("room", "public-chat"), ("seq", &seq.to_string())], Some(&bob)).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(message_in(&page(&app, "public-chat", &bob).await, seq).unwrap()["body"], "hello world");
    assert_quiet(&mut a).await;

    delete(&mut a, seq).await;
    for socket in [&mut a, &mut b] {
        match next_change(socket).await {
            ServerEvent::MessageDeleted { seq: deleted, change, .. } => assert_eq!((deleted, change), (seq, 2)),
            other => panic!("expected message_deleted, got {other:?}"),
        }
    }
    assert!(message_in(&page(&app, "public-chat", &bob).await, seq).is_none(), "gone from the page");
    assert_eq!(app.stored_messages("public-chat").await, 0, "not counted as a message");
    edit(&mut a, seq, "back?").await;
    assert_eq!(error_code(&next_change(&mut a).await), ErrorCode::NoSuchMessage);
    edit(&mut a, 999, "never").await;
    assert_eq!(error_code(&next_change(&mut a).await), ErrorCode::NoSuchMessage);
}

#[tokio::test]
async fn edits_are_validated_like_posts() {
    let app = spawn_app().await;
    let (ana, _bob, mut a, _b) = app.ana_and_bob_in_public_chat().await;
    send_body(&mut a, "original").await;
    let seq = next_message(&mut a).await.seq;
    edit(&mut a, seq, "   ").await;
    assert_eq!(error_code(&next_change(&mut a).await), ErrorCode::EmptyBody);
    edit(&mut a, seq, &"x".repeat(1001)).await;
    assert_eq!(error_code(&next_change(&mut a).await), ErrorCode::BodyTooLong);
    send_text(&mut a, r#"{"type":"edit","seq":"one"}"#).await;
    assert_eq!(error_code(&next_change(&mut a).await), ErrorCode::MalformedFrame);
    let form =
        app.call("edit_message", &[("room", "public-chat"), ("seq", &seq.to_string()), ("body", "")], Some(&ana)).await;
    assert_eq!(form.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(form.text().await.unwrap().contains("write something"));
    assert_eq!(message_in(&page(&app, "public-chat", &ana).await, seq).unwrap()["body"], "original");
    // The server function edits too, and the open socket sees it.
    let _: () = app
        .call_ok("edit_message", &[("room", "public-chat"), ("seq", &seq.to_string()), ("body", "better")], &ana)
        .await;
    assert!(matches!(next_change(&mut a).await, ServerEvent::MessageEdited { body, .. } if body == "better"));
}

#[tokio::test]
async fn the_owner_and_an_admin_delete_anyones_message_but_a_stranger_finds_no_room() {
    let app = spawn_app().await;
    let admin = app.signup("root").await;
    app.state.store.set_admin(app.user_id("root").await, true).await.unwrap();
    let (owner, member, stranger) = (app.signup("olga").await, app.signup("mia").await, app.signup("sam").await);
    let room = app.create_room(&owner, "Secret plans", "private").await;
    let _: () = app.call_ok("add_member", &[("room", &room), ("username", "mia")], &owner).await;
    let mut socket = app.socket(&room, &member).await;
    for n in 0..2 {
        send_body(&mut socket, &format!("plan {n}")).await;
    }
    let (first, second) = (next_message(&mut socket).await.seq, next_message(&mut socket).await.seq);
    let seq = |s: i64| s.to_string();

    // A stranger gets exactly what a room that does not exist gives, whatever they try.
    for (function, form) in [
        ("edit_message", vec![("room", room.as_str()), ("seq", "1"), ("body", "x")]),
        ("delete_message", vec![("room", room.as_str()), ("seq", "1")]),
        ("react", vec![("room", room.as_str()), ("seq", "1"), ("emoji", "👍")]),
        ("mentionable", vec![("room", room.as_str()), ("prefix", "")]),
    ] {
        let theirs = app.call(function, &form, Some(&stranger)).await;
        let mut nowhere = form.clone();
        nowhere[0].1 = "no-such-room";
        let missing = app.call(function, &nowhere, Some(&stranger)).await;
        assert_eq!((theirs.status(), missing.status()), (StatusCode::NOT_FOUND, StatusCode::NOT_FOUND), "{function}");
        assert_eq!(theirs.text().await.unwrap(), missing.text().await.unwrap(), "{function}");
    }

    let _: () = app.call_ok("delete_message", &[("room", &room), ("seq", &seq(first))], &owner).await;
    assert!(matches!(next_change(&mut socket).await, ServerEvent::MessageDeleted { seq, .. } if seq == first));
    // An admin who is not in the room deletes from the admin page (the room page of a
    // private room they are not in is not found, for them as for anyone).
    let _: () = app.call_ok("admin_delete_message", &[("room", &room), ("seq", &seq(second))], &admin).await;
    assert!(matches!(next_change(&mut socket).await, ServerEvent::MessageDeleted { seq, .. } if seq == second));
    assert_eq!(app.stored_messages(&room).await, 0);
}

#[tokio::test]
async fn reactions_toggle_once_whatever_the_number_of_tabs() {
    let app = spawn_app().await;
    let (_ana, bob, mut a, mut b) = app.ana_and_bob_in_public_chat().await;
    // Bob's second tab changes no online count, so nothing says when its server side has
    // begun; it asks for the room from the start (`?after=0`, the room is empty), or Ana's
    // message could be stored just before it begins and never reach it (seen once in CI).
    let mut b2 = app.socket_after("public-chat", &bob, "0").await.unwrap();
    send_body(&mut a, "lunch?").await;
    let seq = next_message(&mut a).await.seq;
    next_message(&mut b).await;
    next_message(&mut b2).await;

    // Bob taps 👍 in both tabs at once: one reaction, one event on each socket.
    react(&mut b, seq, "👍", true).await;
    react(&mut b2, seq, "👍", true).await;
    let one = vec![Reaction { emoji: "👍".into(), count: 1, people: vec!["bob".into()] }];
    for socket in [&mut a, &mut b, &mut b2] {
        assert_eq!(next_reactions(socket).await, one);
        assert_no_change(socket).await;
    }
    // Ana adds hers, and another; everyone sees both, and who.
    react(&mut a, seq, "👍", true).await;
    next_reactions(&mut a).await;
    react(&mut a, seq, "🎉", true).await;
    let both = vec![
        Reaction { emoji: "👍".into(), count: 2, people: vec!["bob".into(), "ana".into()] },
        Reaction { emoji: "🎉".into(), count: 1, people: vec!["ana".into()] },
    ];
    assert_eq!(next_reactions(&mut a).await, both);
    for socket in [&mut b, &mut b2] {
        next_reactions(socket).await;
        assert_eq!(next_reactions(socket).await, both);
    }
    let shown = page(&app, "public-chat", &bob).await;
    assert_eq!(message_in(&shown, seq).unwrap()["reactions"][0]["count"], 2);
    // Taking it back in both tabs takes it back once.
    react(&mut b, seq, "👍", false).await;
    react(&mut b2, seq, "👍", false).await;
    for socket in [&mut a, &mut b, &mut b2] {
        assert_eq!(next_reactions(socket).await[0].people, ["ana"]);
        assert_no_change(socket).await;
    }

    for bad in ["", "ok", "👍👍", "<b>x</b>"] {
        react(&mut b, seq, bad, true).await;
        assert_eq!(error_code(&next_change(&mut b).await), ErrorCode::BadEmoji, "{bad:?}");
    }
    react(&mut b, 999, "👍", true).await;
    assert_eq!(error_code(&next_change(&mut b).await), ErrorCode::NoSuchMessage);
    // The form works without JavaScript, and says what is wrong with a bad emoji.
    let bad =
        app.call("react", &[("room", "public-chat"), ("seq", &seq.to_string()), ("emoji", "yes")], Some(&bob)).await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.text().await.unwrap().contains("one emoji"));
    let _: () =
        app.call_ok("react", &[("room", "public-chat"), ("seq", &seq.to_string()), ("emoji", "🙏")], &bob).await;
    let emoji: Vec<String> = next_reactions(&mut a).await.into_iter().map(|r| r.emoji).collect();
    assert_eq!(emoji, ["👍", "🎉", "🙏"]);
}

#[tokio::test]
async fn someone_previewing_a_public_room_cannot_react_or_edit() {
    let app = spawn_app().await;
    let (owner, visitor) = (app.signup("olga").await, app.signup("vic").await);
    let room = app.create_room(&owner, "Open house", "public").await;
    let mut own = app.socket(&room, &owner).await;
    send_body(&mut own, "welcome").await;
    let seq = next_message(&mut own).await.seq;
    let mut looking = app.socket(&room, &visitor).await;
    react(&mut looking, seq, "👍", true).await;
    assert_eq!(error_code(&next_change(&mut looking).await), ErrorCode::NotMember);
    let _: () = app.call_ok("join_room", &[("room", &room)], &visitor).await;
    react(&mut looking, seq, "👍", true).await;
    assert!(matches!(next_change(&mut looking).await, ServerEvent::Reactions { .. }), "a member once joined");
}

#[tokio::test]
async fn a_reply_quotes_its_message_and_says_when_it_was_deleted() {
    let app = spawn_app().await;
    let (ana, bob, mut a, mut b) = app.ana_and_bob_in_public_chat().await;
    send_body(&mut a, "Who brings the cake?\nAnd the candles?").await;
    let original = next_message(&mut a).await.seq;
    next_message(&mut b).await;
    send_text(&mut b, &json!({ "body": "I do", "reply_to": original, "client_id": "r1" }).to_string()).await;
    let reply = next_message(&mut a).await;
    let quote = reply.reply_to.expect("the reply carries its quote");
    assert_eq!((quote.seq, quote.author.username.as_str()), (original, "ana"));
    assert_eq!(quote.excerpt, "Who brings the cake? And the candles?");
    next_message(&mut b).await;

    // A reply to nothing is refused by name, so the page can say so; nothing is stored.
    send_text(&mut b, &json!({ "body": "to whom?", "reply_to": 999, "client_id": "r2" }).to_string()).await;
    match next_change(&mut b).await {
        ServerEvent::Error { code, client_id, .. } => {
            assert_eq!((code, client_id.as_deref()), (ErrorCode::NoSuchMessage, Some("r2")));
        }
        other => panic!("expected an error, got {other:?}"),
    }
    // Without JavaScript the message form answers too.
    let _: () = app
        .call_ok(
            "send_message",
            &[("room", "public-chat"), ("body", "me too"), ("reply_to", &original.to_string())],
            &bob,
        )
        .await;
    assert_eq!(next_message(&mut a).await.reply_to.unwrap().seq, original);
    assert_eq!(app.stored_messages("public-chat").await, 3);

    // The original is edited, then deleted: the page's quotes follow.
    edit(&mut a, original, "Who brings the pie?").await;
    next_change(&mut a).await;
    let shown = page(&app, "public-chat", &ana).await;
    assert_eq!(message_in(&shown, reply.seq).unwrap()["reply_to"]["excerpt"], "Who brings the pie?");
    delete(&mut a, original).await;
    next_change(&mut a).await;
    let shown = page(&app, "public-chat", &bob).await;
    assert_eq!(message_in(&shown, reply.seq).unwrap()["reply_to"]["deleted"], true);
    assert!(!serde_json::to_string(&shown).unwrap().contains("pie"), "nothing of it is left on the page");
}

#[tokio::test]
async fn autocomplete_offers_the_rooms_members() {
    let app = spawn_app().await;
    let owner = app.signup("olga").await;
    for name in ["anna", "anita", "bob", "an_x"] {
        app.signup(name).await;
    }
    let room = app.create_room(&owner, "Club", "private").await;
    for name in ["anna", "anita", "an_x"] {
        let _: () = app.call_ok("add_member", &[("room", &room), ("username", name)], &owner).await;
    }
    let names = |found: Vec<serde_json::Value>| -> Vec<String> {
        found.iter().map(|p| p["username"].as_str().unwrap().to_owned()).collect()
    };
    let found = app.call_ok("mentionable", &[("room", &room), ("prefix", "an")], &owner).await;
    assert_eq!(names(found), ["an_x", "anita", "anna"]);
    let found = app.call_ok("mentionable", &[("room", &room), ("prefix", "an_")], &owner).await;
    assert_eq!(names(found), ["an_x"], "_ is a letter here, not a wildcard");
    let found = app.call_ok("mentionable", &[("room", &room), ("prefix", "b")], &owner).await;
    assert!(names(found).is_empty(), "bob is not in the room");
    let found = app.call_ok("mentionable", &[("room", &room), ("prefix", "%")], &owner).await;
    assert!(names(found).is_empty());
}

#[tokio::test]
async fn mentions_of_members_are_marked_on_the_message() {
    let app = spawn_app().await;
    let (_ana, _bob, mut a, _b) = app.ana_and_bob_in_public_chat().await;
    send_body(&mut a, "hi @Bob and @nobody").await;
    assert_eq!(next_message(&mut a).await.mentions, ["bob"]);
}

// Several threads, so that changes are made while the page is away and 200 messages arrive.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_that_was_away_gets_every_change_once_then_live_ones() {
    let app = spawn_app().await;
    let (ana, _bob, mut a, mut b) = app.ana_and_bob_in_public_chat().await;
    for n in 1..=10 {
        send_body(&mut b, &format!("before {n}")).await;
    }
    for _ in 1..=10 {
        next_message(&mut a).await;
    }
    let room_id = app.state.store.room_by_name("public-chat").await.unwrap().unwrap().id;
    let since = page(&app, "public-chat", &ana).await["last_change"].as_i64().unwrap();
    assert_eq!(since, 0);
    // Ana's page goes away, having seen messages up to 10 and no change.
    drop(a);

    // Bob posts 200 more while, one after the other, messages 1–5 are edited (3 twice), 6 is
    // deleted, 7 gets 👍, loses it and gets ❤️, 8 gets 👀 and loses it, and then two of the
    // new ones change too (15 edited, 16 reacted to).
    let writer = write_in_background(b, 200);
    let bob = _bob;
    let at = |seq: i64| seq.to_string();
    let room = [("room", "public-chat")];
    let change = |function: &'static str, form: Vec<(&'static str, String)>| {
        let (app, bob) = (&app, &bob);
        async move {
            let mut fields: Vec<(&str, &str)> = room.to_vec();
            fields.extend(form.iter().map(|(k, v)| (*k, v.as_str())));
            let _: () = app.call_ok(function, &fields, bob).await;
        }
    };
    for seq in [1, 2, 3, 4, 5] {
        change("edit_message", vec![("seq", at(seq)), ("body", format!("edited {seq}"))]).await;
    }
    change("edit_message", vec![("seq", at(3)), ("body", "edited 3 again".into())]).await;
    change("delete_message", vec![("seq", at(6))]).await;
    for (seq, emoji, on) in
        [(7, "👍", "true"), (7, "👍", "false"), (7, "❤️", "true"), (8, "👀", "true"), (8, "👀", "false")]
    {
        change("react", vec![("seq", at(seq)), ("emoji", emoji.into()), ("on", on.into())]).await;
    }
    while app.state.store.last_seq(room_id).await.unwrap() < 16 {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    change("edit_message", vec![("seq", at(15)), ("body", "edited 15".into())]).await;
    change("react", vec![("seq", at(16)), ("emoji", "🎉".into())]).await;
    let mut b = writer.await.unwrap();
    // Bob's own acknowledgements tell when all 200 are stored.
    let mut last = 0;
    while last < 210 {
        if let ServerEvent::Message(message) = next_change(&mut b).await {
            last = message.seq;
        }
    }
    let (_, changes) = app.state.store.position(room_id).await.unwrap();
    assert_eq!(changes, 14, "6 edits, a deletion, 5 reactions, and 2 changes to new messages");

    let mut resumed = app.socket_after("public-chat", &ana, &format!("10&since={since}")).await.unwrap();
    let mut events = Vec::new();
    let mut messages = Vec::new();
    while messages.len() < 200 {
        match next_change(&mut resumed).await {
            ServerEvent::Message(message) => messages.push(message),
            event => {
                assert!(messages.is_empty(), "changes to what the page has come first: {event:?}");
                events.push(event);
            }
        }
    }
    // Each changed message of the ten once, as it is now, in the order of its last change: 1,
    // 2, 4, 5 (changes 1, 2, 4, 5), 3 (edited again: 6), 6 deleted (7), 7 (10), 8 (12).
    let summary: Vec<String> = events
        .iter()
        .map(|event| match event {
            ServerEvent::MessageEdited { seq, body, .. } => format!("{seq} edited: {body}"),
            ServerEvent::MessageDeleted { seq, .. } => format!("{seq} deleted"),
            ServerEvent::Reactions { seq, reactions, .. } => {
                let emoji: Vec<&str> = reactions.iter().map(|r| r.emoji.as_str()).collect();
                format!("{seq} reactions: {}", emoji.join(","))
            }
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(
        summary,
        [
            "1 edited: edited 1",
            "1 reactions: ",
            "2 edited: edited 2",
            "2 reactions: ",
            "4 edited: edited 4",
            "4 reactions: ",
            "5 edited: edited 5",
            "5 reactions: ",
            "3 edited: edited 3 again",
            "3 reactions: ",
            "6 deleted",
            "7 reactions: ❤️",
            "8 reactions: ",
        ]
    );
    let changes_told: Vec<i64> = events
        .iter()
        .map(|event| match event {
            ServerEvent::MessageEdited { change, .. }
            | ServerEvent::MessageDeleted { change, .. }
            | ServerEvent::Reactions { change, .. } => *change,
            _ => unreachable!(),
        })
        .collect();
    assert!(changes_told.windows(2).all(|pair| pair[0] <= pair[1]), "in change order: {changes_told:?}");
    // Then every message it missed, once, in order, as it is now.
    let seqs: Vec<i64> = messages.iter().map(|m| m.seq).collect();
    assert_eq!(seqs, (11..=210).collect::<Vec<_>>());
    let fifteen = messages.iter().find(|m| m.seq == 15).unwrap();
    assert_eq!((fifteen.body.as_str(), fifteen.edited_at.is_some()), ("edited 15", true));
    assert_eq!(messages.iter().find(|m| m.seq == 16).unwrap().reactions[0].emoji, "🎉");

    // Then live ones, once each.
    edit(&mut b, 9, "edited 9").await;
    match next_change(&mut resumed).await {
        ServerEvent::MessageEdited { seq, change, .. } => assert_eq!((seq, change), (9, 15)),
        other => panic!("expected the live edit, got {other:?}"),
    }
    assert_no_change(&mut resumed).await;
}

// SQLite lets a transaction that read first fail when it comes to write after another writer:
// replies (which read the message they answer) must never be refused for that.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replies_are_stored_while_everyone_else_writes() {
    let app = spawn_app().await;
    let people = app.many_people("p", 4).await;
    let mut first = app.socket("public-chat", &people[0]).await;
    send_body(&mut first, "the question").await;
    let question = next_message(&mut first).await.seq;
    let mut writers = Vec::new();
    for (n, person) in people.iter().enumerate() {
        let mut socket = app.socket_after("public-chat", person, &question.to_string()).await.unwrap();
        writers.push(tokio::spawn(async move {
            for k in 0..25 {
                let reply =
                    json!({ "body": format!("{n}:{k}"), "reply_to": question, "client_id": format!("c{n}-{k}") });
                send_text(&mut socket, &reply.to_string()).await;
                // Reads are writes too, and they interleave with the replies.
                send_text(&mut socket, &json!({ "type": "read", "seq": question + k }).to_string()).await;
            }
            let mut mine = 0;
            while mine < 25 {
                match next_change(&mut socket).await {
                    ServerEvent::Message(message) if message.body.starts_with(&format!("{n}:")) => {
                        assert_eq!(message.reply_to.unwrap().seq, question);
                        mine += 1;
                    }
                    ServerEvent::Message(_) => {}
                    other => panic!("expected messages, got {other:?}"),
                }
            }
        }));
    }
    for writer in writers {
        writer.await.unwrap();
    }
    assert_eq!(app.stored_messages("public-chat").await, 101);
}
