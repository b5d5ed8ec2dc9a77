//! Limits on what a stranger repeats: password guesses per account and per address, sign-ups
//! per address. Over a limit the answer is `429` with `Retry-After` and a sentence that says
//! how long to wait, and nothing is done (no session, no account).

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
