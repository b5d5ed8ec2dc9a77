//! The pieces several pages share: the header and the sidebar of rooms, how people are shown
//! (avatar, online dot, summary), how a page shows what its server function answered (the
//! login redirect, not found, an error card) and how forms show their errors.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_router::components::{Form, Redirect, A};
use leptos_router::hooks::{use_location, use_query_map};

use crate::api::rooms::my_rooms;
use crate::error::AppError;
use crate::model::{initials, Person, RoomKind, RoomSummary};
use crate::session::Session;
use crate::url;

/// The bar at the top: who you are and how to leave, or how to get in.
#[component]
pub fn Header() -> impl IntoView {
    let session = expect_context::<Session>();
    view! {
        <header class="topbar">
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    match session.user.await {
                        Ok(Some(user)) => view! {
                            <MenuButton/>
                            <a class="brand" href="/">"Chat"</a>
                            <UserChannel/>
                            <Form method="get" action=url::SEARCH attr:class="header-search" attr:role="search" attr:aria-label="The whole chat">
                                <input type="search" name="q" aria-label="Search the chat" placeholder="Search"/>
                            </Form>
                            <nav class="account">
                                <span class="whoami" data-testid="whoami">{user.display_name}</span>
                                {user.is_admin.then(|| view! { <A href=url::ADMIN>"Admin"</A> })}
                                <A href=url::SETTINGS>"Settings"</A>
                                <ActionForm action=session.logout attr:class="inline">
                                    <button type="submit" class="link">"Log out"</button>
                                </ActionForm>
                            </nav>
                        }.into_any(),
                        _ => view! {
                            <a class="brand" href="/">"Chat"</a>
                            <nav class="account">
                                <A href=url::LOGIN>"Log in"</A>
                                <A href=url::SIGNUP>"Sign up"</A>
                            </nav>
                        }.into_any(),
                    }
                })}
            </Transition>
        </header>
    }
}

/// Opens the sidebar as a drawer on narrow screens (hidden on wide ones). Without JavaScript
/// it is a link to `#sidebar`, which the stylesheet opens as the `:target`.
#[component]
fn MenuButton() -> impl IntoView {
    let session = expect_context::<Session>();
    let toggle = move |event: leptos::ev::MouseEvent| {
        event.prevent_default();
        session.drawer.update(|open| *open = !*open);
    };
    view! {
        <a class="menu-button" href="#sidebar" id="menu-button" role="button" aria-controls="sidebar"
            aria-expanded=move || if session.drawer.get() { "true" } else { "false" } on:click=toggle>
            <span aria-hidden="true">"☰"</span><span class="visually-hidden">"Your rooms"</span>
        </a>
    }
}

/// While the drawer is open, Tab and Shift+Tab stay inside it and Escape closes it.
fn keep_focus_in_drawer(session: Session, event: &leptos::ev::KeyboardEvent) {
    if !session.drawer.get_untracked() {
        return;
    }
    match event.key().as_str() {
        "Escape" => session.drawer.set(false),
        "Tab" => {
            #[cfg(feature = "hydrate")]
            {
                use wasm_bindgen::JsCast;
                let Some(nav) = event.current_target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()) else {
                    return;
                };
                let Ok(all) = nav.query_selector_all("a[href], button:not([disabled]), input") else { return };
                let element = |i: u32| all.item(i).and_then(|n| n.dyn_into::<web_sys::HtmlElement>().ok());
                let (Some(first), Some(last)) = (element(0), element(all.length().saturating_sub(1))) else {
                    return;
                };
                let active = document().active_element();
                let at = |e: &web_sys::HtmlElement| {
                    active.as_ref().is_some_and(|a| a == e.unchecked_ref::<web_sys::Element>())
                };
                if event.shift_key() && at(&first) {
                    event.prevent_default();
                    let _ = last.focus();
                } else if !event.shift_key() && at(&last) {
                    event.prevent_default();
                    let _ = first.focus();
                }
            }
        }
        _ => {}
    }
}

