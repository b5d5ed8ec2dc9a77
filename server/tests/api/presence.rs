//! Who is online: a person is online while they have the app open anywhere (a `/ws/chat/`
//! socket); the people who may see them hear when that changes, and lists say it.

use app::model::Person;

use crate::helpers::*;

async fn online_in_directory(app: &TestApp, viewer: &TestUser, username: &str) -> bool {
    let people: Vec<Person> = app.call_ok("directory", &[("q", username)], viewer).await;
    people.iter().find(|p| p.username == username).expect("in the directory").online
}

/// Skips one event telling that `username` came online, if it is the next one.
async fn skip_presence_of(socket: &mut Socket, username: &str) {
    use futures_util::StreamExt;
    let next = tokio::time::timeout(std::time::Duration::from_millis(300), socket.next()).await;
    if let Ok(Some(Ok(tokio_tungstenite::tungstenite::Message::Text(text)))) = next {
        let event: app::protocol::UserEvent = serde_json::from_str(&text).unwrap();
        assert_eq!(event, presence(username, true));
    }
}

#[tokio::test]
async fn the_people_who_may_see_someone_hear_them_come_and_go_once_across_tabs() {
    let app = spawn_app().await;
    let ana = app.signup("ana").await;
    let bob = app.signup("bob").await;
    let cleo = app.signup_with_roles("cleo", &["tenant"]).await; // shares no role with bob
    let dan = app.signup_with_roles("dan", &["tenant"]).await;
    app.state.store.set_admin(app.user_id("dan").await, true).await.unwrap(); // sees everyone

    let mut cleo_tab = app.user_socket(&cleo).await;
    let mut dan_tab = app.user_socket(&dan).await;
    assert_eq!(next_user_event(&mut cleo_tab).await, presence("dan", true), "dan shares cleo's role");
    // (Dan may hear of Cleo too: her arrival and his fall in one gathering of changes.)
    skip_presence_of(&mut dan_tab, "cleo").await;
    let mut ana_tab = app.user_socket(&ana).await;
    assert_eq!(next_user_event(&mut dan_tab).await, presence("ana", true));
    assert!(!online_in_directory(&app, &ana, "bob").await);

    // Bob opens the app: Ana (same role) and Dan (admin) hear it; Cleo does not.
    let mut bob_tab = app.user_socket(&bob).await;
    assert_eq!(next_user_event(&mut ana_tab).await, presence("bob", true));
    assert_eq!(next_user_event(&mut dan_tab).await, presence("bob", true));
    assert_quiet(&mut cleo_tab).await;
    assert!(online_in_directory(&app, &ana, "bob").await);

    // A second tab, and closing one of the two, change nothing.
    let mut bob_second = app.user_socket(&bob).await;
    assert_quiet(&mut ana_tab).await;
    bob_second.close(None).await.unwrap();
    assert_quiet(&mut ana_tab).await;
    assert!(online_in_directory(&app, &ana, "bob").await);

    // Closing the last one takes him offline at once.
    bob_tab.close(None).await.unwrap();
    assert_eq!(next_user_event(&mut ana_tab).await, presence("bob", false));
    assert_eq!(next_user_event(&mut dan_tab).await, presence("bob", false));
    assert_quiet(&mut cleo_tab).await;
    assert!(!online_in_directory(&app, &ana, "bob").await);
}

#[tokio::test]
async fn a_private_chat_and_the_sidebar_say_whether_the_other_person_is_online() {
    let app = spawn_app().await;
    let ana = app.signup("ana").await;
    let bob = app.signup("bob").await;
    let room = app.direct_room(&ana, "bob").await;
    let rooms: Vec<app::model::RoomSummary> = app.call_ok("my_rooms", &[], &ana).await;
    let chat = rooms.iter().find(|r| r.name == room).unwrap();
    assert!(!chat.other.as_ref().unwrap().online);

    let _bob_tab = app.user_socket(&bob).await;
    let rooms: Vec<app::model::RoomSummary> = app.call_ok("my_rooms", &[], &ana).await;
    assert!(rooms.iter().find(|r| r.name == room).unwrap().other.as_ref().unwrap().online);
    let page: app::model::RoomPage = app.call_ok("room", &[("name", &room)], &ana).await;
    assert!(page.room.other.unwrap().online, "the chat's header shows Bob online");
}
