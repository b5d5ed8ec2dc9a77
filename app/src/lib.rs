//! The chat app: pages, server functions and the wire protocol, compiled twice: into the
//! server (feature `ssr`) and into the browser's WASM (feature `hydrate`).
//!
//! Imports run one way, from the bottom: `domain`, `error`, `url`, `calendar` → `model` → `protocol` →
//! `api` (server functions; `backend` is the interface the server implements) → `session` →
//! `live` (the browser side) → `components` → `pages` → this file's routes.

#![recursion_limit = "512"]

// The server and the browser must render views the same way, or no page hydrates: both are
// built with Leptos' type-erased components (`.cargo/config.toml`).
#[cfg(not(erase_components))]
compile_error!("build with `--cfg erase_components` (.cargo/config.toml sets it; a RUSTFLAGS in the environment replaces it: add the flag there)");

pub mod api;
#[cfg(feature = "ssr")]
pub mod backend;
pub mod calendar;
mod components;
pub mod domain;
pub mod error;
pub mod format;
mod live;
pub mod model;
mod pages;
pub mod protocol;
mod session;
pub mod url;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{path, Lazy, SsrMode};

use crate::api::accounts::{Login, Logout, Signup};
use crate::components::{Header, NotFound, Sidebar};
use crate::pages::{
    Admin, AdminRoom, DirectoryPage, LoginPage, Profile, QuickSwitcher, RoomPage, RoomSettings, RoomsPage, Search,
    SetPassword, Settings, SignupPage, StartChat, Welcome,
};
use crate::session::Session;

/// Where the page's own files are, under `/pkg/`: the build names each by its content
/// (`chat.<hash>.js`), so browsers may keep them for a year.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Assets {
    /// The JavaScript glue that loads the WASM bundle.
    pub js: String,
    pub wasm: String,
    pub css: String,
    /// What the pages loaded on demand need, fetched when one is first opened: the loader
    /// (`split.<hash>.js`, which the glue imports) and the WASM chunks it fetches.
    #[serde(default)]
    pub on_demand: Vec<String>,
    /// What each page loaded on demand fetches when it is opened (its chunk and the shared ones
    /// it needs), by the name of its split point (`settings_view`): a first visit straight to
    /// the page preloads them.
    #[serde(default)]
    pub pages: std::collections::BTreeMap<String, Vec<String>>,
}

impl Default for Assets {
    /// The names before the build hashes them (a site built by hand, or not built).
    fn default() -> Self {
        Self {
            js: "chat.js".into(),
            wasm: "chat_bg.wasm".into(),
            css: "chat.css".into(),
            on_demand: Vec::new(),
            pages: Default::default(),
        }
    }
}