/// Moves focus into the drawer when it opens, and back to the menu button when it closes.
fn focus_follows_drawer(session: Session) {
    Effect::new(move |was_open: Option<bool>| {
        let open = session.drawer.get();
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            let target = if open {
                document().query_selector("#sidebar a[href]").ok().flatten()
            } else if was_open == Some(true) {
                document().get_element_by_id("menu-button")
            } else {
                None
            };
            // After the frame that shows the drawer: a hidden element takes no focus.
            if let Some(element) = target.and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok()) {
                request_animation_frame(move || drop(element.focus()));
            }
        }
        let _ = was_open;
        open
    });
}

/// The signed-in person's own socket, open while they are signed in: their rooms, badges and
/// the presence of the people they see stay current (see `live::person`).
#[component]
fn UserChannel() -> impl IntoView {
    crate::live::person::connect(expect_context::<Session>());
}

/// The rooms the signed-in person is in, on every page: group rooms, then one-to-one chats
/// named after the other person.
#[component]
pub fn Sidebar() -> impl IntoView {
    let session = expect_context::<Session>();
    let rooms = Resource::new(
        move || {
            (
                session.rooms_changed.get(),
                session.login.version().get(),
                session.signup.version().get(),
                session.logout.version().get(),
            )
        },
        |_| my_rooms(),
    );
    // Each load of the rooms is a fresh snapshot of their unread counts; live events update it.
    Effect::new(move |_| {
        if let Some(Ok(rooms)) = rooms.get() {
            session.unread.set(rooms.iter().map(|room| (room.name.clone(), room.unread)).collect());
            // The sidebar's order: rooms, then private chats.
            let (direct, groups): (Vec<RoomSummary>, Vec<RoomSummary>) =
                rooms.iter().cloned().partition(|room| room.kind == RoomKind::Direct);
            session.rooms.set(groups.into_iter().chain(direct).collect());
        }
    });
    let location = use_location();
    let current = move || location.pathname.get();
    // Going to another page closes the drawer.
    Effect::new(move |_| {
        location.pathname.track();
        session.drawer.set(false);
    });
    focus_follows_drawer(session);
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let rooms = rooms.await.unwrap_or_default();
                if rooms.is_empty() {
                    return ().into_any();
                }
                let (direct, groups): (Vec<RoomSummary>, Vec<RoomSummary>) =
                    rooms.into_iter().partition(|room| room.kind == RoomKind::Direct);
                let (direct, groups) = (StoredValue::new(direct), StoredValue::new(groups));
                let unread = move |room: &RoomSummary| {
                    session.unread.with(|unread| unread.get(&room.name).copied().unwrap_or(room.unread))
                };
                let group_section = move || view! {
                    <h2>"Rooms"</h2>
                    <ul>{groups.get_value().into_iter().map(|room| view! { <SidebarRoom room current/> }).collect_view()}</ul>
                    <p class="sidebar-links"><a href=url::ROOMS>"Browse rooms"</a></p>
                };
                // Private chats with unread messages come first, above the rooms.
                let direct_section = move || {
                    let mut chats = direct.get_value();
                    chats.sort_by_key(|room| unread(room) == 0);
                    view! {
                        <h2>"Private chats"</h2>
                        {if chats.is_empty() {
                            view! { <p class="muted small">"Start one from the " <a href=url::DIRECTORY>"people"</a> " page."</p> }.into_any()
                        } else {
                            view! { <ul>{chats.into_iter().map(|room| view! { <SidebarRoom room current/> }).collect_view()}</ul> }.into_any()
                        }}
                    }
                };
                let chats_first = move || direct.with_value(|chats| chats.iter().any(|room| unread(room) > 0));
                view! {
                    <nav class="sidebar" id="sidebar" aria-label="Your rooms" data-testid="sidebar"
                        class:open=move || session.drawer.get()
                        on:keydown=move |event| keep_focus_in_drawer(session, &event)>
                        <a class="drawer-close" href="#" on:click=move |event| {
                            event.prevent_default();
                            session.drawer.set(false);
                        }>"Close"</a>
                        {move || if chats_first() {
                            view! { {direct_section()} {group_section()} }.into_any()
                        } else {
                            view! { {group_section()} {direct_section()} }.into_any()
                        }}
                        <p class="sidebar-links"><a href=url::DIRECTORY>"People"</a></p>
                    </nav>
                }.into_any()
            })}
        </Transition>
    }
}

