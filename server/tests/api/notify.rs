//! `notify` events: a message in a private chat, or one that mentions someone (`@username`),
//! is pushed to that person's tabs, for their pages to show when not in view.

use app::protocol::UserEvent;

use crate::helpers::*;

/// The next `notify` on a person's socket as (title, body, mention), skipping other events.
async fn next_notify(socket: &mut Socket) -> (String, String, bool) {
    loop {
        if let UserEvent::Notify { title, message, mention } = next_user_event(socket).await {
            return (title, message.body, mention);
        }
    }
}

/// Asserts no `notify` arrives (other events may).
async fn no_notify(socket: &mut Socket) {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_millis(300);
    while let Ok(event) = tokio::time::timeout_at(deadline, next_user_event(socket)).await {
        assert!(!matches!(event, UserEvent::Notify { .. }), "unexpected {event:?}");
    }
}

#[tokio::test]
async fn private_chats_and_mentions_notify_the_right_people_once() {
    let app = spawn_app().await;
    let ana = app.signup("ana").await;
    let bob = app.signup("bob").await;
    let cleo = app.signup("cleo").await;
    let dm = app.direct_room(&ana, "bob").await;
    let board = app.create_room(&ana, "Board", "private").await;
    let mut bob_tab = app.user_socket(&bob).await;
    let mut cleo_tab = app.user_socket(&cleo).await;

    app.post(&dm, &ana, "are you in?").await;
    assert_eq!(next_notify(&mut bob_tab).await, ("ana".into(), "are you in?".into(), false));
    no_notify(&mut cleo_tab).await;

    app.post("public-chat", &ana, "lunch, @Cleo and @bob? and @nobody").await;
    let lunch = ("Public chat".to_owned(), "lunch, @Cleo and @bob? and @nobody".to_owned(), true);
    assert_eq!(next_notify(&mut cleo_tab).await, lunch);
    assert_eq!(next_notify(&mut bob_tab).await, lunch);

    // Mentioned in a private chat: one notification, not two.
    app.post(&dm, &ana, "@bob see above").await;
    assert_eq!(next_notify(&mut bob_tab).await, ("ana".into(), "@bob see above".into(), false));
    no_notify(&mut bob_tab).await;

    // Mentioning yourself, or someone outside the room, notifies nobody; a plain message in
    // a group room neither.
    app.post("public-chat", &bob, "note to self @bob").await;
    no_notify(&mut bob_tab).await;
    app.post(&board, &ana, "@cleo is not in this room").await;
    app.post("public-chat", &ana, "no mention here").await;
    no_notify(&mut cleo_tab).await;
    no_notify(&mut bob_tab).await;
}