/// The HTML document around every page: the stylesheet, then the bundle, whose download
/// starts once the server's page is on screen (a task queued from an animation frame runs
/// after that frame's paint), so the page a person sees, and its largest paint, never wait on
/// the bundle; a tab opened in the background, which paints nothing, starts it after 500 ms.
/// Only the bundle's small JavaScript glue is preloaded.
pub fn shell(assets: &Assets) -> impl IntoView {
    #[cfg(feature = "ssr")]
    set_content_security_policy();
    // The pages loaded on demand read it to preload what they need.
    #[cfg(feature = "ssr")]
    provide_context(assets.clone());
    let nonce = leptos::nonce::use_nonce();
    #[cfg(feature = "ssr")]
    let theme = api::appearance::requested_theme().attribute();
    #[cfg(not(feature = "ssr"))]
    let theme = None::<&str>;
    let load = format!(
        "let started = false;\
         const start = () => {{ if (started) return; started = true;\
           import('/pkg/{js}').then(m => m.default({{module_or_path: '/pkg/{wasm}'}}).then(() => m.hydrate())); }};\
         requestAnimationFrame(() => setTimeout(start)); setTimeout(start, 500);\
         if ('serviceWorker' in navigator) navigator.serviceWorker.register('/sw.js').catch(() => {{}});",
        js = assets.js,
        wasm = assets.wasm
    );
    view! {
        <!DOCTYPE html>
        <html lang="en" data-theme=theme>
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1, interactive-widget=resizes-content"/>
                <meta name="theme-color" content="#3451c7"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <link rel="manifest" href="/manifest.webmanifest"/>
                <link rel="stylesheet" href=format!("/pkg/{}", assets.css)/>
                <link rel="modulepreload" href=format!("/pkg/{}", assets.js)/>
                <script type="module" nonce=nonce>{load}</script>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The page's Content-Security-Policy: scripts only from this site, and the inline ones only
/// with this response's nonce (Leptos puts it on its hydration and resource scripts);
/// WebAssembly compiled from our own bundle; styles, images, fonts and sockets from this site;
/// never framed, forms only posted here.
#[cfg(feature = "ssr")]
pub fn page_policy(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; style-src 'self'; \
         img-src 'self'; font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; \
         form-action 'self'; frame-ancestors 'none'"
    )
}

#[cfg(feature = "ssr")]
fn set_content_security_policy() {
    let (Some(nonce), Some(response)) = (leptos::nonce::use_nonce(), use_context::<leptos_axum::ResponseOptions>())
    else {
        return;
    };
    if let Ok(policy) = http::HeaderValue::from_str(&page_policy(&nonce)) {
        response.insert_header(http::header::CONTENT_SECURITY_POLICY, policy);
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let login = ServerAction::<Login>::new();
    let signup = ServerAction::<Signup>::new();
    let logout = ServerAction::<Logout>::new();
    let user = Resource::new(
        move || (login.version().get(), signup.version().get(), logout.version().get()),
        |_| api::accounts::me(),
    );
    let rooms_changed = RwSignal::new(0);
    let unread = RwSignal::new(std::collections::HashMap::new());
    let presence = RwSignal::new(std::collections::HashMap::new());
    let drawer = RwSignal::new(false);
    let rooms = RwSignal::new(Vec::new());
    let session = Session { login, signup, logout, user, rooms_changed, unread, presence, drawer, rooms };
    provide_context(session);
    // Offline (the page came from the service worker, or the network went): a banner says so.
    let online = RwSignal::new(true);
    Effect::new(move |_| online.set(live::browser_online()));
    let _online = window_event_listener(leptos::ev::online, move |_| online.set(true));
    let _offline = window_event_listener(leptos::ev::offline, move |_| online.set(false));
    // A browser with pushes on hands its subscription to the server again at each load, for
    // the person who turned them on (the session it belonged to may have ended).
    Effect::new(move |_| {
        if let Some(Ok(Some(me))) = user.get() {
            leptos::task::spawn_local(async move { live::push::keep(&me.username).await });
        }
    });
    // The tab's icon carries the unread count too, as the title does.
    Effect::new(move |_| live::show_unread_in_icon(session.total_unread()));
    let title = move |title: String| {
        let title = if title.is_empty() { "Chat".to_owned() } else { format!("{title} · Chat") };
        match session.total_unread() {
            0 => title,
            n => format!("({n}) {title}"),
        }
    };

    view! {
        <Title formatter=title/>
        <Router>
            <Header/>
            <Show when=move || !online.get()>
                <p class="offline-banner" role="status" data-testid="offline">
                    "You are offline. What you write waits, and the chat reconnects by itself when the network returns."
                </p>
            </Show>
            <QuickSwitcher/>
            <div class="layout">
                <Sidebar/>
                <div class="backdrop" class:open=move || drawer.get() on:click=move |_| drawer.set(false)></div>
                <main>
                    // Async rendering: every page arrives complete, so it reads (and its forms
                    // work) before the WASM loads, or without JavaScript at all.
                    <Routes fallback=|| view! { <NotFound/> }>
                        <Route path=path!("/") view=DirectoryPage ssr=SsrMode::Async/>
                        <Route path=path!("/profiles") view=DirectoryPage ssr=SsrMode::Async/>
                        <Route path=path!("/login") view=LoginPage ssr=SsrMode::Async/>
                        <Route path=path!("/signup") view=SignupPage ssr=SsrMode::Async/>
                        <Route path=path!("/rooms") view=RoomsPage ssr=SsrMode::Async/>
                        <Route path=path!("/chat/:username") view=StartChat ssr=SsrMode::Async/>
                        <Route path=path!("/chat/room/:name") view=RoomPage ssr=SsrMode::Async/>
                        <Route path=path!("/chat/room/:name/send") view=RoomPage ssr=SsrMode::Async/>
                        <Route path=path!("/chat/room/:name/settings") view={Lazy::<RoomSettings>::new()} ssr=SsrMode::Async/>
                        <Route path=path!("/settings") view={Lazy::<Settings>::new()} ssr=SsrMode::Async/>
                        <Route path=path!("/search") view={Lazy::<Search>::new()} ssr=SsrMode::Async/>
                        <Route path=path!("/welcome") view={Lazy::<Welcome>::new()} ssr=SsrMode::Async/>
                        <Route path=path!("/set-password") view={Lazy::<SetPassword>::new()} ssr=SsrMode::Async/>
                        <Route path=path!("/admin") view={Lazy::<Admin>::new()} ssr=SsrMode::Async/>
                        <Route path=path!("/admin/room/:name") view={Lazy::<AdminRoom>::new()} ssr=SsrMode::Async/>
                        // `/@<username>`; any other single segment is not found. Last, so every
                        // named page above wins.
                        <Route path=path!("/:handle") view={Lazy::<Profile>::new()} ssr=SsrMode::Async/>
                    </Routes>
                </main>
            </div>
        </Router>
    }
}
