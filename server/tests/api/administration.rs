use app::protocol::ServerEvent;
use reqwest::StatusCode;

use crate::helpers::*;

/// Ana, an admin, and Bob, who is not.
async fn admin_and_bob(app: &TestApp) -> (TestUser, TestUser) {
    let ana = app.signup("ana").await;
    let bob = app.signup("bob").await;
    app.state.store.set_admin(app.user_id("ana").await, true).await.unwrap();
    (ana, bob)
}

/// The path and query of a one-time link the server printed or answered.
fn link_path(text: &str) -> String {
    let start = text.find("/set-password?token=").expect("a set-password link");
    text[start..].split_whitespace().next().unwrap().trim_matches('"').to_owned()
}

fn link_token(text: &str) -> String {
    link_path(text).trim_start_matches("/set-password?token=").to_owned()
}

#[tokio::test]
async fn the_admin_page_and_its_functions_do_not_exist_for_others() {
    let app = spawn_app().await;
    let (ana, bob) = admin_and_bob(&app).await;
    assert_eq!(app.get("/admin", Some(&bob.cookie)).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(app.call("admin_overview", &[], Some(&bob)).await.status(), StatusCode::NOT_FOUND);
    let refused = app.call("admin_set_suspended", &[("username", "ana"), ("suspended", "true")], Some(&bob)).await;
    assert_eq!(refused.status(), StatusCode::NOT_FOUND);
    assert!(app.log_in("ana", "correct-horse").await.is_ok(), "nothing happened to ana");

    let page = app.get("/admin", Some(&ana.cookie)).await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("data-username=\"bob\"") && html.contains("data-room=\"public-chat\""), "{html}");
    let overview: serde_json::Value = app.call_ok("admin_overview", &[], &ana).await;
    let users = overview["users"].as_array().unwrap();
    assert_eq!(users.len(), 2);
    assert_eq!(users[1]["person"]["username"], "bob");
    assert_eq!(users[1]["suspended"], false);
}

#[tokio::test]
async fn a_suspended_person_is_signed_out_at_once_and_told_why_at_login() {
    let app = spawn_app().await;
    let (ana, bob) = admin_and_bob(&app).await;
    let mut bob_room = app.socket("public-chat", &bob).await;
    let mut bob_tab = app.user_socket(&bob).await;

    let _: () = app.call_ok("admin_set_suspended", &[("username", "bob"), ("suspended", "true")], &ana).await;
    assert_eq!(closed_with(&mut bob_room).await, 1008, "the room socket closes");
    assert_eq!(closed_with(&mut bob_tab).await, 1008, "and the tab's own socket");
    assert_eq!(app.whoami(&bob.cookie).await, None, "the session ended");
    assert_eq!(app.open_socket("public-chat", Some(&bob.cookie), None).await.err(), Some(StatusCode::UNAUTHORIZED));
    let (status, text) = app.log_in("bob", "correct-horse").await.unwrap_err();
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(text.contains("Suspended"), "{text}");
    // A wrong password says nothing about the suspension.
    let (status, text) = app.log_in("bob", "wrong-horse").await.unwrap_err();
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(!text.contains("Suspended"));

    let refused = app.call("admin_set_suspended", &[("username", "ana"), ("suspended", "true")], Some(&ana)).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN, "nobody suspends themselves");

    let _: () = app.call_ok("admin_set_suspended", &[("username", "bob"), ("suspended", "false")], &ana).await;
    assert!(app.log_in("bob", "correct-horse").await.is_ok());
}