#[component]
fn SidebarRoom(room: RoomSummary, current: impl Fn() -> String + Send + Sync + Copy + 'static) -> impl IntoView {
    let href = url::room(&room.name);
    let target = StoredValue::new(href.clone());
    let here = move || target.with_value(|href| current().trim_end_matches('/') == href.trim_end_matches('/'));
    let marker = match room.kind {
        RoomKind::Direct => match room.other.clone() {
            Some(other) => view! {
                <Avatar name=room.title.clone() url=other.avatar.clone() small=true/>
                <OnlineDot person=other/>
            }
            .into_any(),
            None => view! { <Avatar name=room.title.clone() small=true/> }.into_any(),
        },
        RoomKind::Private => view! { <span class="room-mark" title="Private room">"🔒"</span> }.into_any(),
        RoomKind::Public => view! { <span class="room-mark" aria-hidden="true">"#"</span> }.into_any(),
    };
    let session = expect_context::<Session>();
    let name = room.name.clone();
    let unread = move || session.unread.with(|unread| unread.get(&name).copied().unwrap_or(0));
    view! {
        <li class:current=here>
            <a href=href aria-current=move || here().then_some("page")>
                {marker}<span class="room-title">{room.title}</span>
                {move || match unread() {
                    0 => None,
                    n => Some(view! { <span class="unread" data-testid="unread" aria-label=format!("{n} unread")>{n}</span> }),
                }}
            </a>
        </li>
    }
}

/// A person as lists show them: picture, online dot, display name and username.
#[component]
pub fn PersonSummary(person: Person) -> impl IntoView {
    view! {
        <Avatar name=person.display_name.clone() url=person.avatar.clone()/>
        <OnlineDot person=person.clone()/>
        <div class="who">
            <a class="name" href=url::profile(&person.username)>{person.display_name}</a>
            <span class="muted">"@"{person.username}</span>
        </div>
    }
}

/// Green when the person has the app open anywhere: what the server said when the page was
/// read, then whatever `presence` events said since.
#[component]
pub fn OnlineDot(person: Person) -> impl IntoView {
    let session = expect_context::<Session>();
    let username = StoredValue::new(person.username.clone());
    let initially = person.online;
    let online = move || {
        username.with_value(|username| session.presence.with(|p| p.get(username).copied())).unwrap_or(initially)
    };
    // A label needs a role to be read (without one, axe reports `aria-prohibited-attr`).
    view! {
        <span class="presence" class:online=online data-testid="presence"
            title=move || if online() { "online" } else { "offline" }
            role="img" aria-label=move || if online() { "online" } else { "offline" }></span>
    }
}

/// A person's picture: their uploaded avatar, else their initials in a circle.
#[component]
pub fn Avatar(
    name: String,
    #[prop(optional_no_strip)] url: Option<String>,
    #[prop(optional)] small: bool,
) -> impl IntoView {
    match url {
        Some(url) => view! {
            <img class="avatar" class:small=small src=url alt="" loading="lazy" width="256" height="256"/>
        }
        .into_any(),
        None => view! { <span class="avatar" class:small=small aria-hidden="true">{initials(&name)}</span> }.into_any(),
    }
}

