//! Limits on what a stranger repeats: password guesses per account and per address, sign-ups
//! per address, rooms made and avatars uploaded per person, sockets per person, read frames.
//! Over a limit the answer is `429` with `Retry-After` and a sentence that says how long to
//! wait, and nothing is done (no session, no account, no room, no avatar); reads that come too
//! fast are applied late, not lost. (Messages: `slow_down.rs`-like tests in `room_socket.rs`.)

use std::collections::HashMap;
use std::time::Duration;

use app::model::RoomSummary;
use app::protocol::UserEvent;
use reqwest::StatusCode;

use crate::helpers::*;

async fn login(app: &TestApp, username: &str, password: &str) -> reqwest::Response {
    app.post_form("/api/login", &[("username", username), ("password", password)], None).await
}

#[tokio::test]
async fn password_guesses_make_the_account_wait_even_for_the_right_password() {
    let app = spawn_app().await;
    app.signup("ana").await;
    for _ in 0..5 {
        assert_eq!(login(&app, "ana", "guess").await.status(), StatusCode::UNAUTHORIZED);
    }
    // The sixth wrong one is still checked, and starts the wait.
    let sixth = login(&app, "ANA", "guess").await;
    assert_eq!(sixth.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(sixth.headers()["retry-after"], "1");
    let right = login(&app, "ana", "correct-horse").await;
    assert_eq!(right.status(), StatusCode::TOO_MANY_REQUESTS, "a right password during the wait is refused too");
    assert!(right.headers().contains_key("retry-after"));
    assert!(right.text().await.unwrap().contains("TooManyAttempts"));
    assert!(app.log_in("ana", "correct-horse").await.is_err(), "no session was made");

    // The waits grow: once this one is over, the next wrong guess makes her wait two seconds,
    // so a second later she still waits.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let seventh = login(&app, "ana", "guess").await;
    assert_eq!(seventh.status(), StatusCode::TOO_MANY_REQUESTS);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(login(&app, "ana", "correct-horse").await.status(), StatusCode::TOO_MANY_REQUESTS);

    // An operator lets her in at once; a right password then forgives the count.
    let (ok, said) = app.admin_cli(&["clear-limits", "ana"]);
    assert!(ok && said.contains("may try again"), "{said}");
    assert!(app.log_in("ana", "correct-horse").await.is_ok());
    assert_eq!(login(&app, "ana", "guess").await.status(), StatusCode::UNAUTHORIZED, "the count started over");
}

#[tokio::test]
async fn a_plain_form_shows_how_long_to_wait() {
    let app = spawn_app_with(|config| config.limits.login_failures_per_account = 1).await;
    app.signup("ana").await;
    login(&app, "ana", "guess").await;
    let form = app.post_browser_form("/api/login", &[("username", "ana"), ("password", "guess")], None).await;
    assert_eq!(form.status(), StatusCode::SEE_OTHER);
    let back = form.headers()["location"].to_str().unwrap().to_owned();
    assert!(back.starts_with("/login?error=too_many_attempts&detail=1"), "{back}");
    let page = app.get(&back, None).await.text().await.unwrap();
    assert!(page.contains("too many attempts: wait a second and try again"), "the login page says it");
}

#[tokio::test]
async fn guesses_from_one_address_across_accounts_make_that_address_wait() {
    let app = spawn_app_with(|config| config.limits.login_failures_per_address = 3).await;
    app.signup("ana").await;
    for name in ["bob", "cleo", "dan"] {
        let status = login(&app, name, "guess").await.status();
        assert!(status == StatusCode::UNAUTHORIZED || status == StatusCode::TOO_MANY_REQUESTS);
    }
    let fourth = login(&app, "eve", "guess").await;
    assert_eq!(fourth.status(), StatusCode::TOO_MANY_REQUESTS, "unknown usernames count too");
    assert_eq!(login(&app, "ana", "correct-horse").await.status(), StatusCode::TOO_MANY_REQUESTS);
    let (ok, said) = app.admin_cli(&["clear-limits", "127.0.0.1"]);
    assert!(ok, "{said}");
    assert!(app.log_in("ana", "correct-horse").await.is_ok());
}

#[tokio::test]
async fn sign_ups_from_one_address_are_limited() {
    let app = spawn_app_with(|config| config.limits.signups_per_address = 2).await;
    app.signup("ana").await;
    app.signup("bob").await;
    let third = app.post_form("/api/signup", &[("username", "cleo"), ("password", "correct-horse")], None).await;
    assert_eq!(third.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(third.headers().contains_key("retry-after"));
    assert!(app.log_in("cleo", "correct-horse").await.is_err(), "no account was made");
}

#[tokio::test]
async fn rooms_one_person_makes_are_limited() {
    let app = spawn_app_with(|config| config.limits.rooms_per_hour = 2).await;
    let ana = app.signup("ana").await;
    app.create_room(&ana, "Garden club", "public").await;
    app.create_room(&ana, "Book club", "private").await;
    let third = app.call("create_room", &[("title", "Chess club"), ("visibility", "public")], Some(&ana)).await;
    assert_eq!(third.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(third.headers().contains_key("retry-after"));
    assert!(third.text().await.unwrap().contains("TooManyAttempts"));
    let rooms: Vec<RoomSummary> = app.call_ok("my_rooms", &[], &ana).await;
    assert_eq!(rooms.len(), 3, "the public chat and two rooms, no third: {rooms:?}");
    let bob = app.signup("bob").await;
    app.create_room(&bob, "Chess club", "public").await;
}

#[tokio::test]
async fn avatar_uploads_are_limited_and_the_old_avatar_stays() {
    let app = spawn_app_with(|config| config.limits.avatars_per_hour = 1).await;
    let ana = app.signup("ana").await;
    let first = app.upload(&ana, "me.png", crate::avatars::png(64, 64)).await;
    assert_eq!(first.status(), StatusCode::OK);
    let kept: serde_json::Value = first.json().await.unwrap();
    let second = app.upload(&ana, "me.png", crate::avatars::png(32, 32)).await;
    assert_eq!(second.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(second.headers().contains_key("retry-after"));
    assert!(second.text().await.unwrap().starts_with("too many attempts: wait"));
    let profile: serde_json::Value = app.call_ok("profile", &[("username", "ana")], &ana).await;
    assert_eq!(profile["person"]["avatar"], kept["avatar"], "the first avatar is still hers");
}

#[tokio::test]
async fn one_person_holds_so_many_sockets_and_a_closed_one_frees_its_place() {
    let app = spawn_app_with(|config| config.limits.sockets_per_person = 2).await;
    let ana = app.signup("ana").await;
    let mut room = app.socket("public-chat", &ana).await;
    let _tab = app.user_socket(&ana).await;
    let refused = app.open_socket("public-chat", Some(&ana.cookie), None).await.err();
    assert_eq!(refused, Some(StatusCode::TOO_MANY_REQUESTS), "a third socket, of either kind, is refused");
    let bob = app.signup("bob").await;
    let _bobs = app.socket("public-chat", &bob).await;
    room.close(None).await.unwrap();
    drop(room);
    // The server notices the close a moment later.
    for attempt in 0.. {
        match app.open_socket("public-chat", Some(&ana.cookie), None).await {
            Ok(_) => break,
            Err(StatusCode::TOO_MANY_REQUESTS) if attempt < 50 => tokio::time::sleep(Duration::from_millis(50)).await,
            Err(other) => panic!("a place should have come free, got {other}"),
        }
    }
}

#[tokio::test]
async fn reads_faster_than_allowed_are_applied_late_not_lost() {
    let app = spawn_app_with(|config| config.limits.frames_per_second = 2).await;
    let (ana, bob) = (app.signup("ana").await, app.signup("bob").await);
    for n in 1..=20 {
        app.post("public-chat", &ana, &format!("message {n}")).await;
    }
    let mut tab = app.user_socket(&bob).await;
    let mut page = app.socket("public-chat", &bob).await;
    // Twenty reads at once: six pass at once (the burst), the rest are spaced out.
    for seq in 1..=20 {
        send_text(&mut page, &format!(r#"{{"type":"read","seq":{seq}}}"#)).await;
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let event = tokio::time::timeout_at(deadline, next_user_event(&mut tab)).await.expect("the last read arrives");
        if let UserEvent::Unread { room, count: 0 } = event {
            assert_eq!(room, "public-chat");
            break;
        }
    }
    let rooms: Vec<RoomSummary> = app.call_ok("my_rooms", &[], &bob).await;
    let unread: HashMap<_, _> = rooms.into_iter().map(|r| (r.name, r.unread)).collect();
    assert_eq!(unread["public-chat"], 0, "the last read counted");
    send_text(&mut page, r#"{"type":"ping"}"#).await;
    loop {
        if matches!(next_event(&mut page).await, app::protocol::ServerEvent::Pong) {
            break;
        }
    }
}
