//! `/chat/room/<name>/`: the room's latest messages (in the server-rendered HTML), who is
//! online, and the message box. Once hydrated, the room socket keeps both live, and scrolling
//! up loads older messages in pages of 50. Without JavaScript, "Load older messages" is a link
//! to `?before=<seq>`, a still page of the 50 before it.

use leptos::form::ActionForm;
use leptos::html;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::attach::{dragged_files, Pending};
use super::composer::MessageBox;
use super::message::focus_composer;
use super::message::MessageItem;
use crate::api::rooms::{get_room, history, JoinRoom};
use crate::components::{form_error, loaded, Avatar, FormError, OnlineDot, Skeleton};
use crate::domain::RoomName;
use crate::format::{self, Mentions};
use crate::live::room::RoomLive;
use crate::live::{self, Status};
use crate::model::{RoomKind, RoomPage as RoomData};
use crate::protocol::{Author, ClosedReason, Quote};
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
        <Suspense fallback=|| view! { <Skeleton label="Loading the room…" lines=8 messages=true/> }>
            {move || Suspend::new(async move {
                loaded(page.await, |page| view! { <Room page join/> }.into_any())
            })}
        </Suspense>
    }
}

#[component]
fn Room(page: RoomData, join: ServerAction<JoinRoom>) -> impl IntoView {
    let live = RoomLive::new(&page);
    // `?reply=<seq>` (the Reply link without JavaScript) opens the page answering that message.
    let query = use_query_map();
    let replying = query.read_untracked().get("reply").and_then(|seq| seq.parse::<i64>().ok());
    if let Some(message) = replying.and_then(|seq| page.messages.iter().find(|m| m.seq == seq)) {
        live.replying.set(Some(Quote {
            seq: message.seq,
            author: message.author.clone(),
            excerpt: Quote::excerpt_of(&message.body),
            deleted: false,
        }));
    }
    // A page of older messages stays still; the latest messages stay live.
    if !page.is_history {
        live::room::connect(live);
    }

    let list: NodeRef<html::Ol> = NodeRef::new();
    // Files waiting to go with the next message, and why the last post (without JavaScript)
    // was refused.
    let pending = Pending::new();
    if let Some(refused) = query.read_untracked().get("attach_error") {
        live.error.set(Some(refused));
    }
    let (is_member, is_history) = (page.is_member, page.is_history);
    // The "New messages" line: above the first message the reader had not read when the page
    // was read; it stays there while the page is open, until Escape marks the room read.
    let unread_from = RwSignal::new(page.first_unread());
    // Whether the reader is at the newest message; scrolling up to read history unsets it, so
    // arriving messages do not pull them back down.
    let at_bottom = StoredValue::new(true);
    // Scrolled up: the "Jump to latest" button shows, with the messages that arrived below.
    let scrolled_up = RwSignal::new(false);
    let seen_last = RwSignal::new(page.messages.last().map(|m| m.seq));
    let new_below = move || {
        let seen = seen_last.get().unwrap_or(0);
        live.messages.with(|messages| messages.iter().rev().take_while(|m| m.seq > seen).count())
    };
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
                    seen_last.set(last);
                }
                // Opening the room: if the first unread message is above the screen, start there.
                if shown.is_none() && unread_from.get_untracked().is_some() {
                    if let Some(line) = document().get_element_by_id("new-messages") {
                        let above = line.get_bounding_client_rect().top() - ol.get_bounding_client_rect().top();
                        if above < 0.0 {
                            ol.set_scroll_top(ol.scroll_top() + above as i32 - 8);
                            at_bottom.set_value(false);
                            scrolled_up.set(true);
                        }
                    }
                }
                last
            }
            None => None,
        }
    });
    // Escape (anywhere on the page; the switcher puts the focus back in the message box) marks
    // the room read: the "New messages" line goes, and so does the count of new ones below.
    let _escape = window_event_listener(leptos::ev::keydown, move |event| {
        if event.key() == "Escape" && !is_history {
            unread_from.set(None);
            seen_last.set(live.messages.with_untracked(|m| m.last().map(|m| m.seq)));
            live.mark_read();
        }
    });
    let jump_to_latest = move |_| {
        if let Some(ol) = list.get_untracked() {
            ol.set_scroll_top(ol.scroll_height());
        }
        at_bottom.set_value(true);
        scrolled_up.set(false);
        seen_last.set(live.messages.with_untracked(|m| m.last().map(|m| m.seq)));
        focus_composer();
    };
    // Opened at a message (`#m<seq>`, from a search result or a link): once the list is on
    // screen, bring it into view and highlight it. Runs once.
    Effect::new(move |done: Option<bool>| {
        if done == Some(true) || list.get().is_none() {
            return done.unwrap_or(false);
        }
        let target = window().location().hash().ok().and_then(|hash| hash.strip_prefix("#m")?.parse::<i64>().ok());
        if let Some(seq) = target.filter(|seq| live.messages.with_untracked(|m| m.iter().any(|m| m.seq == *seq))) {
            at_bottom.set_value(false);
            show_message(live, seq);
        }
        true
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
            let bottom = ol.scroll_height() - ol.client_height() - ol.scroll_top() < 40;
            at_bottom.set_value(bottom);
            if bottom {
                seen_last.set(live.messages.with_untracked(|m| m.last().map(|m| m.seq)));
            }
            if scrolled_up.get_untracked() == bottom {
                scrolled_up.set(!bottom);
            }
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
    // Following a reply's quote: to the message if it is shown, else after loading the pages
    // of history before it (up to 10); further back, the link's own history page.
    let jump = {
        let name = name.clone();
        Callback::new(move |seq: i64| -> bool {
            if live.messages.with_untracked(|m| m.iter().any(|m| m.seq == seq)) {
                show_message(live, seq);
                return true;
            }
            if page.is_history || !live.has_older.get_untracked() {
                return false;
            }
            let name = name.clone();
            leptos::task::spawn_local(async move {
                for _ in 0..JUMP_PAGES {
                    let Some(before) = live.first_seq() else { break };
                    match history(name.clone(), before).await {
                        Ok(older) => live.prepend(older.messages, older.has_older),
                        Err(error) => {
                            live.error.set(Some(error.to_string()));
                            return;
                        }
                    }
                    if live.first_seq().is_some_and(|first| first <= seq) || !live.has_older.get_untracked() {
                        break;
                    }
                }
                at_bottom.set_value(false);
                show_message(live, seq);
            });
            true
        })
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
    let room = name.clone();
    view! {
        // The document title outlives this view by a moment when the room reloads (after
        // joining, say), so it must not insist on the signal still being there.
        <Title text=move || live.title.try_get().unwrap_or_default()/>
        <section class="room"
            on:dragover=move |event: leptos::ev::DragEvent| {
                // Files may be dropped anywhere on the room (when one may post there).
                if is_member && !is_history {
                    event.prevent_default();
                }
            }
            on:drop=move |event: leptos::ev::DragEvent| {
                if let Some(files) = dragged_files(&event).filter(|_| is_member && !is_history) {
                    event.prevent_default();
                    pending.add(Some(files));
                    focus_composer();
                }
            }>
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
                <Show when=move || {
                    !live.has_older.get() && live.messages.with(Vec::is_empty) && live.outbox.with(Vec::is_empty)
                }>
                    <li class="empty-room" data-testid="room-empty">
                        {if is_member { "No messages yet. Write the first one below." } else { "No messages yet. Join the room to write the first one." }}
                    </li>
                </Show>
                <For
                    each=move || live.messages.get()
                    key=|message| message.seq
                    children={
                        let room = name.clone();
                        let can_act = is_member && !is_history;
                        move |message| {
                            let seq = message.seq;
                            let new_line = Signal::derive(move || unread_from.get() == Some(seq));
                            view! { <MessageItem message live local_time room=room.clone() can_act jump new_line/> }
                        }
                    }
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
            <div class="jump-anchor">
                <Show when=move || scrolled_up.get() && !is_history>
                    <button type="button" class="jump-latest" on:click=jump_to_latest>
                        "Jump to latest"
                        {move || match new_below() {
                            0 => String::new(),
                            n => format!(" ({n} new)"),
                        }}
                    </button>
                </Show>
            </div>
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
                None if is_member => view! { <MessageBox room=room.clone() live pending/> }.into_any(),
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

/// How many pages of history a followed quote may load before its message.
const JUMP_PAGES: usize = 10;

/// Scrolls a shown message into view and highlights it for a moment.
fn show_message(live: RoomLive, seq: i64) {
    live.highlight.set(Some(seq));
    #[cfg(feature = "hydrate")]
    {
        request_animation_frame(move || {
            if let Some(element) = document().get_element_by_id(&format!("m{seq}")) {
                let options = web_sys::ScrollIntoViewOptions::new();
                options.set_block(web_sys::ScrollLogicalPosition::Center);
                element.scroll_into_view_with_scroll_into_view_options(&options);
            }
        });
        set_timeout(
            move || {
                if live.highlight.try_get_untracked().flatten() == Some(seq) {
                    live.highlight.set(None);
                }
            },
            std::time::Duration::from_secs(2),
        );
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
