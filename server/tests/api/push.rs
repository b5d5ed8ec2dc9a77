//! Web Push: private messages and mentions reach the browsers of a person with no tab open,
//! through a push service (here, one of the test's own), encrypted for each browser; one push
//! per message per browser; a subscription the service says is gone is forgotten.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::*;

const CONTACT: &str = "mailto:ops@example.org";

async fn app_pushing_to(service: &PushService) -> TestApp {
    let origin = service.origin.clone();
    spawn_app_with(move |config| config.push_services = vec![origin]).await
}

/// Turns pushes on for `device` in the browser signed in as `user`.
async fn subscribe(app: &TestApp, user: &TestUser, device: &Device, service: &PushService) {
    let _: () = app.call_ok("push_subscribe", &[("subscription", &device.subscription(service))], user).await;
}

/// Ana, and Bob with pushes on in two browsers (his laptop and his phone, each a session of
/// its own), and their private chat.
struct TwoBrowsers {
    service: PushService,
    app: TestApp,
    ana: TestUser,
    bob: TestUser,
    laptop: Device,
    phone: Device,
    dm: String,
}

async fn bob_on_two_browsers() -> TwoBrowsers {
    let service = PushService::start().await;
    let app = app_pushing_to(&service).await;
    let ana = app.signup("ana").await;
    let bob = app.signup("bob").await;
    let phone_session = app.log_in("bob", "correct-horse").await.unwrap();
    let bob_phone = TestUser { username: "bob".into(), cookie: phone_session };
    let (laptop, phone) = (Device::new("laptop"), Device::new("phone"));
    subscribe(&app, &bob, &laptop, &service).await;
    subscribe(&app, &bob_phone, &phone, &service).await;
    let dm = app.direct_room(&ana, "bob").await;
    TwoBrowsers { service, app, ana, bob, laptop, phone, dm }
}

/// The pushes `device` got among `pushes`, decrypted with its keys.
fn notices_of(device: &Device, pushes: &[Received]) -> Vec<Value> {
    pushes.iter().filter(|p| p.device == device.name).map(|p| device.decrypt(&p.body)).collect()
}

#[tokio::test]
async fn a_private_message_or_a_mention_reaches_each_browser_once_encrypted_and_signed() {
    let TwoBrowsers { service, app, ana, bob, laptop, phone, dm } = bob_on_two_browsers().await;
    let cleo = app.signup("cleo").await;
    let key: String = app.call_ok("push_key", &[], &bob).await;

    app.post(&dm, &ana, "are you in?").await;
    let pushes = service.wait_for(2).await;
    assert_eq!(pushes.len(), 2, "one push per browser");
    for device in [&laptop, &phone] {
        let notices = notices_of(device, &pushes);
        assert_eq!(notices.len(), 1, "{} got one", device.name);
        assert_eq!(notices[0]["title"], "ana");
        assert_eq!(notices[0]["body"], "are you in?");
        assert_eq!(notices[0]["url"], format!("/chat/room/{dm}/#m1"));
        assert_eq!(notices[0]["tag"], dm.as_str());
    }
    for push in &pushes {
        assert_signed(push, &service, &key, CONTACT);
    }

    // A mention in a group room: one push per browser, saying who mentioned him, and where.
    app.post("public-chat", &ana, "lunch, @bob?").await;
    let pushes = service.wait_for(4).await;
    assert_eq!(pushes.len(), 4);
    let mention = notices_of(&laptop, &pushes[2..]);
    assert_eq!(mention[0]["title"], "Public chat");
    assert_eq!(mention[0]["body"], "ana mentioned you: lunch, @bob?");

    // Nothing for a plain message in a group room, for someone else's chat, or for Cleo, who
    // never turned pushes on.
    app.post("public-chat", &ana, "no mention here").await;
    app.post("public-chat", &ana, "@cleo and you?").await;
    let cleo_dm = app.direct_room(&cleo, "ana").await;
    app.post(&cleo_dm, &cleo, "hello ana").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(service.received().len(), 4, "no other pushes");
}

