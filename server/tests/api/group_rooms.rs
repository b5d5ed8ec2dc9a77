//! Group rooms: slugs, members, ownership, renaming and deleting, with every open socket and
//! sidebar kept in step.

use app::model::{PublicRoom, RoomSettings, RoomSummary};
use app::protocol::{ClosedReason, ServerEvent, UserEvent};
use reqwest::StatusCode;

use crate::helpers::*;

#[tokio::test]
async fn slugs_come_from_the_name_and_never_collide() {
    let app = spawn_app().await;
    let ana = app.signup("ana").await;
    assert_eq!(app.create_room(&ana, "Rent & Repairs!", "public").await, "rent-repairs");
    assert_eq!(app.create_room(&ana, "rent repairs", "private").await, "rent-repairs-2");
    assert_eq!(app.create_room(&ana, "RENT -- REPAIRS", "public").await, "rent-repairs-3");
    assert_eq!(app.create_room(&ana, "Public chat", "public").await, "room-public-chat");
    assert_eq!(app.create_room(&ana, "dm-1-2", "public").await, "room-dm-1-2");
    assert_eq!(app.create_room(&ana, "日本語", "public").await, "room");

    // Ten people creating the same name at once get ten rooms.
    let mut names: Vec<String> =
        futures_util::future::join_all((0..10).map(|_| app.create_room(&ana, "Standup", "public"))).await;
    names.sort();
    names.dedup();
    assert_eq!(names.len(), 10, "{names:?}");

    let bad = app.call("create_room", &[("title", "   "), ("visibility", "public")], Some(&ana)).await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.text().await.unwrap().contains("give the room a name"));
    let bad = app.call("create_room", &[("title", "x"), ("visibility", "secret")], Some(&ana)).await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn public_rooms_are_listed_and_private_ones_are_not() {
    let app = spawn_app().await;
    let ana = app.signup("ana").await;
    let bob = app.signup("bob").await;
    app.create_room(&ana, "Garden club", "public").await;
    app.create_room(&ana, "Board only", "private").await;
    let rooms: Vec<PublicRoom> = app.call_ok("public_rooms", &[("q", "")], &bob).await;
    let titles: Vec<&str> = rooms.iter().map(|r| r.title.as_str()).collect();
    assert_eq!(titles, ["Public chat", "Garden club"]);
    assert!(rooms[0].is_member && !rooms[1].is_member);
    assert_eq!(rooms[1].members, 1);
    let found: Vec<PublicRoom> = app.call_ok("public_rooms", &[("q", "GARDEN")], &bob).await;
    assert_eq!(found.len(), 1);

    // Joining puts it in the sidebar (and tells Bob's other tabs); leaving takes it out.
    let mut tab = app.user_socket(&bob).await;
    let _: () = app.call_ok("join_room", &[("room", "garden-club")], &bob).await;
    assert!(matches!(next_sidebar_event(&mut tab).await, UserEvent::RoomAdded { room } if room.name == "garden-club"));
    let sidebar: Vec<RoomSummary> = app.call_ok("my_rooms", &[], &bob).await;
    assert_eq!(sidebar.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(), ["public-chat", "garden-club"]);
    let _: () = app.call_ok("leave_room", &[("room", "garden-club")], &bob).await;
    assert!(matches!(next_sidebar_event(&mut tab).await, UserEvent::RoomRemoved { room } if room == "garden-club"));

    // Nobody leaves the public chat, and an owner must hand the room over first.
    let stay = app.call("leave_room", &[("room", "public-chat")], Some(&bob)).await;
    assert_eq!(stay.status(), StatusCode::FORBIDDEN);
    assert!(stay.text().await.unwrap().contains("everyone stays in the public chat"));
    let owner = app.call("leave_room", &[("room", "garden-club")], Some(&ana)).await;
    assert_eq!(owner.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_owner_manages_a_private_room_and_sockets_follow() {
    let app = spawn_app().await;
    let ana = app.signup("ana").await;
    let bob = app.signup("bob").await;
    let cleo = app.signup("cleo").await;
    let room = app.create_room(&ana, "Board", "private").await;

    // Adding Bob tells his open tabs; he can then open the room.
    let mut bob_tab = app.user_socket(&bob).await;
    let _: () = app.call_ok("add_member", &[("room", &room), ("username", "bob")], &ana).await;
    match next_sidebar_event(&mut bob_tab).await {
        UserEvent::RoomAdded { room: added } => {
            assert_eq!((added.name.as_str(), added.title.as_str()), (room.as_str(), "Board"))
        }
        other => panic!("expected room_added, got {other:?}"),
    }
    let unknown = app.call("add_member", &[("room", &room), ("username", "nobody")], Some(&ana)).await;
    assert_eq!(unknown.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(unknown.text().await.unwrap().contains("is in your directory"));

    // Only the owner manages.
    for (function, extra) in [("add_member", "cleo"), ("remove_member", "ana"), ("transfer_room", "bob")] {
        let refused = app.call(function, &[("room", &room), ("username", extra)], Some(&bob)).await;
        assert_eq!(refused.status(), StatusCode::FORBIDDEN, "{function}");
    }

    let mut bob_room = app.socket(&room, &bob).await;
    assert_eq!(next_count(&mut bob_room).await, 1);

    // Renaming reaches the open room and every member's sidebar; the URL stays.
    let _: () = app.call_ok("rename_room", &[("room", &room), ("title", "The Board")], &ana).await;
    assert_eq!(
        next_event(&mut bob_room).await,
        ServerEvent::RoomRenamed { room: room.clone(), title: "The Board".into() }
    );
    assert_eq!(
        next_sidebar_event(&mut bob_tab).await,
        UserEvent::RoomRenamed { room: room.clone(), title: "The Board".into() }
    );
    let bobs_rooms: Vec<RoomSummary> = app.call_ok("my_rooms", &[], &bob).await;
    assert!(bobs_rooms.iter().any(|r| r.name == room && r.title == "The Board"), "{bobs_rooms:?}");

    // Removing Bob closes his socket on the room, tells his sidebar, and hides the room.
    let _: () = app.call_ok("remove_member", &[("room", &room), ("username", "bob")], &ana).await;
    assert_eq!(
        next_event(&mut bob_room).await,
        ServerEvent::RoomClosed { room: room.clone(), reason: ClosedReason::Removed }
    );
    assert_eq!(closed_with(&mut bob_room).await, 1000);
    assert!(matches!(next_sidebar_event(&mut bob_tab).await, UserEvent::RoomRemoved { room: r } if r == room));
    assert_eq!(app.get(&format!("/chat/room/{room}/"), Some(&bob.cookie)).await.status(), StatusCode::NOT_FOUND);

    // Handing over: Cleo joins, becomes owner; Ana may now leave.
    let _: () = app.call_ok("add_member", &[("room", &room), ("username", "cleo")], &ana).await;
    let _: () = app.call_ok("transfer_room", &[("room", &room), ("username", "cleo")], &ana).await;
    let settings: RoomSettings = app.call_ok("room_settings", &[("room", &room)], &cleo).await;
    assert_eq!(settings.owner.as_deref(), Some("cleo"));
    assert!(settings.is_owner);
    assert_eq!(settings.members.iter().map(|m| m.username.as_str()).collect::<Vec<_>>(), ["ana", "cleo"]);
    let _: () = app.call_ok("leave_room", &[("room", &room)], &ana).await;
    assert_eq!(app.get(&format!("/chat/room/{room}/"), Some(&ana.cookie)).await.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn deleting_asks_for_the_name_and_takes_the_messages_with_it() {
    let app = spawn_app().await;
    let ana = app.signup("ana").await;
    let bob = app.signup("bob").await;
    let room = app.create_room(&ana, "Short lived", "public").await;
    let _: () = app.call_ok("join_room", &[("room", &room)], &bob).await;
    let mut bob_room = app.socket(&room, &bob).await;
    next_count(&mut bob_room).await;
    send_body(&mut bob_room, "soon gone").await;
    next_event(&mut bob_room).await;
    let mut bob_tab = app.user_socket(&bob).await;

    let wrong = app.call("delete_room", &[("room", &room), ("confirm", "yes")], Some(&ana)).await;
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wrong.text().await.unwrap().contains("type its name"));
    let not_owner = app.call("delete_room", &[("room", &room), ("confirm", "Short lived")], Some(&bob)).await;
    assert_eq!(not_owner.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.stored_messages(&room).await, 1, "nothing deleted yet");

    let _: () = app.call_ok("delete_room", &[("room", &room), ("confirm", "Short lived")], &ana).await;
    assert_eq!(
        next_event(&mut bob_room).await,
        ServerEvent::RoomClosed { room: room.clone(), reason: ClosedReason::Deleted }
    );
    assert_eq!(closed_with(&mut bob_room).await, 1000);
    assert!(matches!(next_sidebar_event(&mut bob_tab).await, UserEvent::RoomRemoved { room: r } if r == room));
    assert!(app.state.store.room_by_name(&room).await.unwrap().is_none());
    let orphans: i64 = app.state.store.count_all_messages().await.unwrap();
    assert_eq!(orphans, 0, "the room's messages went with it");
    assert_eq!(app.get(&format!("/chat/room/{room}/"), Some(&ana.cookie)).await.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_plain_form_gets_owner_errors_back_on_the_settings_page() {
    let app = spawn_app().await;
    let ana = app.signup("ana").await;
    let room = app.create_room(&ana, "Forms", "private").await;
    let response =
        app.post_browser_form("/api/delete_room", &[("room", &room), ("confirm", "nope")], Some(&ana.cookie)).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with(&format!("/chat/room/{room}/settings?error=invalid")), "{location}");
    let page = app.get(&location, Some(&ana.cookie)).await.text().await.unwrap();
    assert!(page.contains("type its name (Forms) exactly"), "the settings page shows why");
}
