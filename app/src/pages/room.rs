//! `/chat/room/<name>/`: the room's latest messages (in the server-rendered HTML), who is
//! online, and the message box. Once hydrated, the room socket keeps both live, and scrolling
//! up loads older messages in pages of 50. Without JavaScript, "Load older messages" is a link
//! to `?before=<seq>`, a still page of the 50 before it.

use leptos::form::ActionForm;
use leptos::html;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::rooms::{get_room, history, JoinRoom};
use crate::components::{form_error, loaded, Avatar, FormError, OnlineDot};
use crate::domain::{MessageBody, RoomName};
use crate::format::{self, Mentions};
use crate::live::room::RoomLive;
use crate::live::{self, Status};
use crate::model::{RoomKind, RoomPage as RoomData};
use crate::protocol::{Author, ChatMessage, ClosedReason};
use crate::url;

#[component]
pub fn RoomPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let join = ServerAction::<JoinRoom>::new();
    let key = move || {
        let before = query.read().get("before").and_then(|b| b.parse::<i64>().ok());
        (params.read().get("name").unwrap_or_default(), before, join.version().get())
    };
    let page = Resource::new(key, |(name, before, _)| get_room(name, before));
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                loaded(page.await, |page| view! { <Room page join/> }.into_any())
            })}
        </Suspense>
    }
}

#[component]
fn Room(page: RoomData, join: ServerAction<JoinRoom>) -> impl IntoView {
    let live = RoomLive::new(&page);
    // A page of older messages stays still; the latest messages stay live.
    if !page.is_history {
        live::room::connect(live);
    }

    let list: NodeRef<html::Ol> = NodeRef::new();
    // Whether the reader is at the newest message; scrolling up to read history unsets it, so
    // arriving messages do not pull them back down.
    let at_bottom = StoredValue::new(true);
    // Keep the newest message in view when one arrives (and once the list is on screen) if the
    // reader was there, but not when older ones are added at the top. The effect remembers the
    // last message it handled; until the list exists it remembers nothing, so it tries again.
    Effect::new(move |shown: Option<Option<i64>>| {
        let last = live.messages.with(|messages| messages.last().map(|m| m.seq));
        if page.is_history || shown == Some(last) {
            return last;
        }
        match list.get() {
            Some(ol) => {
                if at_bottom.get_value() {
                    ol.set_scroll_top(ol.scroll_height());
                }
                last
            }
            None => None,
        }
    });
    // Times are rendered in UTC on the server; after hydration the browser shows local time.
    let local_time = RwSignal::new(false);
    Effect::new(move |_| local_time.set(true));

    let name = page.room.name.clone();
    let load_older = {
        let name = name.clone();
        move || {
            if live.loading_older.get_untracked() || !live.has_older.get_untracked() {
                return;
            }
            let Some(before) = live.first_seq() else { return };
            live.loading_older.set(true);
            let name = name.clone();
            leptos::task::spawn_local(async move {
                match history(name, before).await {
                    Ok(older) => {
                        // Keep the message that was at the top where it was on screen.
                        let height_before = list.get_untracked().map(|ol| ol.scroll_height()).unwrap_or_default();
                        live.prepend(older.messages, older.has_older);
                        request_animation_frame(move || {
                            if let Some(ol) = list.get_untracked() {
                                ol.set_scroll_top(ol.scroll_top() + ol.scroll_height() - height_before);
                            }
                        });
                    }
                    Err(error) => live.error.set(Some(error.to_string())),
                }
                live.loading_older.set(false);
            });
        }
    };
    let on_scroll = {
        let load_older = load_older.clone();
        move |_| {
            let Some(ol) = list.get_untracked() else { return };
            at_bottom.set_value(ol.scroll_height() - ol.client_height() - ol.scroll_top() < 40);
            if ol.scroll_top() < 80 {
                load_older();
            }
        }
    };
    let older_href = move || format!("?before={}", live.messages.with(|m| m.first().map_or(0, |m| m.seq)));
    let on_older_click = move |event: leptos::ev::MouseEvent| {
        event.prevent_default();
        load_older();
    };

    let heading = match (&page.room.kind, &page.room.other) {
        (RoomKind::Direct, Some(other)) => view! {
            <Avatar name=other.display_name.clone() url=other.avatar.clone()/>
            <OnlineDot person=other.clone()/>
            <h1>{other.display_name.clone()}</h1>
            <a class="muted" href=url::profile(&other.username)>"@"{other.username.clone()}</a>
        }
        .into_any(),
        (kind, _) => {
            let private = *kind == RoomKind::Private;
            view! {
                <h1>{move || live.title.get()}</h1>
                {private.then(|| view! { <span class="badge">"private"</span> })}
            }
            .into_any()
        }
    };
    let settings = (page.room.kind != RoomKind::Direct && page.room.name != RoomName::PUBLIC)
        .then(|| view! { <a class="settings-link" href=url::room_settings(&page.room.name)>"Members"</a> });
    let title = page.room.title.clone();
    let is_member = page.is_member;
    let is_history = page.is_history;
    let room = name.clone();
    view! {
        // The document title outlives this view by a moment when the room reloads (after
        // joining, say), so it must not insist on the signal still being there.
        <Title text=move || live.title.try_get().unwrap_or_default()/>
        <section class="room">
            <header class="room-header">
                {heading}
                <p class="online" data-testid="online-count">
                    <span class="dot" aria-hidden="true"></span>
                    {move || live.online.get()} " online"
                </p>
                {settings}
                <Show when=move || live.status.get() == Status::Reconnecting && live.closed.get().is_none()>
                    <p class="status" role="status">"reconnecting…"</p>
                </Show>
            </header>
            <ol class="messages" node_ref=list aria-live="polite" on:scroll=on_scroll>
                <Show when=move || live.has_older.get()>
                    <li class="older">
                        <a href=older_href on:click=on_older_click.clone()>
                            {move || if live.loading_older.get() { "Loading older messages…" } else { "Load older messages" }}
                        </a>
                    </li>
                </Show>
                <For
                    each=move || live.messages.get()
                    key=|message| message.seq
                    children=move |message| view! { <MessageItem message local_time/> }
                />
                <For
                    each=move || live.outbox.get()
                    key=|outgoing| outgoing.client_id.clone()
                    children=move |outgoing| view! {
                        <li class="message pending" data-testid="sending">
                            <div class="meta"><span class="muted">"sending…"</span></div>
                            <div class="body" inner_html=format::to_html(&outgoing.body, Mentions::default())></div>
                        </li>
                    }
                />
            </ol>
            <p class="typing" aria-live="polite" data-testid="typing">{move || typing_line(&live.typing.get())}</p>
            {move || match live.closed.get() {
                Some(ClosedReason::Deleted) => view! {
                    <p class="notice" role="alert">"This room was deleted. " <a href=url::ROOMS>"Browse rooms"</a></p>
                }.into_any(),
                Some(ClosedReason::Removed) => view! {
                    <p class="notice" role="alert">"You are no longer in this room. " <a href="/">"Back to the directory"</a></p>
                }.into_any(),
                None if is_history => view! {
                    <p class="notice"><a href=url::room(&room)>"Back to the latest messages"</a></p>
                }.into_any(),
                None if is_member => view! { <MessageBox room=room.clone() live/> }.into_any(),
                None => view! { <JoinBox room=room.clone() title=title.clone() join/> }.into_any(),
            }}
        </section>
    }
}