#[tokio::test]
async fn a_person_with_a_tab_open_gets_no_push_their_tab_tells_them() {
    let service = PushService::start().await;
    let app = app_pushing_to(&service).await;
    let ana = app.signup("ana").await;
    let bob = app.signup("bob").await;
    let laptop = Device::new("laptop");
    subscribe(&app, &bob, &laptop, &service).await;
    let dm = app.direct_room(&ana, "bob").await;

    let mut tab = app.user_socket(&bob).await;
    app.post(&dm, &ana, "you there?").await;
    loop {
        if let app::protocol::UserEvent::Notify { message, .. } = next_user_event(&mut tab).await {
            assert_eq!(message.body, "you there?");
            break;
        }
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(service.received().is_empty(), "the open tab shows it: no push");

    // Tab closed: the next one is pushed.
    drop(tab);
    let bob_id = app.user_id("bob").await;
    while app.state.hub.is_connected_here(bob_id) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    app.post(&dm, &ana, "call me").await;
    let pushes = service.wait_for(1).await;
    assert_eq!(notices_of(&laptop, &pushes)[0]["body"], "call me");
}

#[tokio::test]
async fn a_subscription_its_service_says_is_gone_is_forgotten_and_signing_out_stops_pushes() {
    let TwoBrowsers { service, app, ana, bob, laptop, phone: _, dm } = bob_on_two_browsers().await;
    let bob_id = app.user_id("bob").await;

    // The phone's subscription expired at its push service: 410, and the chat forgets it.
    service.expire("phone");
    app.post(&dm, &ana, "one").await;
    assert_eq!(service.wait_for(2).await.len(), 2);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while app.state.store.push_subscriptions_of(&[bob_id]).await.unwrap().len() != 1 {
        assert!(tokio::time::Instant::now() < deadline, "the gone subscription is forgotten");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    app.post(&dm, &ana, "two").await;
    let pushes = service.wait_for(3).await;
    assert_eq!(pushes.len(), 3, "nothing more to the phone");
    assert_eq!(notices_of(&laptop, &pushes[2..])[0]["body"], "two");

    // Signing out on the laptop ends its pushes too.
    let response = app.post_form("/api/logout", &[], Some(&bob.cookie)).await;
    assert!(response.status().is_success() || response.status().is_redirection());
    app.post(&dm, &ana, "three").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(service.received().len(), 3, "signed out: no push");
}

#[tokio::test]
async fn turning_pushes_off_stops_them_and_bad_subscriptions_are_refused_with_what_to_do() {
    let service = PushService::start().await;
    let app = app_pushing_to(&service).await;
    let ana = app.signup("ana").await;
    let bob = app.signup("bob").await;
    let laptop = Device::new("laptop");
    let dm = app.direct_room(&ana, "bob").await;

    // Not signed in: nothing is kept.
    let response = app.call("push_subscribe", &[("subscription", &laptop.subscription(&service))], None).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    // A push service this chat does not send to (here, the Redis port): refused, and said why.
    let inside = laptop.subscription(&service).replace(&service.origin, "http://127.0.0.1:6379");
    let response = app.call("push_subscribe", &[("subscription", &inside)], Some(&bob)).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(response.text().await.unwrap().contains("PUSH_SERVICES"));
    // A key that is not a P-256 point, or no JSON at all.
    let bad_key = laptop.subscription(&service).replace("\"p256dh\":\"B", "\"p256dh\":\"A");
    for bad in [bad_key.as_str(), "{\"endpoint\":1}"] {
        let response = app.call("push_subscribe", &[("subscription", bad)], Some(&bob)).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        assert!(response.text().await.unwrap().contains("turn push notifications off and on again"));
    }
    app.post(&dm, &ana, "nobody subscribed").await;

    subscribe(&app, &bob, &laptop, &service).await;
    app.post(&dm, &ana, "first").await;
    assert_eq!(service.wait_for(1).await.len(), 1);
    let _: () = app.call_ok("push_unsubscribe", &[("endpoint", &service.endpoint("laptop"))], &bob).await;
    app.post(&dm, &ana, "second").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(service.received().len(), 1, "turned off: no push");
}
