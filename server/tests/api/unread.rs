//! Unread counts: exact per person and room (messages by others after their read position),
//! pushed to every tab and device on `/ws/chat/`, cleared by reading on any of them.

use std::collections::HashMap;

use app::model::RoomSummary;
use app::protocol::UserEvent;

use crate::helpers::*;

async fn counts(app: &TestApp, user: &TestUser) -> HashMap<String, u32> {
    let rooms: Vec<RoomSummary> = app.call_ok("my_rooms", &[], user).await;
    rooms.into_iter().map(|room| (room.name, room.unread)).collect()
}

/// The next unread event on a person's own socket, skipping sidebar events.
async fn next_unread(socket: &mut Socket) -> (String, u32) {
    loop {
        match next_user_event(socket).await {
            UserEvent::Unread { room, count } => return (room, count),
            UserEvent::RoomAdded { .. } | UserEvent::Presence { .. } | UserEvent::Notify { .. } => continue,
            other => panic!("expected an unread count, got {other:?}"),
        }
    }
}

/// Reads unread events until every room listed has its count. Counts are sent a moment
/// after they change (several messages may make one event), so a tab may skip a value, but
/// what it is told only rises to the exact count and is never another room's or above it.
async fn unread_reaches(socket: &mut Socket, expected: &[(&str, u32)]) {
    let mut seen: HashMap<String, u32> = HashMap::new();
    while expected.iter().any(|(room, n)| seen.get(*room) != Some(n)) {
        let (room, count) = next_unread(socket).await;
        let want = expected.iter().find(|(r, _)| *r == room).map(|(_, n)| *n);
        let want = want.unwrap_or_else(|| panic!("an unread count for {room}, which should not change"));
        assert!(count <= want, "{room}: told {count}, the exact count is {want}");
        assert!(seen.get(&room).is_none_or(|before| *before <= count), "{room}: counts only rise here");
        seen.insert(room, count);
    }
}

/// Asserts that no unread count arrives for a short while (other events may: people coming
/// online, a notification of a private message, which is sent apart from the badges).
async fn assert_no_unread(socket: &mut Socket) {
    let until = tokio::time::Instant::now() + std::time::Duration::from_millis(300);
    while let Ok(event) = tokio::time::timeout_at(until, next_user_event(socket)).await {
        assert!(!matches!(event, UserEvent::Unread { .. }), "expected no unread count, got {event:?}");
    }
}

