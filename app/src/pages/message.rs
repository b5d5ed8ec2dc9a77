//! One message in a room: author, time, "(edited)", the quote of the message it answers, its
//! formatted body, its reactions, and its actions (react, reply, edit, delete). Every action
//! is a plain form or link, so it works without JavaScript; once hydrated the same controls
//! go over the room socket and the page changes when the server says so.

use leptos::html;
use leptos::prelude::*;

use super::attach::Attachments;

use crate::calendar;
use crate::components::Avatar;
use crate::domain::{Emoji, MessageBody, REACTION_PALETTE};
use crate::format::{self, Mentions};
use crate::live::room::RoomLive;
use crate::live::{self};
use crate::protocol::{ChatMessage, Quote, Reaction};
use crate::url;

/// Where the quote of `seq` leads without JavaScript: the page of history ending a few
/// messages after it, scrolled to it.
fn history_at(room: &str, seq: i64) -> String {
    format!("{}?before={}#m{seq}", url::room(room), seq + 10)
}

#[component]
pub fn MessageItem(
    message: ChatMessage,
    live: RoomLive,
    local_time: RwSignal<bool>,
    /// The room's name.
    room: String,
    /// Whether the reader may act on messages (a member, on the live page).
    can_act: bool,
    /// Called with a quote's `seq` when it is clicked (once hydrated).
    jump: Callback<i64, bool>,
    /// Whether the "New messages" line goes above this message (until the room is marked read).
    #[prop(optional, into)]
    new_line: Signal<bool>,
) -> impl IntoView {
    let seq = message.seq;
    // The message as it is now: edits and reactions arrive after it.
    let current = Memo::new(move |_| {
        live.messages
            .with(|messages| messages.binary_search_by_key(&seq, |m| m.seq).ok().map(|at| messages[at].clone()))
    });
    let me = live.me.get_value();
    let mine = message.author.username == me && !me.is_empty();
    let created_at = message.created_at.clone();
    let at_ms = calendar::parse_utc(&message.created_at).unwrap_or_default();
    // "just now", "5 min ago", then the clock (local once hydrated); the exact time on hover.
    let time = move || {
        if local_time.get() {
            calendar::relative(at_ms, live.now.get()).unwrap_or_else(|| live::local_clock(&created_at))
        } else {
            created_at.get(11..16).unwrap_or_default().to_owned()
        }
    };
    let body_html = {
        let me = me.clone();
        move || {
            current.with(|m| {
                m.as_ref()
                    .map(|m| format::to_html(&m.body, Mentions { members: &m.mentions, me: Some(&me.to_lowercase()) }))
                    .unwrap_or_default()
            })
        }
    };
    let edited = move || current.with(|m| m.as_ref().and_then(|m| m.edited_at.clone()));
    let quote = move || current.with(|m| m.as_ref().and_then(|m| m.reply_to.clone()));
    let reactions = move || current.with(|m| m.as_ref().map(|m| m.reactions.clone()).unwrap_or_default());
    let highlighted = move || live.highlight.get() == Some(seq);
    let quote_room = room.clone();
    // Grouping and day separators look at the message before this one (a binary search, as
    // for `current`). Days are UTC until hydrated, then the reader's own.
    let previous = Memo::new(move |_| {
        live.messages.with(|messages| {
            let at = messages.binary_search_by_key(&seq, |m| m.seq).ok()?;
            let before = messages.get(at.checked_sub(1)?)?;
            Some((before.author.username.clone(), calendar::parse_utc(&before.created_at).unwrap_or_default()))
        })
    });
    let offset = move || if local_time.get() { live::utc_offset_minutes(at_ms) } else { 0 };
    let author = message.author.username.clone();
    let continued = move || {
        previous.with(|before| {
            !new_line.get()
                && before.as_ref().is_some_and(|(by, ms)| calendar::continues((by, *ms), (&author, at_ms), offset()))
        })
    };
    let day = move || {
        let offset = offset();
        let day = calendar::local_day(at_ms, offset);
        let first_of_day =
            previous.with(|before| before.as_ref().is_none_or(|(_, ms)| calendar::local_day(*ms, offset) != day));
        first_of_day.then(|| calendar::day_label(day, calendar::local_day(live::wall_clock_ms(), offset)))
    };
    let exact = format!("{} UTC", message.created_at.get(..19).unwrap_or_default().replace('T', " "));
    view! {
        {move || day().map(|day| view! { <li class="day"><span>{day}</span></li> })}
        {move || new_line.get().then(|| view! { <li class="new-messages" id="new-messages"><span>"New messages"</span></li> })}
        <li class="message" class:mine=mine class:highlight=highlighted class:continued=continued id=format!("m{seq}") data-seq=seq>
            <Avatar name=message.author.display_name.clone() url=message.author.avatar.clone() small=true/>
            <div class="meta">
                <span class="author" title=format!("@{}", message.author.username)>{message.author.display_name.clone()}</span>
                <time datetime=message.created_at.clone() title=exact>{time}</time>
                {move || edited().map(|at| view! {
                    <span class="edited muted" title=format!("edited {}", at.replace('T', " ").trim_end_matches('Z'))>"(edited)"</span>
                })}
            </div>
            {move || quote().map(|quote| view! { <QuoteLine quote room=quote_room.clone() jump/> })}
            <div class="body" inner_html=body_html></div>
            {move || view! { <Attachments files=current.with(|m| m.as_ref().map(|m| m.attachments.clone()).unwrap_or_default())/> }}
            <Reactions seq reactions=Signal::derive(reactions) me=me.clone() room=room.clone() live can_act/>
            {can_act.then(|| view! { <Actions message=message.clone() live room=room.clone() mine/> })}
        </li>
    }
    .into_any()
}

