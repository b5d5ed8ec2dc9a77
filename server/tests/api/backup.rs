//! `chat-server admin backup`: a copy taken while the server runs, restored on a new server.

use reqwest::StatusCode;

use crate::avatars::png;
use crate::helpers::*;

#[tokio::test]
async fn a_backup_taken_while_the_server_runs_restores_every_message_and_avatar() {
    let app = spawn_app().await;
    let place = tempfile::tempdir().unwrap();
    let folder = place.path().join("backup");
    let folder_arg = folder.to_string_lossy().into_owned();
    if app.state.store.is_postgres() {
        let (ok, said) = app.admin_cli(&["backup", &folder_arg]);
        assert!(!ok && said.contains("pg_dump"), "PostgreSQL is backed up with its own tools: {said}");
        return;
    }
    let ana = app.signup("ana").await;
    assert_eq!(app.upload(&ana, "me.png", png(64, 64)).await.status(), StatusCode::OK);
    for n in 0..25 {
        app.post("public-chat", &ana, &format!("message {n}")).await;
    }

    let (ok, said) = app.admin_cli(&["backup", &folder_arg]);
    assert!(ok, "{said}");
    assert!(said.contains("25 messages") && said.contains("1 avatars"), "{said}");
    let (ok, said) = app.admin_cli(&["backup", &folder_arg]);
    assert!(!ok && said.contains("not empty"), "a backup never overwrites another: {said}");

    // Restored: a new server on the copy has the messages, the account and the picture.
    let restored = spawn_app_with(|config| {
        config.database_url = format!("sqlite://{}", folder.join("chat.db").display());
        config.data_dir = folder.clone();
    })
    .await;
    assert_eq!(restored.stored_messages("public-chat").await, 25);
    let cookie = restored.log_in("ana", "correct-horse").await.expect("ana logs in on the restored chat");
    let page = restored.get("/chat/room/public-chat/", Some(&cookie)).await.text().await.unwrap();
    assert!(page.contains("message 24"), "the newest message shows");
    let avatar = page.split("/avatars/").nth(1).and_then(|rest| rest.split('"').next()).expect("her picture shows");
    let file = http().get(restored.url(&format!("/avatars/{avatar}"))).send().await.unwrap();
    assert_eq!(file.status(), StatusCode::OK);
}