#[tokio::test]
async fn three_people_three_rooms_counts_are_exact_and_reading_clears_them_everywhere() {
    let app = spawn_app().await;
    let ana = app.signup("ana").await;
    let bob = app.signup("bob").await;
    let cleo = app.signup("cleo").await;
    let group = app.create_room(&ana, "Garden", "public").await;
    for user in [&bob, &cleo] {
        let _: () = app.call_ok("join_room", &[("room", &group)], user).await;
    }
    let dm = app.direct_room(&ana, "bob").await;

    // Bob has the app open on two devices, Cleo and Ana on one each.
    let mut bob_phone = app.user_socket(&bob).await;
    let mut bob_laptop = app.user_socket(&bob).await;
    let mut cleo_tab = app.user_socket(&cleo).await;
    let mut ana_tab = app.user_socket(&ana).await;

    app.post("public-chat", &ana, "one").await;
    app.post("public-chat", &ana, "two").await;
    app.post(&group, &bob, "in the garden").await;
    for n in 1..=3 {
        app.post(&dm, &ana, &format!("private {n}")).await;
    }

    // Each tab reaches the room's exact count for that person; their own messages never count.
    for socket in [&mut bob_phone, &mut bob_laptop] {
        unread_reaches(socket, &[("public-chat", 2), (&dm, 3)]).await;
    }
    unread_reaches(&mut cleo_tab, &[("public-chat", 2), (&group, 1)]).await;
    unread_reaches(&mut ana_tab, &[(&group, 1)]).await;
    assert_no_unread(&mut ana_tab).await;
    assert_no_unread(&mut bob_phone).await;

    let expected = |pairs: &[(&str, u32)]| pairs.iter().map(|(r, n)| (r.to_string(), *n)).collect::<HashMap<_, _>>();
    assert_eq!(counts(&app, &ana).await, expected(&[("public-chat", 0), (&group, 1), (&dm, 0)]));
    assert_eq!(counts(&app, &bob).await, expected(&[("public-chat", 2), (&group, 0), (&dm, 3)]));
    assert_eq!(counts(&app, &cleo).await, expected(&[("public-chat", 2), (&group, 1)]));

    // Bob reads the chat with Ana on his laptop: both his devices drop to 0 at once.
    let mut dm_page = app.socket(&dm, &bob).await;
    send_text(&mut dm_page, r#"{"type":"read","seq":3}"#).await;
    assert_eq!(next_unread(&mut bob_laptop).await, (dm.clone(), 0));
    assert_eq!(next_unread(&mut bob_phone).await, (dm.clone(), 0));

    // Reading part of a room leaves the rest; reading backwards changes nothing; reading past
    // the newest message only reads what exists.
    let mut public_page = app.socket("public-chat", &bob).await;
    send_text(&mut public_page, r#"{"type":"read","seq":1}"#).await;
    assert_eq!(next_unread(&mut bob_phone).await, ("public-chat".into(), 1));
    send_text(&mut public_page, r#"{"type":"read","seq":0}"#).await;
    assert_eq!(next_unread(&mut bob_phone).await, ("public-chat".into(), 1));
    send_text(&mut public_page, r#"{"type":"read","seq":999}"#).await;
    assert_eq!(next_unread(&mut bob_phone).await, ("public-chat".into(), 0));
    app.post("public-chat", &ana, "three").await;
    assert_eq!(next_unread(&mut bob_phone).await, ("public-chat".into(), 1), "a new message after reading 999");

    assert_eq!(counts(&app, &bob).await, expected(&[("public-chat", 1), (&group, 0), (&dm, 0)]));
    assert_eq!(counts(&app, &cleo).await, expected(&[("public-chat", 3), (&group, 1)]));
}

#[tokio::test]
async fn joining_a_room_with_history_starts_read_and_previewers_mark_nothing() {
    let app = spawn_app().await;
    let ana = app.signup("ana").await;
    let bob = app.signup("bob").await;
    let room = app.create_room(&ana, "Old news", "public").await;
    for n in 1..=5 {
        app.post(&room, &ana, &format!("old {n}")).await;
    }

    // Bob previews the public room: reading it marks nothing, and it is not his room.
    let mut preview = app.socket(&room, &bob).await;
    send_text(&mut preview, r#"{"type":"read","seq":5}"#).await;
    assert!(!counts(&app, &bob).await.contains_key(&room));

    let _: () = app.call_ok("join_room", &[("room", &room)], &bob).await;
    assert_eq!(counts(&app, &bob).await.get(&room), Some(&0), "history is there to scroll, not unread");
    app.post(&room, &ana, "new").await;
    assert_eq!(counts(&app, &bob).await.get(&room), Some(&1));
}

#[tokio::test]
async fn counts_for_more_connected_people_than_one_statement_can_bind() {
    let app = spawn_app().await;
    let (ana, bob) = (app.signup("ana").await, app.signup("bob").await);
    app.post("public-chat", &ana, "one").await;
    app.post("public-chat", &ana, "two").await;
    let room = app.state.store.room_by_name("public-chat").await.unwrap().unwrap();
    let bob_id = app.user_id(&bob.username).await;
    // 40 000 ids, more than SQLite's 32 766 placeholders: queried in slices.
    let mut connected: Vec<i64> = (1_000_000..1_040_000).collect();
    connected.push(bob_id);
    let counts = app.state.store.unread_for(room.id, &connected).await.unwrap();
    let counts: Vec<(i64, u32)> = counts.into_iter().map(|c| (c.user_id, c.count)).collect();
    assert_eq!(counts, [(bob_id, 2)]);
    let viewers = app.state.store.viewers_among(app.user_id(&ana.username).await, &connected).await.unwrap();
    assert_eq!(viewers, [bob_id]);
}