/// A reply's one line about the message it answers: a link to it.
#[component]
fn QuoteLine(quote: Quote, room: String, jump: Callback<i64, bool>) -> impl IntoView {
    let seq = quote.seq;
    let on_click = move |event: leptos::ev::MouseEvent| {
        if jump.run(seq) {
            event.prevent_default();
        }
    };
    let text = if quote.deleted {
        view! { <span class="muted">"message deleted"</span> }.into_any()
    } else {
        view! { <strong>{quote.author.display_name}</strong> " " <span>{quote.excerpt}</span> }.into_any()
    };
    view! {
        <a class="quote" href=history_at(&room, seq) on:click=on_click data-testid="quote">
            <span aria-hidden="true">"↪ "</span>{text}
        </a>
    }
    .into_any()
}

/// The emoji on a message, each a button that adds or takes back the reader's own.
#[component]
fn Reactions(
    seq: i64,
    reactions: Signal<Vec<Reaction>>,
    me: String,
    room: String,
    live: RoomLive,
    can_act: bool,
) -> impl IntoView {
    view! {
        <Show when=move || reactions.with(|r| !r.is_empty())>
            <div class="reactions">
                <For
                    each=move || reactions.get()
                    key=|reaction| (reaction.emoji.clone(), reaction.count, reaction.people.clone())
                    children={
                        let (me, room) = (me.clone(), room.clone());
                        move |reaction| {
                            let included = reaction.people.contains(&me);
                            let who = reaction.people.join(", ");
                            let label = format!("{} {}: {who}", reaction.emoji, reaction.count);
                            let shown = view! {
                                <span class="emoji">{reaction.emoji.clone()}</span>
                                <span class="count">{reaction.count}</span>
                            };
                            if !can_act {
                                return view! { <span class="reaction" title=who aria-label=label>{shown}</span> }.into_any();
                            }
                            view! {
                                <ReactForm seq emoji=reaction.emoji.clone() on=!included room=room.clone() live
                                    class=if included { "reaction mine" } else { "reaction" }
                                    title=who label pressed=Some(included)>
                                    {shown}
                                </ReactForm>
                            }
                            .into_any()
                        }
                    }
                />
            </div>
        </Show>
    }
    .into_any()
}

