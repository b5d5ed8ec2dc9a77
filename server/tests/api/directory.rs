//! The directory: people see the people who share one of their roles (admins see everyone),
//! and search by username, display name or role, as a server function and as a plain GET.

use app::model::Person;
use reqwest::StatusCode;

use crate::helpers::*;

async fn directory(app: &TestApp, user: &TestUser, q: &str) -> Vec<String> {
    let people: Vec<Person> = app.call_ok("directory", &[("q", q)], user).await;
    people.into_iter().map(|p| p.username).collect()
}

#[tokio::test]
async fn people_see_those_who_share_a_role_and_admins_see_everyone() {
    let app = spawn_app().await;
    let ana = app.signup_with_roles("ana", &["tenant"]).await;
    let bob = app.signup_with_roles("bob", &["tenant", "landlord"]).await;
    let cleo = app.signup_with_roles("cleo", &["landlord"]).await;
    let dan = app.signup("dan").await; // the default role, "member"
    let eve = app.signup_with_roles("eve", &["staff"]).await;
    app.state.store.set_admin(app.user_id("eve").await, true).await.unwrap();

    assert_eq!(directory(&app, &ana, "").await, ["bob"]);
    assert_eq!(directory(&app, &bob, "").await, ["ana", "cleo"]);
    assert_eq!(directory(&app, &cleo, "").await, ["bob"]);
    assert!(directory(&app, &dan, "").await.is_empty(), "nobody else has the default role");
    assert_eq!(directory(&app, &eve, "").await, ["ana", "bob", "cleo", "dan"]);

    // Roles come back with each person.
    let people: Vec<Person> = app.call_ok("directory", &[("q", "")], &ana).await;
    assert_eq!(people[0].roles, ["landlord", "tenant"]);

    // Someone outside your roles cannot be reached by URL either.
    assert_eq!(app.start_chat(&ana, "cleo").await.0, StatusCode::NOT_FOUND);
    assert_eq!(app.start_chat(&eve, "cleo").await.0, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn search_matches_username_display_name_and_role() {
    let app = spawn_app().await;
    let admin = app.signup_with_roles("admin", &["staff"]).await;
    app.state.store.set_admin(app.user_id("admin").await, true).await.unwrap();
    app.signup_with_roles("ana", &["tenant"]).await;
    app.signup_with_roles("bob", &["landlord"]).await;
    app.signup_with_roles("cleo", &["tenant"]).await;
    app.state.store.set_display_name(app.user_id("cleo").await, Some("Cleo Bobbins")).await.unwrap();

    assert_eq!(directory(&app, &admin, "bob").await, ["bob", "cleo"], "username and display name");
    assert_eq!(directory(&app, &admin, "LAND").await, ["bob"], "role, ignoring case");
    assert_eq!(directory(&app, &admin, "tenant").await, ["ana", "cleo"]);
    assert!(directory(&app, &admin, "%").await.is_empty(), "wildcards match themselves");
    assert!(directory(&app, &admin, "zzz").await.is_empty());

    // Without JavaScript: a GET form with ?q=, answered by the server-rendered page.
    let page = app.get("/profiles/?q=tenant", Some(&admin.cookie)).await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("data-username=\"ana\"") && html.contains("data-username=\"cleo\""), "matches listed");
    assert!(!html.contains("data-username=\"bob\""), "others not");
    assert!(html.contains("href=\"/chat/ana/\""), "each person has a link that starts a chat");
}

#[tokio::test]
async fn the_directory_needs_a_session() {
    let app = spawn_app().await;
    assert_eq!(app.call("directory", &[("q", "")], None).await.status(), StatusCode::UNAUTHORIZED);
    let page = app.get("/profiles/", None).await;
    assert_eq!(page.status(), StatusCode::SEE_OTHER);
    assert!(page.headers()["location"].to_str().unwrap().starts_with("/login"));
}

#[tokio::test]
async fn the_admin_command_sets_roles_and_the_admin_flag() {
    let app = spawn_app().await;
    let ana = app.signup("ana").await;
    app.signup("bob").await;
    assert_eq!(directory(&app, &ana, "").await, ["bob"], "both have the default role");

    let (ok, said) = app.admin_cli(&["set-roles", "ana", "Tenant", "landlord"]);
    assert!(ok, "{said}");
    assert_eq!(said, "ana now has the roles: landlord, tenant");
    assert!(directory(&app, &ana, "").await.is_empty(), "bob shares no role with ana any more");

    let (ok, said) = app.admin_cli(&["grant-admin", "ana"]);
    assert!(ok, "{said}");
    assert_eq!(directory(&app, &ana, "").await, ["bob"], "an admin sees everyone");
    assert!(app.admin_cli(&["revoke-admin", "ana"]).0);
    assert!(directory(&app, &ana, "").await.is_empty());

    let (ok, said) = app.admin_cli(&["list-users"]);
    assert!(ok, "{said}");
    let lines: Vec<&str> = said.lines().collect();
    assert!(lines[0].starts_with("USERNAME"), "{said}");
    let ana_line: Vec<&str> = lines[1].split_whitespace().collect();
    assert_eq!((ana_line[0], ana_line[3], ana_line[4]), ("ana", "landlord,tenant", "no"), "{said}");
    assert!(lines[2].starts_with("bob "), "{said}");
    assert_eq!(lines.last(), Some(&"2 people"));

    let (ok, said) = app.admin_cli(&["set-roles", "nobody", "tenant"]);
    assert!(!ok);
    assert!(said.contains("no account is called \"nobody\""), "{said}");
    let (ok, said) = app.admin_cli(&["set-roles", "ana", "two words"]);
    assert!(!ok);
    assert!(said.contains("roles are single words"), "{said}");
    let (ok, _) = app.admin_cli(&["set-roles", "ana"]);
    assert!(!ok, "at least one role is required");
}