/// What a page shows for what its server function answered: `show` on success, the login page
/// when signed out, the not-found page (with its 404) for a room or person out of reach, and
/// the error's own message otherwise.
pub fn loaded<T>(result: Result<T, AppError>, show: impl FnOnce(T) -> AnyView) -> AnyView {
    match result {
        Ok(value) => show(value),
        Err(AppError::Unauthorized) => view! { <LoginRedirect/> }.into_any(),
        Err(AppError::NotFound) => view! { <NotFound/> }.into_any(),
        Err(error) => view! { <ErrorCard error/> }.into_any(),
    }
}

/// Sends the browser to the login page, coming back here afterwards.
#[component]
pub fn LoginRedirect() -> impl IntoView {
    let location = use_location();
    let here = location.pathname.get_untracked();
    view! { <Redirect path=url::login_then(&here)/> }
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

/// What a page shows for an error that is not "log in" or "not found".
#[component]
pub fn ErrorCard(error: AppError) -> impl IntoView {
    view! { <section class="card narrow"><p class="form-error" role="alert">{error.to_string()}</p></section> }
}

/// What a page shows while its data loads, instead of a blank: grey bars in the shape of
/// what is coming (`lines` of them, in messages when `messages`), told to screen readers once
/// as `label`.
#[component]
pub fn Skeleton(
    label: &'static str,
    #[prop(default = 6)] lines: usize,
    #[prop(optional)] messages: bool,
) -> impl IntoView {
    let class = if messages { "skeleton skeleton-messages" } else { "skeleton" };
    view! {
        <div class=class role="status" aria-label=label data-testid="skeleton">
            {(0..lines).map(|_| view! {
                <div class="skeleton-row" aria-hidden="true">
                    {messages.then(|| view! { <span class="skeleton-avatar"></span> })}
                    <span class="skeleton-line"></span>
                </div>
            }).collect_view()}
        </div>
    }
}

/// The line under a form that says what went wrong, while something did. With an `id` it is
/// always there (empty, and not shown, until there is something to say), so the form's fields
/// can name it in `aria-describedby`: a screen reader then reads the error with the field.
#[component]
pub fn FormError(
    message: impl Fn() -> Option<String> + Send + Sync + 'static,
    #[prop(optional)] id: Option<&'static str>,
) -> impl IntoView {
    let text = move || message().filter(|text| !text.is_empty());
    match id {
        Some(id) => view! { <p class="form-error" role="alert" id=id>{text}</p> }.into_any(),
        None => (move || text().map(|text| view! { <p class="form-error" role="alert">{text}</p> })).into_any(),
    }
}

/// `aria-invalid` for the fields a form's error is about: `"true"` while there is one.
pub fn invalid_while(error: impl Fn() -> Option<String> + Copy) -> impl Fn() -> Option<&'static str> + Copy {
    move || error().is_some_and(|text| !text.is_empty()).then_some("true")
}

/// Whether a form's change went through: the hydrated action's own result first, else (a
/// plain form post, sent back to the page) the page's `?changed=<what>`.
pub fn form_done<T: 'static>(
    action_result: impl Fn() -> Option<Result<T, AppError>> + Copy + 'static,
    what: &'static str,
) -> impl Fn() -> bool + Copy {
    let query = use_query_map();
    move || match action_result() {
        Some(result) => result.is_ok(),
        None => query.read().get("changed").as_deref() == Some(what),
    }
}

/// The error to show beside a form: the hydrated action's own result first, else one carried
/// back in the query string by a plain form post.
pub fn form_error<T: 'static>(
    action_result: impl Fn() -> Option<Result<T, AppError>> + Copy + 'static,
) -> impl Fn() -> Option<String> + Copy {
    let query = use_query_map();
    move || match action_result() {
        Some(Err(error)) => Some(error.to_string()),
        Some(Ok(_)) => None,
        None => query.with(|q| {
            q.get("error").and_then(|code| AppError::from_code(&code, q.get("detail"))).map(|e| e.to_string())
        }),
    }
}

/// A value from the query string, for refilling a form after a plain form post failed.
pub fn query_value(name: &'static str) -> impl Fn() -> String + Copy {
    let query = use_query_map();
    move || query.with(|q| q.get(name).unwrap_or_default())
}
