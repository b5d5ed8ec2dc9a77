//! "Your sessions" in settings: every browser signed in to the account, with its browser and
//! system, address, sign-in and last use; this one marked; any other one ended, with its
//! sockets closed at once.

use app::model::SessionInfo;
use reqwest::StatusCode;

use crate::helpers::*;

const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";

#[tokio::test]
async fn a_person_sees_their_sessions_and_ends_one_whose_sockets_close_at_once() {
    let app = spawn_app().await;
    let laptop = app.signup("ana").await;
    let login = http()
        .post(app.url("/api/login"))
        .header("User-Agent", FIREFOX)
        .form(&[("username", "ana"), ("password", "correct-horse")])
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::OK);
    let phone = TestUser { username: "ana".into(), cookie: session_cookie(&login).unwrap() };

    let sessions: Vec<SessionInfo> = app.call_ok("sessions", &[], &laptop).await;
    assert_eq!(sessions.len(), 2, "{sessions:?}");
    let (current, other): (Vec<_>, Vec<_>) = sessions.into_iter().partition(|s| s.current);
    let (current, other) = (&current[0], &other[0]);
    assert_eq!(other.device, "Firefox on Linux");
    assert_eq!(other.address.as_deref(), Some("127.0.0.1"));
    assert!(other.signed_in_at.ends_with('Z') && other.last_seen_at >= other.signed_in_at);
    assert_eq!(current.device, "Unknown browser", "the test client sends no user agent");
    let page = app.get("/settings", Some(&laptop.cookie)).await.text().await.unwrap();
    assert!(page.contains("Firefox on Linux") && page.contains("this browser"), "the page lists them");

    // Someone else cannot end it (it is not found for them), nor can it end itself this way.
    let bob = app.signup("bob").await;
    assert_eq!(app.call("end_session", &[("id", &other.id)], Some(&bob)).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(app.call("end_session", &[("id", &current.id)], Some(&laptop)).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.call("end_session", &[("id", "no-such")], Some(&laptop)).await.status(), StatusCode::NOT_FOUND);

    // Ended from the laptop: the phone's sockets close at once and its cookie opens nothing.
    let mut phone_room = app.socket("public-chat", &phone).await;
    let mut phone_tab = app.user_socket(&phone).await;
    let ended = app.post_browser_form("/api/end_session", &[("id", &other.id)], Some(&laptop.cookie)).await;
    assert_eq!(ended.status(), StatusCode::SEE_OTHER);
    assert_eq!(ended.headers()["location"], "/settings?changed=session");
    assert_eq!(closed_with(&mut phone_room).await, 1008);
    assert_eq!(closed_with(&mut phone_tab).await, 1008);
    assert_eq!(app.whoami(&phone.cookie).await, None);
    assert_eq!(app.whoami(&laptop.cookie).await.as_deref(), Some("ana"), "the laptop stays signed in");
    let left: Vec<SessionInfo> = app.call_ok("sessions", &[], &laptop).await;
    assert_eq!(left.len(), 1);
    assert!(left[0].current);
    let page = app.get("/settings?changed=session", Some(&laptop.cookie)).await.text().await.unwrap();
    assert!(page.contains("Session ended"));
}

#[tokio::test]
async fn signed_out_there_are_no_sessions_to_see() {
    let app = spawn_app().await;
    assert_eq!(app.call("sessions", &[], None).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.call("end_session", &[("id", "x")], None).await.status(), StatusCode::UNAUTHORIZED);
}
