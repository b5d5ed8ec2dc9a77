use std::time::Duration;

use app::domain::Role;
use reqwest::header::{COOKIE, SET_COOKIE};
use reqwest::StatusCode;
use server::config::Config;
use server::state::AppState;
use server::Application;

mod instance;
mod push;
mod sockets;

pub use instance::*;
pub use push::*;
pub use sockets::*;

pub struct TestApp {
    pub address: String,
    pub port: u16,
    pub state: AppState,
    pub database_url: String,
    _data: tempfile::TempDir,
    _postgres: Option<PostgresDatabase>,
}

/// With `TEST_POSTGRES_URL` set (a server such as `postgres://postgres@127.0.0.1:5432`), every
/// test app gets a PostgreSQL database of its own instead of a SQLite file, dropped after.
const POSTGRES_ENV: &str = "TEST_POSTGRES_URL";

/// A database made for one test, dropped (with its connections) when the test ends.
struct PostgresDatabase {
    server: String,
    name: String,
}

impl PostgresDatabase {
    async fn create(server: &str) -> Self {
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
        let name = format!("chat_test_{}_{n}_{nanos}", std::process::id());
        let server = server.trim_end_matches('/').to_owned();
        let mut admin = <sqlx::PgConnection as sqlx::Connection>::connect(&format!("{server}/postgres"))
            .await
            .unwrap_or_else(|e| panic!("{POSTGRES_ENV}={server} cannot be reached: {e}"));
        sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut admin).await.expect("a test database");
        Self { server, name }
    }

    fn url(&self) -> String {
        format!("{}/{}", self.server, self.name)
    }
}

impl Drop for PostgresDatabase {
    fn drop(&mut self) {
        let (server, name) = (self.server.clone(), self.name.clone());
        // Drop runs inside the test's runtime: do the async work on a thread of its own.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            runtime.block_on(async move {
                let mut admin =
                    <sqlx::PgConnection as sqlx::Connection>::connect(&format!("{server}/postgres")).await?;
                sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut admin).await?;
                Ok::<_, sqlx::Error>(())
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("could not drop the test database {}", self.name);
        }
    }
}

/// A signed-in person: their username and session cookie.
pub struct TestUser {
    pub username: String,
    pub cookie: String,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// The app with some of its configuration changed first.
pub async fn spawn_app_with(change: impl FnOnce(&mut Config)) -> TestApp {
    let data = tempfile::tempdir().expect("temp dir");
    let postgres = match std::env::var(POSTGRES_ENV) {
        Ok(server) if !server.trim().is_empty() => Some(PostgresDatabase::create(&server).await),
        _ => None,
    };
    let database_url = match &postgres {
        Some(database) => database.url(),
        None => format!("sqlite://{}/chat.db", data.path().display()),
    };
    let mut config = Config {
        database_url: database_url.clone(),
        site_addr: "127.0.0.1:0".parse().unwrap(),
        site_root: std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/site"),
        data_dir: data.path().to_path_buf(),
        public_url: None,
        redis_url: None,
        sqlite_sync: server::store::SqliteSync::Full,
        redis_prefix: "chat".to_owned(),
        presence_ttl: Duration::from_secs(server::config::DEFAULT_PRESENCE_TTL_SECONDS),
        allowed_origins: vec![],
        secure_cookies: false,
        default_role: app::domain::Role::parse("member").unwrap(),
        heartbeat_interval: Duration::from_secs(server::config::DEFAULT_HEARTBEAT_SECONDS),
        heartbeat_timeout: Duration::from_secs(server::config::DEFAULT_SOCKET_TIMEOUT_SECONDS),
        header_timeout: Duration::from_secs(server::config::DEFAULT_HEADER_TIMEOUT_SECONDS),
        max_connections: server::config::DEFAULT_MAX_CONNECTIONS,
        trust_forwarded_for: false,
        metrics_allow: vec!["127.0.0.1".parse().unwrap()],
        search_config: "chat_search".to_owned(),
        max_upload_bytes: u64::from(server::config::DEFAULT_MAX_UPLOAD_MB) * 1024 * 1024,
        push_services: vec![],
        push_contact: "mailto:ops@example.org".to_owned(),
        // The tests sign many people up from one address; the limits have tests of their own.
        limits: server::config::Limits {
            signups_per_address: 1_000_000,
            messages_per_second: 1_000_000,
            message_burst: 1_000_000,
            frames_per_second: 1_000_000,
            sockets_per_person: 1_000_000,
            ..Default::default()
        },
    };
    change(&mut config);
    let app = Application::build(config).await.expect("the app builds");
    let port = app.port();
    let state = app.state().clone();
    tokio::spawn(app.run_until_stopped());
    TestApp { address: format!("http://127.0.0.1:{port}"), port, state, database_url, _data: data, _postgres: postgres }
}

/// A client that does not follow redirects, so tests see them.
pub fn http() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

pub fn session_cookie(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("chat_session="))
        .map(|v| v.split(';').next().unwrap().to_owned())
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn post_form(&self, path: &str, form: &[(&str, &str)], cookie: Option<&str>) -> reqwest::Response {
        let mut request = http().post(self.url(path)).form(form);
        if let Some(cookie) = cookie {
            request = request.header(COOKIE, cookie);
        }
        request.send().await.expect("request sent")
    }

