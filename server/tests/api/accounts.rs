use reqwest::StatusCode;

use crate::helpers::*;

#[tokio::test]
async fn signup_starts_a_session_in_an_http_only_same_site_cookie() {
    let app = spawn_app().await;
    let response = app
        .post_form(
            "/api/signup",
            &[("username", "Ana"), ("password", "correct-horse"), ("email", "ana@example.com")],
            None,
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let set_cookie = response.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(set_cookie.contains("HttpOnly"), "{set_cookie}");
    assert!(set_cookie.contains("SameSite=Lax"), "{set_cookie}");
    let cookie = session_cookie(&response).unwrap();
    assert_eq!(app.whoami(&cookie).await.as_deref(), Some("Ana"));
}

#[tokio::test]
async fn a_username_is_taken_whatever_its_case() {
    let app = spawn_app().await;
    app.signup("ana").await;
    let response = app.post_form("/api/signup", &[("username", "ANA"), ("password", "another-pass")], None).await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert!(response.text().await.unwrap().contains("UsernameTaken"));
}

#[tokio::test]
async fn an_email_in_use_is_refused_at_signup_as_an_email_not_a_username() {
    let app = spawn_app().await;
    let first = app
        .post_form(
            "/api/signup",
            &[("username", "ana"), ("password", "correct-horse"), ("email", "ana@example.org")],
            None,
        )
        .await;
    assert_eq!(first.status(), StatusCode::OK);
    let again = app
        .post_form(
            "/api/signup",
            &[("username", "bob"), ("password", "correct-horse"), ("email", "ANA@example.org")],
            None,
        )
        .await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
    assert!(again.text().await.unwrap().contains("EmailTaken"), "the email, not the username, is what is taken");
    let bob = app.post_form("/api/login", &[("username", "bob"), ("password", "correct-horse")], None).await;
    assert_eq!(bob.status(), StatusCode::UNAUTHORIZED, "no account was made");
}

#[tokio::test]
async fn signup_explains_what_is_wrong_with_the_input() {
    let app = spawn_app().await;
    let short = app.post_form("/api/signup", &[("username", "bob"), ("password", "short")], None).await;
    assert_eq!(short.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(short.text().await.unwrap().contains("password too short"));
    let bad_name = app.post_form("/api/signup", &[("username", "b b"), ("password", "long-enough")], None).await;
    assert_eq!(bad_name.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad_name.text().await.unwrap().contains("letters, digits"));
}

#[tokio::test]
async fn a_plain_form_gets_the_error_back_on_the_form_page() {
    let app = spawn_app().await;
    app.signup("ana").await;
    let response = app
        .post_browser_form(
            "/api/signup",
            &[("username", "ana"), ("password", "correct-horse"), ("email", ""), ("next", "")],
            None,
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with("/signup?error=username_taken"), "{location}");
    let page = app.get(&location, None).await.text().await.unwrap();
    assert!(page.contains("that username is taken"), "the signup page shows the error");
}

#[tokio::test]
async fn login_with_a_wrong_password_or_unknown_user_says_the_same() {
    let app = spawn_app().await;
    app.signup("ana").await;
    let wrong = app.post_form("/api/login", &[("username", "ana"), ("password", "not-the-password")], None).await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(session_cookie(&wrong).is_none());
    let unknown = app.post_form("/api/login", &[("username", "nobody"), ("password", "not-the-password")], None).await;
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.text().await.unwrap(), unknown.text().await.unwrap());
}

#[tokio::test]
async fn login_by_username_or_email_rotates_the_session() {
    let app = spawn_app().await;
    let response = app
        .post_form(
            "/api/signup",
            &[("username", "ana"), ("password", "correct-horse"), ("email", "Ana@Example.com")],
            None,
        )
        .await;
    let first = session_cookie(&response).unwrap();

    let by_email = app
        .post_form("/api/login", &[("username", "ana@example.com"), ("password", "correct-horse")], Some(&first))
        .await;
    assert_eq!(by_email.status(), StatusCode::OK);
    let second = session_cookie(&by_email).unwrap();
    assert_ne!(first, second, "a new token at every login");
    assert_eq!(app.whoami(&first).await, None, "the session presented at login ends");
    assert_eq!(app.whoami(&second).await.as_deref(), Some("ana"));

    let by_name = app.post_form("/api/login", &[("username", "ANA"), ("password", "correct-horse")], None).await;
    assert_eq!(by_name.status(), StatusCode::OK);
}

#[tokio::test]
async fn logout_ends_the_session() {
    let app = spawn_app().await;
    let ana = app.signup("ana").await;
    let response = app.post_form("/api/logout", &[], Some(&ana.cookie)).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()["set-cookie"].to_str().unwrap().contains("Max-Age=0"));
    assert_eq!(app.whoami(&ana.cookie).await, None);
    assert_eq!(app.open_socket("public-chat", Some(&ana.cookie), None).await.unwrap_err(), StatusCode::UNAUTHORIZED);
    let page = app.get("/chat/room/public-chat/", Some(&ana.cookie)).await;
    assert_eq!(page.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn pages_that_need_a_user_send_strangers_to_login_and_back() {
    let app = spawn_app().await;
    let response = app.get("/chat/room/public-chat/", None).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()["location"], "/login?next=/chat/room/public-chat");

    let login = app
        .post_browser_form(
            "/api/signup",
            &[("username", "ana"), ("password", "correct-horse"), ("next", "/chat/room/public-chat")],
            None,
        )
        .await;
    assert_eq!(login.status(), StatusCode::SEE_OTHER);
    assert_eq!(login.headers()["location"], "/chat/room/public-chat");

    let elsewhere = app
        .post_browser_form(
            "/api/login",
            &[("username", "ana"), ("password", "correct-horse"), ("next", "//evil.example/")],
            None,
        )
        .await;
    assert_eq!(elsewhere.headers()["location"], "/", "never redirected off the site");
}

#[tokio::test]
async fn cross_site_posts_are_refused() {
    let app = spawn_app().await;
    let response = http()
        .post(app.url("/api/signup"))
        .header("Origin", "http://evil.example")
        .form(&[("username", "mallory"), ("password", "correct-horse")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(response.text().await.unwrap().contains("cross-site request refused"));
    let nobody = app.post_form("/api/login", &[("username", "mallory"), ("password", "correct-horse")], None).await;
    assert_eq!(nobody.status(), StatusCode::UNAUTHORIZED, "nothing was created");
}

#[tokio::test]
async fn bodies_over_the_limit_are_refused_with_a_clear_status() {
    let app = spawn_app().await;
    let huge = "x".repeat(100 * 1024);
    let response = app.post_form("/api/signup", &[("username", "ana"), ("password", &huge)], None).await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(response.text().await.unwrap().contains("too large"));
}

/// Whether a session cookie is still signed in (a server function that needs one answers).
async fn signed_in(app: &TestApp, cookie: &str) -> bool {
    let user = TestUser { username: String::new(), cookie: cookie.to_owned() };
    app.call("directory", &[], Some(&user)).await.status() == StatusCode::OK
}

async fn log_in(app: &TestApp, username: &str, password: &str) -> Option<String> {
    let response = app.post_form("/api/login", &[("username", username), ("password", password)], None).await;
    session_cookie(&response).filter(|_| response.status() == StatusCode::OK)
}

#[tokio::test]
async fn changing_the_password_checks_the_old_one_and_ends_every_other_session() {
    let app = spawn_app().await;
    let ana = app.signup("ana").await;
    let phone = log_in(&app, "ana", "correct-horse").await.expect("a second session");

    let wrong = app
        .call("change_password", &[("current_password", "not-it"), ("new_password", "battery-staple")], Some(&ana))
        .await;
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wrong.text().await.unwrap().contains("current password is not right"));
    let short = app
        .call("change_password", &[("current_password", "correct-horse"), ("new_password", "short")], Some(&ana))
        .await;
    assert_eq!(short.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(signed_in(&app, &phone).await, "a refused change ends nothing");

    // The phone has the app open: a room and its own channel.
    let phone_user = TestUser { username: "ana".into(), cookie: phone.clone() };
    let mut phone_room = app.socket("public-chat", &phone_user).await;
    let mut phone_tab = app.user_socket(&phone_user).await;

    let _: () = app
        .call_ok("change_password", &[("current_password", "correct-horse"), ("new_password", "battery-staple")], &ana)
        .await;
    assert!(signed_in(&app, &ana.cookie).await, "the session that changed it stays");
    assert!(!signed_in(&app, &phone).await, "the other one ended");
    // Its open sockets close at once, and cannot open again.
    assert_eq!(closed_with(&mut phone_room).await, 1008);
    assert_eq!(closed_with(&mut phone_tab).await, 1008);
    assert_eq!(app.open_socket("public-chat", Some(&phone), None).await.err(), Some(StatusCode::UNAUTHORIZED));
    assert!(app.open_socket("public-chat", Some(&ana.cookie), None).await.is_ok(), "this device reconnects");
    assert!(log_in(&app, "ana", "correct-horse").await.is_none());
    assert!(log_in(&app, "ana", "battery-staple").await.is_some());
}

#[tokio::test]
async fn signing_out_everywhere_ends_every_session_and_sends_a_browser_to_the_login() {
    let app = spawn_app().await;
    let ana = app.signup("ana").await;
    let phone = log_in(&app, "ana", "correct-horse").await.unwrap();
    let bob = app.signup("bob").await;

    let response = app.post_browser_form("/api/sign_out_everywhere", &[], Some(&ana.cookie)).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()["location"], "/login");
    let cleared = session_cookie(&response).expect("the cookie is cleared");
    assert!(cleared == "chat_session=" || cleared.starts_with("chat_session=;"), "{cleared}");
    assert!(!signed_in(&app, &ana.cookie).await);
    assert!(!signed_in(&app, &phone).await);
    assert!(signed_in(&app, &bob.cookie).await, "nobody else is affected");
}

#[tokio::test]
async fn changing_the_email_asks_for_the_password_and_keeps_emails_unique() {
    let app = spawn_app().await;
    let ana = app.signup("ana").await;
    let bob = app.signup("bob").await;
    let _: () =
        app.call_ok("change_email", &[("email", "bob@example.org"), ("current_password", "correct-horse")], &bob).await;

    let wrong =
        app.call("change_email", &[("email", "ana@example.org"), ("current_password", "nope")], Some(&ana)).await;
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let taken = app
        .call("change_email", &[("email", "BOB@example.org"), ("current_password", "correct-horse")], Some(&ana))
        .await;
    assert_eq!(taken.status(), StatusCode::CONFLICT, "emails are unique, ignoring case");
    let malformed =
        app.call("change_email", &[("email", "not-an-email"), ("current_password", "correct-horse")], Some(&ana)).await;
    assert_eq!(malformed.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let _: () =
        app.call_ok("change_email", &[("email", "ana@example.org"), ("current_password", "correct-horse")], &ana).await;
    // The new email logs in.
    let login =
        app.post_form("/api/login", &[("username", "ana@example.org"), ("password", "correct-horse")], None).await;
    assert_eq!(login.status(), StatusCode::OK);
}

#[tokio::test]
async fn deleting_the_account_asks_the_password_ends_everything_and_keeps_messages_as_deleted_user() {
    let app = spawn_app().await;
    let ana = app.signup("ana").await;
    let bob = app.signup("bob").await;
    let phone = log_in(&app, "ana", "correct-horse").await.unwrap();
    let chat = app.direct_room(&bob, "ana").await;
    app.post("public-chat", &ana, "hello from ana").await;
    app.post(&chat, &ana, "a private hello").await;
    let phone_user = TestUser { username: "ana".into(), cookie: phone.clone() };
    let mut phone_room = app.socket("public-chat", &phone_user).await;
    let mut phone_tab = app.user_socket(&phone_user).await;
    let mut bob_tab = app.user_socket(&bob).await;

    let wrong = app.call("delete_account", &[("current_password", "not-it")], Some(&ana)).await;
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wrong.text().await.unwrap().contains("nothing was changed"));
    assert!(signed_in(&app, &phone).await, "a refused deletion ends nothing");

    let deleted = app.call("delete_account", &[("current_password", "correct-horse")], Some(&ana)).await;
    assert_eq!(deleted.status(), StatusCode::OK);
    assert!(deleted.headers()["set-cookie"].to_str().unwrap().contains("Max-Age=0"), "the cookie is cleared");
    assert!(!signed_in(&app, &ana.cookie).await);
    assert!(!signed_in(&app, &phone).await);
    assert_eq!(closed_with(&mut phone_room).await, 1008, "open sockets close at once");
    assert_eq!(closed_with(&mut phone_tab).await, 1008);
    assert!(log_in(&app, "ana", "correct-horse").await.is_none());
    // Bob sees her go offline (maybe after seeing her come online: her phone's tab and his
    // opened within one gathering of presence changes).
    loop {
        let event = next_user_event(&mut bob_tab).await;
        match presence_of(&event, "ana") {
            Some(false) => break,
            Some(true) => continue,
            None => panic!("bob should see ana go offline, got {event:?}"),
        }
    }

    // The messages stay, from "deleted user", in the public chat and in Bob's private chat.
    let page: serde_json::Value = app.call_ok("room", &[("name", "public-chat")], &bob).await;
    let message = page["messages"].as_array().unwrap().iter().find(|m| m["body"] == "hello from ana").unwrap();
    assert_eq!(message["author"]["display_name"], "deleted user");
    assert_eq!(message["author"]["username"], "");
    let html = app.room_html(&chat, &bob).await;
    assert!(html.contains("a private hello") && html.contains("deleted user"), "{html}");
    // Bob's directory no longer lists her, and the name is free again.
    let people: Vec<serde_json::Value> = app.call_ok("directory", &[("q", "")], &bob).await;
    assert!(people.is_empty());
    app.signup("ana").await;
}
