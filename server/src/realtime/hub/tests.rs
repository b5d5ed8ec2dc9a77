//! The hub on its own: fan-out, lag, closing, presence, badges.

use super::*;
use crate::realtime::presence::Viewer;
use app::protocol::UserEvent;
use tokio::sync::broadcast;

fn text(frame: Frame) -> Utf8Bytes {
    match frame {
        Frame::Event(text) => text,
        other => panic!("expected an event, got {other:?}"),
    }
}

fn count_of(frame: &Frame) -> u32 {
    let Frame::Event(frame) = frame else { panic!("expected an event, got {frame:?}") };
    match serde_json::from_str::<ServerEvent>(frame.as_str()).unwrap() {
        ServerEvent::OnlineCount { count, .. } => count,
        other => panic!("expected an online count, got {other:?}"),
    }
}

fn viewer() -> Viewer {
    Viewer { roles: vec!["member".into()], is_admin: false }
}

#[tokio::test]
async fn online_counts_distinct_people_not_sockets() {
    let hub = Hub::new();
    let (mut ana, direct) = hub.join(1, "r", 10);
    assert!(direct.is_none());
    hub.flush();
    assert_eq!(count_of(&ana.events.recv().await.unwrap()), 1);

    // Two changes before a flush: one count, the last.
    let (_bob, _) = hub.join(1, "r", 20);
    let (cleo, _) = hub.join(1, "r", 30);
    drop(cleo);
    hub.flush();
    assert_eq!(count_of(&ana.events.recv().await.unwrap()), 2);
    assert!(ana.events.try_recv().is_err(), "one count per flush");

    // Ana's second tab: nothing broadcast, the new socket is told directly.
    let (ana_tab, direct) = hub.join(1, "r", 10);
    assert_eq!(count_of(&Frame::Event(direct.unwrap())), 2);
    drop(ana_tab);
    assert_eq!(hub.online_count(1), 2);
    assert!(ana.events.try_recv().is_err(), "no count change, no event");

    drop(_bob);
    hub.flush();
    assert_eq!(count_of(&ana.events.recv().await.unwrap()), 1);
    drop(ana);
    assert_eq!(hub.online_count(1), 0);
    assert!(hub.rooms.lock().unwrap().is_empty(), "an empty room is forgotten");
}

#[tokio::test]
async fn every_subscriber_gets_the_same_bytes() {
    let hub = Hub::new();
    let (mut a, _) = hub.join(7, "r", 1);
    let (mut b, _) = hub.join(7, "r", 2);
    while a.events.try_recv().is_ok() {}
    while b.events.try_recv().is_ok() {}
    hub.publish(7, Utf8Bytes::from_static("hello"));
    let (x, y) = (text(a.events.recv().await.unwrap()), text(b.events.recv().await.unwrap()));
    assert_eq!(x.as_str().as_ptr(), y.as_str().as_ptr(), "one allocation shared, not copied");
}

#[tokio::test]
async fn a_socket_that_does_not_read_lags_without_blocking_others() {
    let hub = Hub::new();
    let (mut slow, _) = hub.join(3, "r", 1);
    let (mut fast, _) = hub.join(3, "r", 2);
    for i in 0..(ROOM_BUFFER + 10) {
        hub.publish(3, Utf8Bytes::from(i.to_string()));
        while fast.events.try_recv().is_ok() {}
    }
    assert!(matches!(slow.events.recv().await, Err(broadcast::error::RecvError::Lagged(_))));
}

#[tokio::test]
async fn closing_a_room_for_one_person_reaches_every_socket_with_their_id() {
    let hub = Hub::new();
    let (mut ana, _) = hub.join(5, "r", 1);
    while ana.events.try_recv().is_ok() {}
    hub.close_room(5, Some(2), Utf8Bytes::from_static("bye"));
    match ana.events.recv().await.unwrap() {
        Frame::Close { user_id, event } => assert_eq!((user_id, event.as_str()), (Some(2), "bye")),
        other => panic!("expected a close, got {other:?}"),
    }
}

#[tokio::test]
async fn envelopes_from_other_instances_reach_only_the_sockets_here() {
    let hub = Hub::new();
    let (mut ana, _) = hub.join(4, "r", 1);
    while ana.events.try_recv().is_ok() {}
    let wire = r#"{"kind":"message","room_id":4,"seq":9,"author_id":2,"text":"{}"}"#;
    hub.deliver_remote(serde_json::from_str(wire).unwrap());
    match ana.events.recv().await.unwrap() {
        Frame::Message { seq, .. } => assert_eq!(seq, 9),
        other => panic!("expected a message, got {other:?}"),
    }
    // A room nobody here has open is not created by a delivery.
    hub.deliver_remote(Envelope::Room { room_id: 5, text: Text(Utf8Bytes::from_static("x")) });
    assert!(!hub.rooms.lock().unwrap().contains_key(&5));
    hub.deliver_remote(Envelope::End { user_id: 1 });
    assert!(matches!(ana.events.recv().await.unwrap(), Frame::End { user_id: 1 }));
}

#[tokio::test]
async fn a_person_channel_reaches_all_their_tabs_and_is_forgotten_after_the_last() {
    let hub = Hub::new();
    let mut tab1 = hub.subscribe_user(9, viewer());
    let mut tab2 = hub.subscribe_user(9, viewer());
    assert!(tab1.first && !tab2.first);
    hub.notify_user(9, Utf8Bytes::from_static("hi"));
    for tab in [&mut tab1, &mut tab2] {
        match tab.events.recv().await.unwrap() {
            UserFrame::Event(text) => assert_eq!(text.as_str(), "hi"),
            UserFrame::End => panic!("expected an event"),
        }
    }
    drop(tab1);
    assert!(hub.people.lock().unwrap().contains_key(&9));
    drop(tab2);
    assert!(hub.people.lock().unwrap().is_empty());
    hub.notify_user(9, Utf8Bytes::from_static("nobody listens"));
}

#[tokio::test]
async fn messages_reach_the_badges_of_members_with_the_app_open_once_per_flush() {
    let hub = Hub::new();
    let mut ana = hub.subscribe_user(1, viewer());
    let since = hub.unread_position();
    hub.load_person_unread(1, vec![Loaded { room_id: 4, room: "r".into(), count: 2, through: 10 }], since).unwrap();
    for seq in 11..=15 {
        hub.publish_message(4, seq, Some(2), Utf8Bytes::from_static("{}"));
    }
    hub.publish_message(4, 16, Some(1), Utf8Bytes::from_static("{}"));
    hub.flush();
    match ana.events.recv().await.unwrap() {
        UserFrame::Event(text) => {
            let event: UserEvent = serde_json::from_str(text.as_str()).unwrap();
            assert_eq!(event, UserEvent::Unread { room: "r".into(), count: 7 }, "her own message does not count");
        }
        UserFrame::End => panic!("expected an event"),
    }
    assert!(ana.events.try_recv().is_err(), "six messages, one badge update");
    // A deletion asks for a recount, which needs the database.
    let mut reloads = hub.take_reloads().unwrap();
    hub.recount(4);
    assert_eq!(reloads.recv().await, Some(Reload::Room(4)));
}