    /// Posts a form the way a browser without JavaScript does (`Accept: text/html`), so the
    /// server answers with a redirect.
    pub async fn post_browser_form(
        &self,
        path: &str,
        form: &[(&str, &str)],
        cookie: Option<&str>,
    ) -> reqwest::Response {
        let mut request = http().post(self.url(path)).header("Accept", "text/html").form(form);
        if let Some(cookie) = cookie {
            request = request.header(COOKIE, cookie);
        }
        request.send().await.expect("request sent")
    }

    /// Posts a multipart form the way a browser without JavaScript does (`Accept: text/html`).
    pub async fn post_browser_multipart(
        &self,
        path: &str,
        form: reqwest::multipart::Form,
        user: &TestUser,
    ) -> reqwest::Response {
        http()
            .post(self.url(path))
            .header(COOKIE, &user.cookie)
            .header("Accept", "text/html")
            .multipart(form)
            .send()
            .await
            .expect("request sent")
    }

    pub async fn get(&self, path: &str, cookie: Option<&str>) -> reqwest::Response {
        let mut request = http().get(self.url(path)).header("Accept", "text/html");
        if let Some(cookie) = cookie {
            request = request.header(COOKIE, cookie);
        }
        request.send().await.expect("request sent")
    }

    pub async fn signup(&self, username: &str) -> TestUser {
        let response = self
            .post_form("/api/signup", &[("username", username), ("password", "correct-horse"), ("email", "")], None)
            .await;
        assert_eq!(response.status(), StatusCode::OK, "signup of {username} failed");
        let cookie = session_cookie(&response).expect("signup sets a session cookie");
        TestUser { username: username.to_owned(), cookie }
    }

    /// Signs someone up and gives them exactly these roles.
    pub async fn signup_with_roles(&self, username: &str, roles: &[&str]) -> TestUser {
        let user = self.signup(username).await;
        let roles: Vec<Role> = roles.iter().map(|r| Role::parse(r).unwrap()).collect();
        self.state.store.set_roles(self.user_id(username).await, &roles).await.unwrap();
        user
    }

    pub async fn user_id(&self, username: &str) -> i64 {
        self.state.store.find_user_by_login(username).await.unwrap().expect("the user exists").id
    }

    /// Calls a server function the way the hydrated app does; `user` signs the call.
    pub async fn call(&self, function: &str, form: &[(&str, &str)], user: Option<&TestUser>) -> reqwest::Response {
        self.post_form(&format!("/api/{function}"), form, user.map(|u| u.cookie.as_str())).await
    }

    /// Calls a server function that must succeed, and decodes its JSON answer.
    pub async fn call_ok<T: serde::de::DeserializeOwned>(
        &self,
        function: &str,
        form: &[(&str, &str)],
        user: &TestUser,
    ) -> T {
        let response = self.call(function, form, Some(user)).await;
        let status = response.status();
        let text = response.text().await.unwrap();
        assert_eq!(status, StatusCode::OK, "{function} {form:?} as {}: {text}", user.username);
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{function} answered {text}: {e}"))
    }

    /// Posts a message the way the hydrated app's form does; it must succeed.
    pub async fn post(&self, room: &str, user: &TestUser, body: &str) {
        let _: () = self.call_ok("send_message", &[("room", room), ("body", body)], user).await;
    }