/// Shown instead of the message box to someone previewing a public room.
#[component]
fn JoinBox(room: String, title: String, join: ServerAction<JoinRoom>) -> impl IntoView {
    let error = form_error(move || join.value().get());
    view! {
        <ActionForm action=join attr:class="message-box join">
            <input type="hidden" name="room" value=room/>
            <p>"You are reading " <strong>{title}</strong> ". Join to post and to find it in your sidebar."</p>
            <button type="submit">"Join room"</button>
            <FormError message=error/>
        </ActionForm>
    }
}

#[component]
fn MessageItem(message: ChatMessage, local_time: RwSignal<bool>) -> impl IntoView {
    let created_at = message.created_at.clone();
    let time = move || {
        if local_time.get() {
            live::local_clock(&created_at)
        } else {
            utc_clock(&created_at)
        }
    };
    view! {
        <li class="message" data-seq=message.seq>
            <Avatar name=message.author.display_name.clone() url=message.author.avatar.clone() small=true/>
            <div class="meta">
                <span class="author" title=format!("@{}", message.author.username)>{message.author.display_name}</span>
                <time datetime=message.created_at.clone()>{time}</time>
            </div>
            <div class="body" inner_html=format::to_html(&message.body, Mentions::default())></div>
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
            Ok(body) => {
                live.send(&body);
                input.set_value("");
                live.error.set(None);
            }
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
                aria-label="Message" on:keydown=on_keydown on:input=move |_| live.typed()></textarea>
            <button type="submit">"Send"</button>
            <FormError message=move || live.error.get()/>
            {move || live.slowed.get().then(|| view! {
                <p class="notice" data-testid="slow-down" aria-live="polite">
                    "Slow down: your messages are waiting and go out in a moment."
                </p>
            })}
        </form>
    }
}

/// "Ana is typing…", "Ana and Bob are typing…", "Several people are typing…", or nothing.
fn typing_line(typing: &[(Author, f64)]) -> String {
    match typing {
        [] => String::new(),
        [(one, _)] => format!("{} is typing…", one.display_name),
        [(one, _), (two, _)] => format!("{} and {} are typing…", one.display_name, two.display_name),
        _ => "Several people are typing…".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn utc_clock_reads_hours_and_minutes() {
        assert_eq!(super::utc_clock("2026-11-24T09:05:59.123Z"), "09:05");
        assert_eq!(super::utc_clock("garbage"), "");
    }

    #[test]
    fn the_typing_line_names_up_to_two_people() {
        let person = |name: &str| {
            (super::Author { username: name.to_lowercase(), display_name: name.into(), avatar: None }, 0.0)
        };
        assert_eq!(super::typing_line(&[]), "");
        assert_eq!(super::typing_line(&[person("Ana")]), "Ana is typing…");
        assert_eq!(super::typing_line(&[person("Ana"), person("Bob")]), "Ana and Bob are typing…");
        assert_eq!(super::typing_line(&[person("Ana"), person("Bob"), person("Cy")]), "Several people are typing…");
    }
}
