//! The chat app: pages, server functions and the wire protocol, compiled twice: into the
//! server (feature `ssr`) and into the browser's WASM (feature `hydrate`).

#![recursion_limit = "512"]

pub mod admin;
pub mod auth;
#[cfg(feature = "ssr")]
pub mod backend;
pub mod domain;
pub mod error;
pub mod model;
mod notify;
mod pages;
pub mod people;
pub mod protocol;
pub mod rooms;
#[cfg(feature = "ssr")]
pub mod server_fns;
mod socket;
pub mod url;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{path, SsrMode};

use crate::auth::{Login, Logout, Signup};
use crate::model::CurrentUser;
use crate::pages::{
    AdminPage, AdminRoomMessages, DirectoryPage, Header, LoginPage, NotFound, ProfilePage, RoomPage, RoomSettingsPage,
    RoomsPage, SetPasswordPage, SettingsPage, Sidebar, SignupPage, StartChat, WelcomePage,
};

/// The name the build gives the WASM bundle and the stylesheet under `/pkg/`.
pub const OUTPUT_NAME: &str = "chat";

/// The HTML document around every page.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The account actions and the signed-in person, shared by the header and the forms so that
/// logging in or out refreshes everything that shows who you are.
#[derive(Clone, Copy)]
pub struct Session {
    pub login: ServerAction<Login>,
    pub signup: ServerAction<Signup>,
    pub logout: ServerAction<Logout>,
    pub user: Resource<Result<Option<CurrentUser>, error::AppError>>,
    /// Bumped whenever the rooms the person is in may have changed (their own socket says
    /// so, or they acted on a room), so the sidebar reloads.
    pub rooms_changed: RwSignal<u32>,
    /// Unread messages per room name: loaded with the sidebar, then kept current by the
    /// person's own socket. Their sum leads the document title: "(3) Public chat · Chat".
    pub unread: RwSignal<std::collections::HashMap<String, u32>>,
    /// Who came online or went offline since the page's data was read, by username.
    pub presence: RwSignal<std::collections::HashMap<String, bool>>,
}

impl Session {
    pub fn total_unread(&self) -> u32 {
        self.unread.with(|unread| unread.values().sum())
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let login = ServerAction::<Login>::new();
    let signup = ServerAction::<Signup>::new();
    let logout = ServerAction::<Logout>::new();
    let user =
        Resource::new(move || (login.version().get(), signup.version().get(), logout.version().get()), |_| auth::me());
    let rooms_changed = RwSignal::new(0);
    let unread = RwSignal::new(std::collections::HashMap::new());
    let presence = RwSignal::new(std::collections::HashMap::new());
    let session = Session { login, signup, logout, user, rooms_changed, unread, presence };
    provide_context(session);
    let title = move |title: String| {
        let title = if title.is_empty() { "Chat".to_owned() } else { format!("{title} · Chat") };
        match session.total_unread() {
            0 => title,
            n => format!("({n}) {title}"),
        }
    };

    view! {
        <Stylesheet id="leptos" href=format!("/pkg/{OUTPUT_NAME}.css")/>
        <Title formatter=title/>
        <Router>
            <Header/>
            <div class="layout">
                <Sidebar/>
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
                        <Route path=path!("/chat/room/:name/settings") view=RoomSettingsPage ssr=SsrMode::Async/>
                        <Route path=path!("/settings") view=SettingsPage ssr=SsrMode::Async/>
                        <Route path=path!("/welcome") view=WelcomePage ssr=SsrMode::Async/>
                        <Route path=path!("/set-password") view=SetPasswordPage ssr=SsrMode::Async/>
                        <Route path=path!("/admin") view=AdminPage ssr=SsrMode::Async/>
                        <Route path=path!("/admin/room/:name") view=AdminRoomMessages ssr=SsrMode::Async/>
                        // `/@<username>`; any other single segment is not found. Last, so every
                        // named page above wins.
                        <Route path=path!("/:handle") view=ProfilePage ssr=SsrMode::Async/>
                    </Routes>
                </main>
            </div>
        </Router>
    }
}