    /// Creates a group room as `owner`; gives its name.
    pub async fn create_room(&self, owner: &TestUser, title: &str, visibility: &str) -> String {
        self.call_ok("create_room", &[("title", title), ("visibility", visibility)], owner).await
    }

    /// `GET /chat/<username>/` as `user`: the status and where it redirects to.
    pub async fn start_chat(&self, user: &TestUser, username: &str) -> (StatusCode, Option<String>) {
        let response = self.get(&format!("/chat/{username}/"), Some(&user.cookie)).await;
        let location = response.headers().get("location").map(|l| l.to_str().unwrap().to_owned());
        (response.status(), location)
    }

    /// The name of the one-to-one room of `user` and `username`, started from the directory.
    pub async fn direct_room(&self, user: &TestUser, username: &str) -> String {
        let (status, location) = self.start_chat(user, username).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "starting a chat redirects");
        let location = location.unwrap();
        location.trim_start_matches("/chat/room/").trim_end_matches('/').to_owned()
    }

    /// Opens a person's own socket, `/ws/chat/`.
    pub async fn user_socket(&self, user: &TestUser) -> Socket {
        self.open_path(&format!("ws://127.0.0.1:{}/ws/chat/", self.port), Some(&user.cookie), None)
            .await
            .expect("the user socket opens")
    }

    /// Runs `chat-server admin …` against this app's database, as an operator would; gives
    /// whether it succeeded and what it printed (stdout, or stderr on failure).
    pub fn admin_cli(&self, args: &[&str]) -> (bool, String) {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_chat-server"))
            .arg("admin")
            .args(args)
            .env("DATABASE_URL", &self.database_url)
            .env("DATA_DIR", self._data.path())
            .env("PUBLIC_URL", &self.address)
            .env("RUST_LOG", "warn")
            .output()
            .expect("the server binary runs");
        let text = String::from_utf8_lossy(if output.status.success() { &output.stdout } else { &output.stderr });
        (output.status.success(), text.trim().to_owned())
    }

    /// Logs in; gives the new session cookie, or the status of the refusal and its text.
    pub async fn log_in(&self, login: &str, password: &str) -> Result<String, (StatusCode, String)> {
        let response = self.post_form("/api/login", &[("username", login), ("password", password)], None).await;
        match (response.status(), session_cookie(&response)) {
            (StatusCode::OK, Some(cookie)) => Ok(cookie),
            (status, _) => Err((status, response.text().await.unwrap())),
        }
    }

    /// Who `/api/me` says the cookie belongs to.
    pub async fn whoami(&self, cookie: &str) -> Option<String> {
        let response = self.post_form("/api/me", &[], Some(cookie)).await;
        assert_eq!(response.status(), StatusCode::OK);
        let me: Option<serde_json::Value> = response.json().await.unwrap();
        me.map(|user| user["username"].as_str().unwrap().to_owned())
    }

    /// How many messages the database holds for a room (what a reload would show).
    pub async fn stored_messages(&self, room: &str) -> i64 {
        let room = self.state.store.room_by_name(room).await.unwrap().expect("the room exists");
        self.state.store.count_messages(&room).await.unwrap()
    }

    /// The data folder (avatars, shared files).
    pub fn data_dir(&self) -> &std::path::Path {
        self._data.path()
    }

    pub async fn room_html(&self, room: &str, user: &TestUser) -> String {
        let response = self.get(&format!("/chat/room/{room}/"), Some(&user.cookie)).await;
        assert_eq!(response.status(), StatusCode::OK);
        markup(&response.text().await.unwrap())
    }
}

/// A page's markup as the browser's DOM holds its elements and text: without the comments
/// Leptos leaves between them for hydration (`<!>`, `<!--<() />-->`).
pub fn markup(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    loop {
        let marker = rest.find("<!>").map(|i| (i, 3));
        let comment = rest.find("<!--").map(|i| (i, rest[i..].find("-->").map_or(rest.len() - i, |end| end + 3)));
        match [marker, comment].into_iter().flatten().min() {
            Some((at, len)) => {
                out.push_str(&rest[..at]);
                rest = &rest[at + len..];
            }
            None => break,
        }
    }
    out.push_str(rest);
    out
}