#[tokio::test]
async fn a_suspension_from_the_command_line_closes_the_sockets_of_a_running_server() {
    let app = spawn_app().await;
    let bob = app.signup("bob").await;
    let mut bob_room = app.socket("public-chat", &bob).await;

    let (ok, said) = app.admin_cli(&["suspend", "bob"]);
    assert!(ok, "{said}");
    assert_eq!(said, "bob is suspended: signed out everywhere, and cannot log in");
    assert_eq!(closed_with(&mut bob_room).await, 1008, "the server notices within seconds");
    assert!(app.log_in("bob", "correct-horse").await.is_err());
    let (_, said) = app.admin_cli(&["list-users"]);
    assert!(said.lines().nth(1).unwrap().trim_end().ends_with("suspended"), "{said}");

    let (ok, said) = app.admin_cli(&["unsuspend", "bob"]);
    assert!(ok && said == "bob may log in again", "{said}");
    assert!(app.log_in("bob", "correct-horse").await.is_ok());
    let (ok, said) = app.admin_cli(&["unsuspend", "bob"]);
    assert!(ok && said == "bob was not suspended", "{said}");
    let (ok, said) = app.admin_cli(&["suspend", "nobody"]);
    assert!(!ok && said.contains("no account is called \"nobody\""), "{said}");
}

