//! `/chat/room/<name>/`: the room's latest messages (in the server-rendered HTML), who is
//! online, and the message box. Once hydrated, the room socket keeps both live.

use leptos::html;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use super::{LoginRedirect, NotFound};
use crate::domain::MessageBody;
use crate::error::AppError;
use crate::model::RoomPage as RoomData;
use crate::protocol::ChatMessage;
use crate::rooms::get_room;
use crate::socket::{self, RoomLive, Status};

#[component]
pub fn RoomPage() -> impl IntoView {
    let params = use_params_map();
    let name = move || params.read().get("name").unwrap_or_default();
    let page = Resource::new(name, get_room);
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(page) => view! { <Room page/> }.into_any(),
                    Err(AppError::Unauthorized) => view! { <LoginRedirect/> }.into_any(),
                    Err(AppError::NotFound) => view! { <NotFound/> }.into_any(),
                    Err(error) => view! {
                        <section class="card narrow"><p class="form-error" role="alert">{error.to_string()}</p></section>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Room(page: RoomData) -> impl IntoView {
    let live = RoomLive::new(&page);
    socket::connect(live, page.name.clone());

    let list: NodeRef<html::Ol> = NodeRef::new();
    // Keep the newest message in view as messages arrive (and once after hydration).
    Effect::new(move |_| {
        live.messages.with(|messages| messages.len());
        if let Some(last) = list.get().and_then(|ol| ol.last_element_child()) {
            last.scroll_into_view_with_bool(false);
        }
    });
    // Times are rendered in UTC on the server; after hydration the browser shows local time.
    let local_time = RwSignal::new(false);
    Effect::new(move |_| local_time.set(true));

    let room = page.name.clone();
    view! {
        <Title text=page.title.clone()/>
        <section class="room">
            <header class="room-header">
                <h1>{page.title.clone()}</h1>
                <p class="online" data-testid="online-count">
                    <span class="dot" aria-hidden="true"></span>
                    {move || live.online.get()} " online"
                </p>
                <Show when=move || live.status.get() == Status::Reconnecting>
                    <p class="status" role="status">"reconnecting…"</p>
                </Show>
            </header>
            <ol class="messages" node_ref=list aria-live="polite">
                <For
                    each=move || live.messages.get()
                    key=|message| message.seq
                    children=move |message| view! { <MessageItem message local_time/> }
                />
            </ol>
            <MessageBox room live/>
        </section>
    }
}

#[component]
fn MessageItem(message: ChatMessage, local_time: RwSignal<bool>) -> impl IntoView {
    let created_at = message.created_at.clone();
    let time = move || {
        if local_time.get() { socket::local_clock(&created_at) } else { utc_clock(&created_at) }
    };
    view! {
        <li class="message" data-seq=message.seq>
            <div class="meta">
                <span class="author" title=format!("@{}", message.author.username)>{message.author.display_name}</span>
                <time datetime=message.created_at.clone()>{time}</time>
            </div>
            <p class="body">{message.body}</p>
        </li>
    }
}

/// `HH:MM` of an RFC 3339 UTC timestamp.
fn utc_clock(created_at: &str) -> String {
    created_at.get(11..16).unwrap_or_default().to_owned()
}

/// A plain form that posts to `/api/send_message` (so it works without JavaScript); once
/// hydrated, Enter or the button sends over the socket instead and the box clears.
#[component]
fn MessageBox(room: String, live: RoomLive) -> impl IntoView {
    let form: NodeRef<html::Form> = NodeRef::new();
    let input: NodeRef<html::Textarea> = NodeRef::new();
    let on_submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let Some(input) = input.get() else { return };
        match MessageBody::parse(&input.value()) {
            Err(error) => live.error.set(Some(error.message())),
            Ok(body) => match live.send(&body) {
                Ok(()) => {
                    input.set_value("");
                    live.error.set(None);
                }
                Err(error) => live.error.set(Some(error)),
            },
        }
    };
    let on_keydown = move |event: leptos::ev::KeyboardEvent| {
        if event.key() == "Enter" && !event.shift_key() && !event.is_composing() {
            event.prevent_default();
            if let Some(form) = form.get() {
                let _ = form.request_submit();
            }
        }
    };
    view! {
        <form class="message-box" method="post" action="/api/send_message" node_ref=form on:submit=on_submit>
            <input type="hidden" name="room" value=room/>
            <textarea name="body" node_ref=input required rows="2" maxlength=MessageBody::MAX_CHARS
                placeholder="Write a message… (Enter sends, Shift+Enter for a new line)"
                aria-label="Message" on:keydown=on_keydown></textarea>
            <button type="submit">"Send"</button>
            {move || live.error.get().map(|text| view! { <p class="form-error" role="alert">{text}</p> })}
        </form>
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn utc_clock_reads_hours_and_minutes() {
        assert_eq!(super::utc_clock("2026-11-24T09:05:59.123Z"), "09:05");
        assert_eq!(super::utc_clock("garbage"), "");
    }
}
