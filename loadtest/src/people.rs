//! The people a run uses: signed up, or logged in again when a previous run made them.

use std::collections::HashMap;

use futures_util::StreamExt;

use crate::Args;

const PASSWORD: &str = "load-test-password";

/// Where the server is, as HTTP and WebSocket addresses and as the `Origin` pages send.
#[derive(Clone)]
pub struct Base {
    pub http: String,
    pub ws: String,
    pub origin: String,
}

impl Base {
    pub fn new(url: &str) -> Self {
        let http = url.trim_end_matches('/').to_owned();
        let ws = http.replacen("http://", "ws://", 1).replacen("https://", "wss://", 1);
        Self { origin: http.clone(), http, ws }
    }
}

#[derive(Clone, Debug)]
pub struct Person {
    pub username: String,
    pub cookie: String,
}

fn session_cookie(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find(|value| value.starts_with("chat_session=") && !value.starts_with("chat_session=;"))
        .map(|value| value.split(';').next().unwrap_or_default().to_owned())
}

/// Signs up `count` people named `<prefix><group><i>`, or logs them in when they exist.
/// Cookies found in `--sessions` are used as they are.
pub async fn prepare(
    http: &reqwest::Client,
    base: &Base,
    args: &Args,
    group: &str,
    count: usize,
) -> anyhow::Result<Vec<Person>> {
    let cached: HashMap<String, String> = args
        .sessions
        .as_ref()
        .and_then(|path| std::fs::read_to_string(path).ok())
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default();
    let names: Vec<String> = (0..count).map(|i| format!("{}{group}{i}", args.prefix)).collect();
    let people: Vec<anyhow::Result<Person>> = futures_util::stream::iter(names)
        .map(|username| {
            let cached = cached.get(&username).cloned();
            async move {
                if let Some(cookie) = cached {
                    return Ok(Person { username, cookie });
                }
                sign_in(http, base, &username).await.map(|cookie| Person { username, cookie })
            }
        })
        .buffer_unordered(args.signup_concurrency.max(1))
        .collect()
        .await;
    let people: Vec<Person> = people.into_iter().collect::<anyhow::Result<_>>()?;
    if let Some(path) = &args.sessions {
        let mut all = cached;
        all.extend(people.iter().map(|p| (p.username.clone(), p.cookie.clone())));
        std::fs::write(path, serde_json::to_string(&all)?)?;
    }
    Ok(people)
}

async fn sign_in(http: &reqwest::Client, base: &Base, username: &str) -> anyhow::Result<String> {
    let form = [("username", username), ("password", PASSWORD), ("email", "")];
    let response = http.post(format!("{}/api/signup", base.http)).form(&form).send().await?;
    if let Some(cookie) = session_cookie(&response) {
        return Ok(cookie);
    }
    // Taken: a previous run's person.
    let form = [("username", username), ("password", PASSWORD)];
    let response = http.post(format!("{}/api/login", base.http)).form(&form).send().await?;
    let status = response.status();
    session_cookie(&response).ok_or_else(|| anyhow::anyhow!("could not sign {username} up or in ({status})"))
}

async fn call(
    http: &reqwest::Client,
    base: &Base,
    person: &Person,
    function: &str,
    form: &[(&str, &str)],
) -> anyhow::Result<String> {
    let response = http
        .post(format!("{}/api/{function}", base.http))
        .header(reqwest::header::COOKIE, &person.cookie)
        .form(form)
        .send()
        .await?;
    let status = response.status();
    let text = response.text().await?;
    anyhow::ensure!(status.is_success(), "{function} as {}: {status} {text}", person.username);
    Ok(text)
}

/// Makes everyone a member of `room` (public-chat: they are already).
pub async fn join(http: &reqwest::Client, base: &Base, room: &str, people: &[Person]) {
    if room == "public-chat" {
        return;
    }
    for person in people {
        let _ = call(http, base, person, "join_room", &[("room", room)]).await;
    }
}

/// A room of its own for each sender (created on the first run, found again later).
pub async fn own_rooms(
    http: &reqwest::Client,
    base: &Base,
    args: &Args,
    senders: &[Person],
) -> anyhow::Result<Vec<String>> {
    let mut rooms = Vec::new();
    for (i, person) in senders.iter().enumerate() {
        let title = format!("{} load {i}", args.prefix);
        let listed = call(http, base, person, "my_rooms", &[]).await?;
        let listed: serde_json::Value = serde_json::from_str(&listed)?;
        let found = listed.as_array().and_then(|rooms| {
            rooms.iter().find(|r| r["title"] == title.as_str()).and_then(|r| r["name"].as_str().map(str::to_owned))
        });
        let name = match found {
            Some(name) => name,
            None => serde_json::from_str(
                &call(http, base, person, "create_room", &[("title", &title), ("visibility", "private")]).await?,
            )?,
        };
        rooms.push(name);
    }
    Ok(rooms)
}

/// `person`'s unread count of `room` as the server's database has it (the sidebar's query).
pub async fn unread_of(http: &reqwest::Client, base: &Base, person: &Person, room: &str) -> Option<u32> {
    let listed = call(http, base, person, "my_rooms", &[]).await.ok()?;
    let listed: serde_json::Value = serde_json::from_str(&listed).ok()?;
    listed.as_array()?.iter().find(|r| r["name"] == room)?["unread"].as_u64().map(|n| n as u32)
}
