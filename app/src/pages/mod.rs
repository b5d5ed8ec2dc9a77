//! One module per page, plus the pieces every page shares.

mod account;
mod room;

pub use account::{LoginPage, SignupPage};
pub use room::RoomPage;

use leptos::prelude::*;
use leptos::form::ActionForm;
use leptos_router::components::{Redirect, A};
use leptos_router::hooks::use_location;

use crate::domain::RoomName;
use crate::Session;

/// The bar at the top: who you are and how to leave, or how to get in.
#[component]
pub fn Header() -> impl IntoView {
    let session = expect_context::<Session>();
    view! {
        <header class="topbar">
            <a class="brand" href="/">"Chat"</a>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    match session.user.await {
                        Ok(Some(user)) => view! {
                            <nav class="account">
                                <span class="whoami" data-testid="whoami">{user.display_name}</span>
                                <ActionForm action=session.logout attr:class="inline">
                                    <button type="submit" class="link">"Log out"</button>
                                </ActionForm>
                            </nav>
                        }.into_any(),
                        _ => view! {
                            <nav class="account">
                                <A href="/login">"Log in"</A>
                                <A href="/signup">"Sign up"</A>
                            </nav>
                        }.into_any(),
                    }
                })}
            </Transition>
        </header>
    }
}

/// `/` and `/profiles/` lead to the public room until the directory exists.
#[component]
pub fn Home() -> impl IntoView {
    view! { <Redirect path=format!("/chat/room/{}/", RoomName::PUBLIC)/> }
}

/// Sends the browser to the login page, coming back here afterwards.
#[component]
pub fn LoginRedirect() -> impl IntoView {
    let location = use_location();
    let here = location.pathname.get_untracked();
    view! { <Redirect path=format!("/login?next={}", here)/> }
}

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <leptos_meta::Title text="Not found"/>
        <section class="card narrow">
            <h1>"Not found"</h1>
            <p>"This page does not exist, or you do not have access to it."</p>
            <p><a href="/">"Back to the chat"</a></p>
        </section>
    }
}