/// A form that adds (`on`) or takes back one reaction: a plain post without JavaScript.
#[component]
fn ReactForm(
    seq: i64,
    emoji: String,
    on: bool,
    room: String,
    live: RoomLive,
    class: &'static str,
    title: String,
    label: String,
    pressed: Option<bool>,
    children: Children,
) -> impl IntoView {
    let chosen = emoji.clone();
    let on_submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        if let Ok(emoji) = Emoji::parse(&chosen) {
            live.react(seq, &emoji, on);
        }
        close_menus(&event);
    };
    view! {
        <form class="react-form" method="post" action="/api/react" on:submit=on_submit>
            <input type="hidden" name="room" value=room/>
            <input type="hidden" name="seq" value=seq/>
            <input type="hidden" name="emoji" value=emoji/>
            <input type="hidden" name="on" value=on.to_string()/>
            <button type="submit" class=class title=title aria-label=label aria-pressed=pressed.map(|p| p.to_string())>
                {children()}
            </button>
        </form>
    }
    .into_any()
}

/// Closes the menu (`<details>`) a form was submitted from.
fn close_menus(event: &leptos::ev::SubmitEvent) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let details = event
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .and_then(|form| form.closest("details").ok().flatten());
        if let Some(details) = details {
            let _ = details.remove_attribute("open");
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = event;
}

/// React, reply, and for the author edit and delete (delete also for the room's owner and
/// admins). Shown on hover and keyboard focus.
#[component]
fn Actions(message: ChatMessage, live: RoomLive, room: String, mine: bool) -> impl IntoView {
    let seq = message.seq;
    let reply_href = format!("{}?reply={seq}#composer", url::room(&room));
    let quote =
        Quote { seq, author: message.author.clone(), excerpt: Quote::excerpt_of(&message.body), deleted: false };
    let on_reply = move |event: leptos::ev::MouseEvent| {
        event.prevent_default();
        let quote = Quote {
            excerpt: live
                .messages
                .with_untracked(|m| m.iter().find(|m| m.seq == seq).map(|m| Quote::excerpt_of(&m.body)))
                .unwrap_or_else(|| quote.excerpt.clone()),
            ..quote.clone()
        };
        live.replying.set(Some(quote));
        focus_composer();
    };
    let other: NodeRef<html::Input> = NodeRef::new();
    let on_other = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let Some(input) = other.get() else { return };
        match Emoji::parse(&input.value()) {
            Ok(emoji) => {
                live.react(seq, &emoji, true);
                input.set_value("");
                close_menus(&event);
            }
            Err(error) => live.error.set(Some(error)),
        }
    };
    let palette_room = room.clone();
    view! {
        <div class="actions">
            <details class="menu react-menu">
                <summary aria-label="Add a reaction" title="Add a reaction">"☺+"</summary>
                <div class="palette">
                    {REACTION_PALETTE.iter().map(|emoji| view! {
                        <ReactForm seq emoji=emoji.to_string() on=true room=palette_room.clone() live
                            class="pick" title=format!("React with {emoji}") label=format!("React with {emoji}") pressed=None>
                            {emoji.to_string()}
                        </ReactForm>
                    }).collect_view()}
                    <form class="react-other" method="post" action="/api/react" on:submit=on_other>
                        <input type="hidden" name="room" value=room.clone()/>
                        <input type="hidden" name="seq" value=seq/>
                        <input name="emoji" node_ref=other maxlength=Emoji::MAX_BYTES size="4" aria-label="Another emoji" placeholder="🙂"/>
                        <button type="submit">"Add"</button>
                    </form>
                </div>
            </details>
            <a class="action" href=reply_href on:click=on_reply>"Reply"</a>
            {mine.then(|| view! { <EditMenu message=message.clone() live room=room.clone()/> })}
            {(mine || live.moderates).then(|| view! { <DeleteForm seq live room=room.clone()/> })}
        </div>
    }
    .into_any()
}

