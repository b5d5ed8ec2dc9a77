//! Profiles: `/@<username>` for the people who may see that person in the directory (404 for
//! everyone else, exactly as for nobody), and editing your own display name and bio.

use app::model::{Person, Profile};
use reqwest::StatusCode;

use crate::helpers::*;

#[tokio::test]
async fn a_profile_is_seen_by_those_who_share_a_role_and_by_its_owner_only() {
    let app = spawn_app().await;
    let ana = app.signup_with_roles("ana", &["tenant"]).await;
    let bob = app.signup_with_roles("bob", &["tenant", "landlord"]).await;
    let cleo = app.signup_with_roles("cleo", &["landlord"]).await;

    let seen: Profile = app.call_ok("profile", &[("username", "bob")], &ana).await;
    assert_eq!((seen.person.username.as_str(), seen.is_me), ("bob", false));
    assert_eq!(seen.person.roles, ["landlord", "tenant"]);
    assert_eq!(seen.member_since.len(), 24, "{}", seen.member_since);
    let mine: Profile = app.call_ok("profile", &[("username", "ANA")], &ana).await;
    assert!(mine.is_me);

    // Cleo shares no role with Ana: her profile is exactly as missing as nobody's.
    for username in ["cleo", "nobody"] {
        let hidden = app.call("profile", &[("username", username)], Some(&ana)).await;
        assert_eq!(hidden.status(), StatusCode::NOT_FOUND, "{username}");
        assert_eq!(app.get(&format!("/@{username}"), Some(&ana.cookie)).await.status(), StatusCode::NOT_FOUND);
    }
    let page = app.get("/@bob", Some(&cleo.cookie)).await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = markup(&page.text().await.unwrap());
    assert!(
        html.contains(r#"data-testid="profile""#) && html.contains("<h1>bob</h1>"),
        "the profile is server-rendered"
    );
    assert!(html.contains(r#"href="/chat/bob/""#), "with a Message button");

    // Signed out: the function says 401 and the page sends to the login.
    assert_eq!(app.call("profile", &[("username", "bob")], None).await.status(), StatusCode::UNAUTHORIZED);
    let page = app.get("/@bob", None).await;
    assert!(page.status().is_redirection() || page.text().await.unwrap().contains("/login"));
    // Other single segments are not profiles.
    assert_eq!(app.get("/bob", Some(&bob.cookie)).await.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn people_set_their_display_name_and_bio_and_everyone_sees_them() {
    let app = spawn_app().await;
    let ana = app.signup("ana").await;
    let bob = app.signup("bob").await;

    let _: () = app.call_ok("update_profile", &[("display_name", "  Ana   María "), ("bio", "Flat 4B. ")], &ana).await;
    let profile: Profile = app.call_ok("profile", &[("username", "ana")], &bob).await;
    assert_eq!((profile.person.display_name.as_str(), profile.bio.as_str()), ("Ana María", "Flat 4B."));
    let people: Vec<Person> = app.call_ok("directory", &[("q", "maría")], &bob).await;
    assert_eq!(people.len(), 1, "the directory finds her by her display name");

    // Too long is refused with the limit, and nothing changes.
    let refused = app.call("update_profile", &[("display_name", &"x".repeat(21)), ("bio", "")], Some(&ana)).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.text().await.unwrap().contains("at most 20 characters"));
    let refused = app.call("update_profile", &[("display_name", "Ana"), ("bio", &"y".repeat(301))], Some(&ana)).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let profile: Profile = app.call_ok("profile", &[("username", "ana")], &ana).await;
    assert_eq!(profile.person.display_name, "Ana María");

    // Empty goes back to the username.
    let _: () = app.call_ok("update_profile", &[("display_name", ""), ("bio", "")], &ana).await;
    let profile: Profile = app.call_ok("profile", &[("username", "ana")], &ana).await;
    assert_eq!((profile.person.display_name.as_str(), profile.bio.as_str()), ("ana", ""));
}

#[tokio::test]
async fn signing_up_in_a_browser_leads_to_the_welcome_page_whose_form_goes_on_to_the_directory() {
    let app = spawn_app().await;
    let response =
        app.post_browser_form("/api/signup", &[("username", "ana"), ("password", "correct-horse")], None).await;
    assert_eq!(response.headers()["location"], "/welcome");
    let cookie = session_cookie(&response).unwrap();
    let page = app.get("/welcome", Some(&cookie)).await.text().await.unwrap();
    assert!(page.contains(r#"name="display_name""#) && page.contains("Skip for now"));

    let saved = app
        .post_browser_form(
            "/api/update_profile",
            &[("display_name", "Ana"), ("bio", "hi"), ("next", "/")],
            Some(&cookie),
        )
        .await;
    assert_eq!(saved.headers()["location"], "/");
    let refused = app
        .post_browser_form(
            "/api/update_profile",
            &[("display_name", &"x".repeat(21)), ("bio", ""), ("next", "/")],
            Some(&cookie),
        )
        .await;
    let location = refused.headers()["location"].to_str().unwrap();
    assert!(location.starts_with("/welcome?error=invalid"), "back to the form with the reason: {location}");
    let ana = TestUser { username: "ana".into(), cookie };
    let profile: app::model::Profile = app.call_ok("profile", &[("username", "ana")], &ana).await;
    assert_eq!((profile.person.display_name.as_str(), profile.bio.as_str()), ("Ana", "hi"));
}