#[tokio::test]
async fn create_admin_prints_a_link_that_sets_the_password_once() {
    let app = spawn_app().await;
    let (ok, said) = app.admin_cli(&["create-admin", "root", "--email", "root@example.org"]);
    assert!(ok, "{said}");
    assert!(said.starts_with("root is an admin."), "{said}");
    assert!(said.contains(&format!("{}/set-password?token=", app.address)), "the link is complete: {said}");
    assert!(app.log_in("root", "").await.is_err(), "no password works before the link is used");

    let page = markup(&app.get(&link_path(&said), None).await.text().await.unwrap());
    assert!(page.contains("Set your password") && page.contains("root</strong>"), "{page}");
    let set = app
        .post_form("/api/set_password", &[("token", &link_token(&said)), ("new_password", "root-password")], None)
        .await;
    assert_eq!(set.status(), StatusCode::OK);
    let cookie = session_cookie(&set).expect("setting the password signs in");
    assert_eq!(app.whoami(&cookie).await.as_deref(), Some("root"));
    let admin = TestUser { username: "root".into(), cookie };
    let _: serde_json::Value = app.call_ok("admin_overview", &[], &admin).await;

    let again = app
        .post_form("/api/set_password", &[("token", &link_token(&said)), ("new_password", "other-password")], None)
        .await;
    assert_eq!(again.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(again.text().await.unwrap().contains("expired or was used already"));
    let page = app.get(&link_path(&said), None).await.text().await.unwrap();
    assert!(page.contains("This link does not work"));

    let (ok, said) = app.admin_cli(&["create-admin", "ROOT"]);
    assert!(!ok && said.contains("exists already"), "{said}");
}

#[tokio::test]
async fn reset_password_links_end_every_session_when_used() {
    let app = spawn_app().await;
    let (ana, bob) = admin_and_bob(&app).await;
    let mut bob_room = app.socket("public-chat", &bob).await;

    let (ok, said) = app.admin_cli(&["reset-password", "bob"]);
    assert!(ok, "{said}");
    assert!(app.whoami(&bob.cookie).await.is_some(), "a link ends nothing until it is used");
    // The admin page makes links too.
    let from_page: String = app.call_ok("admin_reset_password", &[("username", "bob")], &ana).await;
    assert!(from_page.starts_with(&app.address), "{from_page}");

    let set = app
        .post_form("/api/set_password", &[("token", &link_token(&said)), ("new_password", "new-horse-1")], None)
        .await;
    assert_eq!(set.status(), StatusCode::OK);
    assert_eq!(app.whoami(&bob.cookie).await, None, "the old session ended");
    assert_eq!(closed_with(&mut bob_room).await, 1008);
    assert!(app.log_in("bob", "correct-horse").await.is_err());
    assert!(app.log_in("bob", "new-horse-1").await.is_ok());
    // Using one link spends the others.
    let other = app
        .post_form("/api/set_password", &[("token", &link_token(&from_page)), ("new_password", "new-horse-2")], None)
        .await;
    assert_eq!(other.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn roles_and_the_admin_flag_change_from_the_admin_page() {
    let app = spawn_app().await;
    let (ana, bob) = admin_and_bob(&app).await;
    app.signup("cat").await;
    let _: () = app.call_ok("admin_set_roles", &[("username", "bob"), ("roles", "tenant, landlord")], &ana).await;
    assert_eq!(app.state.store.roles_of(app.user_id("bob").await).await.unwrap(), ["landlord", "tenant"]);
    let people: Vec<serde_json::Value> = app.call_ok("directory", &[("q", "")], &bob).await;
    assert!(people.is_empty(), "bob shares no role with cat any more");
    let bad = app.call("admin_set_roles", &[("username", "bob"), ("roles", "two words!")], Some(&ana)).await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let _: () = app.call_ok("admin_set_admin", &[("username", "bob"), ("is_admin", "true")], &ana).await;
    let _: serde_json::Value = app.call_ok("admin_overview", &[], &bob).await;
    let own = app.call("admin_set_admin", &[("username", "ana"), ("is_admin", "false")], Some(&ana)).await;
    assert_eq!(own.status(), StatusCode::FORBIDDEN, "an admin cannot lock themselves out");
}

#[tokio::test]
async fn a_deleted_message_disappears_live_and_from_the_history() {
    let app = spawn_app().await;
    let (ana, bob) = admin_and_bob(&app).await;
    let mut bob_room = app.socket("public-chat", &bob).await;
    assert_eq!(next_count(&mut bob_room).await, 1);
    app.post("public-chat", &bob, "keep me").await;
    app.post("public-chat", &bob, "something awful").await;
    for _ in 0..2 {
        assert!(matches!(next_event(&mut bob_room).await, ServerEvent::Message(_)));
    }

    let page: serde_json::Value = app.call_ok("admin_room", &[("room", "public-chat")], &ana).await;
    let awful = page["messages"].as_array().unwrap().iter().find(|m| m["body"] == "something awful").unwrap();
    let seq = awful["seq"].as_i64().unwrap().to_string();
    let refused = app.call("admin_delete_message", &[("room", "public-chat"), ("seq", &seq)], Some(&bob)).await;
    assert_eq!(refused.status(), StatusCode::NOT_FOUND, "only admins delete messages");

    let _: () = app.call_ok("admin_delete_message", &[("room", "public-chat"), ("seq", &seq)], &ana).await;
    match next_event(&mut bob_room).await {
        ServerEvent::MessageDeleted { room, seq: deleted, .. } => {
            assert_eq!((room.as_str(), deleted.to_string()), ("public-chat", seq.clone()));
        }
        other => panic!("expected message_deleted, got {other:?}"),
    }
    let html = app.room_html("public-chat", &bob).await;
    assert!(html.contains("keep me") && !html.contains("something awful"));
    let again = app.call("admin_delete_message", &[("room", "public-chat"), ("seq", &seq)], Some(&ana)).await;
    assert_eq!(again.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // A page that was away when it happened still shows it: resuming from the changes it saw
    // (none) tells it, before the rest.
    let mut resumed = app.socket_after("public-chat", &bob, &format!("{seq}&since=0")).await.unwrap();
    loop {
        match next_event(&mut resumed).await {
            ServerEvent::OnlineCount { .. } => continue,
            ServerEvent::MessageDeleted { seq: deleted, .. } => {
                assert_eq!(deleted.to_string(), seq);
                break;
            }
            other => panic!("expected message_deleted first, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn an_admin_deletes_any_room_but_the_public_chat() {
    let app = spawn_app().await;
    let (ana, bob) = admin_and_bob(&app).await;
    let room = app.create_room(&bob, "Secret plans", "private").await;
    let mut bob_room = app.socket(&room, &bob).await;
    assert_eq!(next_count(&mut bob_room).await, 1);

    let page: serde_json::Value = app.call_ok("admin_room", &[("room", &room)], &ana).await;
    assert_eq!(page["room"]["kind"], "private", "admins see private rooms");
    let _: () = app.call_ok("admin_delete_room", &[("room", &room)], &ana).await;
    assert!(matches!(next_event(&mut bob_room).await, ServerEvent::RoomClosed { .. }));
    assert_eq!(app.get(&format!("/chat/room/{room}/"), Some(&bob.cookie)).await.status(), StatusCode::NOT_FOUND);

    let refused = app.call("admin_delete_room", &[("room", "public-chat")], Some(&ana)).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(refused.text().await.unwrap().contains("public chat cannot be deleted"));
}
