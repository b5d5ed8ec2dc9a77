//! Redirects any client follows: `303 See Other` with `Location`, whether or not the client
//! says it takes HTML, while the hydrated app's server-function calls keep the answer it reads.

use reqwest::header::{ACCEPT, COOKIE, LOCATION, SET_COOKIE};
use reqwest::StatusCode;

use crate::helpers::{http, spawn_app};

fn location(response: &reqwest::Response) -> String {
    response.headers().get(LOCATION).expect("a Location header").to_str().unwrap().to_owned()
}

#[tokio::test]
async fn starting_a_chat_is_a_303_for_a_client_that_does_not_ask_for_html() {
    let app = spawn_app().await;
    let ana = app.signup("ana").await;
    app.signup("bob").await;
    let response = http().get(app.url("/chat/bob/")).header(COOKIE, &ana.cookie).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let room = location(&response);
    assert!(room.starts_with("/chat/room/dm-"), "{room}");
    assert!(response.text().await.unwrap().is_empty(), "a redirect carries no page");
    // Following it lands in the chat.
    let page = app.get(&room, Some(&ana.cookie)).await;
    assert_eq!(page.status(), StatusCode::OK);
}

#[tokio::test]
async fn signed_out_pages_send_to_the_login_page_and_back() {
    let app = spawn_app().await;
    for (path, accept) in [("/", "*/*"), ("/chat/room/public-chat/", "*/*"), ("/settings", "text/html")] {
        let response = http().get(app.url(path)).header(ACCEPT, accept).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{path}");
        let login = location(&response);
        assert!(login.starts_with("/login?next="), "{path}: {login}");
        assert!(login.contains(path.trim_end_matches('/')), "{path}: {login}");
    }
}

#[tokio::test]
async fn a_plain_form_login_is_a_303_that_carries_the_new_session() {
    let app = spawn_app().await;
    app.signup("ana").await;
    let response = app
        .post_browser_form(
            "/api/login",
            &[("username", "ana"), ("password", "correct-horse"), ("next", "/rooms")],
            None,
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/rooms");
    assert!(response.headers().get_all(SET_COOKIE).iter().any(|c| c.to_str().unwrap().starts_with("chat_session=")));
}

#[tokio::test]
async fn the_hydrated_app_gets_its_answer_and_follows_the_redirect_itself() {
    let app = spawn_app().await;
    app.signup("ana").await;
    // What the WASM client sends: no `Accept: text/html`.
    let response = app
        .post_form("/api/login", &[("username", "ana"), ("password", "correct-horse"), ("next", "/rooms")], None)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(location(&response), "/rooms");
    assert!(response.headers().contains_key("serverfnredirect"));
}