/// The author's Edit: a form with the body, opened in place (Up-arrow in an empty composer
/// opens it for the newest one). Enter saves, Escape cancels.
#[component]
fn EditMenu(message: ChatMessage, live: RoomLive, room: String) -> impl IntoView {
    let seq = message.seq;
    let input: NodeRef<html::Textarea> = NodeRef::new();
    let form: NodeRef<html::Form> = NodeRef::new();
    let is_open = move || live.editing.get() == Some(seq);
    // Opening it (from Up-arrow or the summary) puts the current body in the box, focused.
    Effect::new(move |_| {
        if is_open() {
            if let Some(input) = input.get() {
                let body = live
                    .messages
                    .with_untracked(|m| m.iter().find(|m| m.seq == seq).map(|m| m.body.clone()))
                    .unwrap_or_default();
                input.set_value(&body);
                let _ = input.focus();
            }
        }
    });
    let on_toggle = move |event: leptos::ev::Event| {
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            let open =
                event.target().and_then(|t| t.dyn_into::<web_sys::HtmlDetailsElement>().ok()).is_some_and(|d| d.open());
            if open {
                live.editing.set(Some(seq));
            } else if live.editing.get_untracked() == Some(seq) {
                live.editing.set(None);
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = event;
    };
    let on_submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let Some(input) = input.get() else { return };
        match MessageBody::parse(&input.value()) {
            Ok(body) => {
                if live.edit(seq, &body) {
                    live.editing.set(None);
                    live.error.set(None);
                    focus_composer();
                }
            }
            Err(error) => live.error.set(Some(error.message())),
        }
    };
    let on_keydown = move |event: leptos::ev::KeyboardEvent| match event.key().as_str() {
        "Enter" if !event.shift_key() && !event.is_composing() => {
            event.prevent_default();
            if let Some(form) = form.get() {
                let _ = form.request_submit();
            }
        }
        "Escape" => {
            event.prevent_default();
            live.editing.set(None);
            focus_composer();
        }
        _ => {}
    };
    view! {
        <details class="menu edit-menu" prop:open=is_open on:toggle=on_toggle>
            <summary class="action">"Edit"</summary>
            <form class="edit-form" method="post" action="/api/edit_message" node_ref=form on:submit=on_submit>
                <input type="hidden" name="room" value=room/>
                <input type="hidden" name="seq" value=seq/>
                <textarea name="body" node_ref=input rows="2" required maxlength=MessageBody::MAX_CHARS
                    aria-label="Change the text" on:keydown=on_keydown>{message.body.clone()}</textarea>
                <button type="submit">"Save"</button>
                <span class="muted hint">"Enter saves, Escape cancels"</span>
            </form>
        </details>
    }
    .into_any()
}

#[component]
fn DeleteForm(seq: i64, live: RoomLive, room: String) -> impl IntoView {
    let on_submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        #[cfg(feature = "hydrate")]
        {
            let sure = window().confirm_with_message("Delete this message for everyone?").unwrap_or(false);
            if !sure {
                return;
            }
        }
        live.delete(seq);
    };
    view! {
        <form class="delete-form" method="post" action="/api/delete_message" on:submit=on_submit>
            <input type="hidden" name="room" value=room/>
            <input type="hidden" name="seq" value=seq/>
            <button type="submit" class="action danger">"Delete"</button>
        </form>
    }
    .into_any()
}

/// Puts the keyboard back in the message box.
pub fn focus_composer() {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let input =
            document().get_element_by_id("composer-input").and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok());
        if let Some(input) = input {
            let _ = input.focus();
        }
    }
}
