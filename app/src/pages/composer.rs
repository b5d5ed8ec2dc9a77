//! The message box: a plain multipart form that posts to `/api/attach` (so it works without
//! JavaScript, replies and files included); once hydrated, Enter or the button sends over the
//! socket instead and the box clears, or, with files attached, posts them with the message
//! (see `attach`). Typing `@` offers the room's members (arrow keys or the mouse
//! to choose, Tab or Enter to pick, Escape to close); Up-arrow in an empty box edits the
//! reader's newest message.

use leptos::html;
use leptos::prelude::*;

use wasm_bindgen::JsCast;

use super::attach::{Pending, PendingFiles};
use super::message::focus_composer;
use crate::api::rooms::mentionable;
use crate::components::FormError;
use crate::domain::MessageBody;
use crate::live::room::RoomLive;
use crate::protocol::Author;
use crate::url;

/// The `@` being typed before the caret, if any: where it starts (its byte index) and what
/// follows it so far. A mention starts a word, and holds username characters only.
pub fn mention_at(text: &str, caret: usize) -> Option<(usize, String)> {
    let before = text.get(..caret)?;
    let at = before.rfind('@')?;
    let prefix = &before[at + 1..];
    let starts_word = before[..at].chars().next_back().is_none_or(char::is_whitespace);
    let name_chars = prefix.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    (starts_word && name_chars && prefix.len() <= 40).then(|| (at, prefix.to_owned()))
}

/// The text with the mention from `start` to `caret` completed to `@username `, and the
/// caret's new byte index.
pub fn complete(text: &str, start: usize, caret: usize, username: &str) -> (String, usize) {
    let inserted = format!("@{username} ");
    let completed = format!("{}{inserted}{}", &text[..start], &text[caret..]);
    (completed, start + inserted.len())
}

/// The byte index of a UTF-16 offset (what the browser's caret positions count).
fn byte_index(text: &str, utf16: usize) -> usize {
    let mut units = 0;
    for (at, c) in text.char_indices() {
        if units >= utf16 {
            return at;
        }
        units += c.len_utf16();
    }
    text.len()
}

fn utf16_len(text: &str) -> usize {
    text.chars().map(char::len_utf16).sum()
}

#[component]
pub fn MessageBox(room: String, live: RoomLive, pending: Pending) -> impl IntoView {
    let form: NodeRef<html::Form> = NodeRef::new();
    let input: NodeRef<html::Textarea> = NodeRef::new();
    // The members offered for the `@` being typed, which one is chosen, and where it starts.
    let suggestions: RwSignal<Vec<Author>> = RwSignal::new(Vec::new());
    let chosen = RwSignal::new(0_usize);
    let typed_at: StoredValue<Option<(usize, String)>> = StoredValue::new(None);
    let close = move || {
        typed_at.set_value(None);
        if !suggestions.with_untracked(Vec::is_empty) {
            suggestions.set(Vec::new());
        }
    };
    let pick = move |index: usize| {
        let (Some(input), Some((start, _))) = (input.get_untracked(), typed_at.get_value()) else { return };
        let Some(person) = suggestions.with_untracked(|s| s.get(index).cloned()) else { return };
        let text = input.value();
        let caret = byte_index(&text, input.selection_start().ok().flatten().unwrap_or(0) as usize);
        let (completed, at) = complete(&text, start, caret.max(start), &person.username);
        input.set_value(&completed);
        let caret = utf16_len(&completed[..at]) as u32;
        let _ = input.set_selection_range(caret, caret);
        let _ = input.focus();
        close();
    };
    let room_name = StoredValue::new(room.clone());
    let on_input = move |_| {
        live.typed();
        let Some(input) = input.get_untracked() else { return };
        let text = input.value();
        let caret = byte_index(&text, input.selection_start().ok().flatten().unwrap_or(0) as usize);
        let Some((start, prefix)) = mention_at(&text, caret) else {
            close();
            return;
        };
        typed_at.set_value(Some((start, prefix.clone())));
        leptos::task::spawn_local(async move {
            let found = mentionable(room_name.get_value(), prefix.clone()).await.unwrap_or_default();
            // Only if that is still what is being typed.
            if typed_at.get_value().is_some_and(|(_, now)| now == prefix) {
                chosen.set(0);
                suggestions.set(found);
            }
        });
    };
    let on_submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let Some(input) = input.get() else { return };
        if !pending.is_empty() {
            if pending.progress.get_untracked().is_some() {
                return;
            }
            let body = match MessageBody::caption(&input.value()) {
                Ok(body) => body,
                Err(error) => return live.error.set(Some(error.message())),
            };
            let mut fields = vec![
                ("room", room_name.get_value()),
                ("body", body.as_str().to_owned()),
                ("client_id", crate::live::new_client_id()),
            ];
            if let Some(quote) = live.replying.get_untracked() {
                fields.push(("reply_to", quote.seq.to_string()));
            }
            live.error.set(None);
            let sent = pending.send(&fields, move |error| match error {
                None if pending.is_empty() => {
                    input.set_value("");
                    live.replying.set(None);
                }
                None => {}
                Some(error) => live.error.set(Some(error)),
            });
            if sent.is_err() {
                live.error.set(Some("the files could not be sent from this browser: try again".into()));
            }
            return;
        }
        match MessageBody::parse(&input.value()) {
            Err(error) => live.error.set(Some(error.message())),
            Ok(body) => {
                live.send(&body);
                input.set_value("");
                live.error.set(None);
                close();
            }
        }
    };
    let on_keydown = move |event: leptos::ev::KeyboardEvent| {
        let offered = suggestions.with_untracked(Vec::len);
        let key = event.key();
        if offered > 0 {
            match key.as_str() {
                "ArrowDown" => {
                    event.prevent_default();
                    chosen.update(|c| *c = (*c + 1) % offered);
                    return;
                }
                "ArrowUp" => {
                    event.prevent_default();
                    chosen.update(|c| *c = (*c + offered - 1) % offered);
                    return;
                }
                "Enter" | "Tab" if !event.shift_key() => {
                    event.prevent_default();
                    pick(chosen.get_untracked());
                    return;
                }
                "Escape" => {
                    event.prevent_default();
                    close();
                    return;
                }
                _ => {}
            }
        }
        match key.as_str() {
            "Enter" if !event.shift_key() && !event.is_composing() => {
                event.prevent_default();
                if let Some(form) = form.get() {
                    let _ = form.request_submit();
                }
            }
            "ArrowUp" if input.get_untracked().is_some_and(|i| i.value().is_empty()) => {
                if let Some(seq) = live.my_last_message() {
                    event.prevent_default();
                    live.editing.set(Some(seq));
                }
            }
            "Escape" if live.replying.with_untracked(Option::is_some) => {
                event.prevent_default();
                live.replying.set(None);
            }
            _ => {}
        }
    };
    let cancel_href = url::room(&room);
    let on_cancel_reply = move |event: leptos::ev::MouseEvent| {
        event.prevent_default();
        live.replying.set(None);
        focus_composer();
    };
    let active = move || {
        suggestions.with(|s| s.get(chosen.get()).map(|p| format!("mention-{}", p.username))).unwrap_or_default()
    };
    view! {
        <form class="message-box" id="composer" method="post" action=url::ATTACH enctype="multipart/form-data"
            node_ref=form on:submit=on_submit>
            <input type="hidden" name="room" value=room/>
            {move || live.replying.get().map(|quote| view! {
                <input type="hidden" name="reply_to" value=quote.seq/>
                <p class="replying" data-testid="replying">
                    "Replying to " <strong>{quote.author.display_name.clone()}</strong> ": "
                    <span class="muted">{quote.excerpt.clone()}</span>
                    " " <a href=cancel_href.clone() on:click=on_cancel_reply aria-label="Cancel the reply">"Cancel"</a>
                </p>
            })}
            <textarea name="body" id="composer-input" node_ref=input rows="2" maxlength=MessageBody::MAX_CHARS
                placeholder="Write a message… (Enter sends, Shift+Enter for a new line, @ to mention)"
                // A text box that suggests (ARIA allows `combobox` only on one-line inputs).
                aria-label="Message" aria-autocomplete="list" aria-controls="mention-list"
                aria-activedescendant=active
                on:keydown=on_keydown on:input=on_input
                on:paste=move |event: leptos::ev::ClipboardEvent| {
                    // A pasted image (a screenshot) goes with the message.
                    let files = event.clipboard_data().and_then(|data| data.files()).filter(|f| f.length() > 0);
                    if files.is_some() {
                        event.prevent_default();
                        pending.add(files);
                    }
                }
                on:blur=move |_| {
                    // After a click on a suggestion has had its turn.
                    set_timeout(close, std::time::Duration::from_millis(150));
                }></textarea>
            <ul class="mentions" id="mention-list" role="listbox" aria-label="People to mention"
                hidden=move || suggestions.with(Vec::is_empty)>
                {move || suggestions.get().into_iter().enumerate().map(|(index, person)| view! {
                    <li role="option" id=format!("mention-{}", person.username)
                        aria-selected=move || (chosen.get() == index).to_string()
                        on:mousedown=move |event: leptos::ev::MouseEvent| {
                            event.prevent_default();
                            pick(index);
                        }>
                        <strong>{person.display_name.clone()}</strong> " " <span class="muted">"@"{person.username.clone()}</span>
                    </li>
                }).collect_view()}
            </ul>
            <label class="attach" title="Attach files (or drop them on the room, or paste an image)">
                <span aria-hidden="true">"📎"</span>
                <span class="visually-hidden">"Attach files"</span>
                <input type="file" name="file" multiple class="visually-hidden" data-testid="file-input"
                    on:change=move |event: leptos::ev::Event| {
                        let Some(picker) = event.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) else { return };
                        pending.add(picker.files());
                        // Chosen once: the list below holds them now.
                        picker.set_value("");
                    }/>
            </label>
            <button type="submit">"Send"</button>
            <PendingFiles pending/>
            <FormError message=move || live.error.get()/>
            {move || live.slowed.get().then(|| view! {
                <p class="notice" data-testid="slow-down" aria-live="polite">
                    "Slow down: your messages are waiting and go out in a moment."
                </p>
            })}
        </form>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mention_is_an_at_sign_starting_a_word_before_the_caret() {
        assert_eq!(mention_at("hi @an", 6), Some((3, "an".into())));
        assert_eq!(mention_at("@", 1), Some((0, String::new())));
        assert_eq!(mention_at("hi @an there", 12), None, "the caret left the word");
        assert_eq!(mention_at("mail ana@example", 16), None, "an email is no mention");
        assert_eq!(mention_at("é @bö", "é @b".len()), Some(("é ".len(), "b".into())));
        assert_eq!(mention_at("x", 5), None);
    }

    #[test]
    fn completing_replaces_what_was_typed_and_moves_the_caret_past_it() {
        let (text, caret) = complete("hi @an and more", 3, 6, "anna");
        assert_eq!(text, "hi @anna  and more");
        assert_eq!(&text[..caret], "hi @anna ");
    }

    #[test]
    fn caret_offsets_count_utf16_units() {
        assert_eq!(byte_index("😀a", 2), 4);
        assert_eq!(byte_index("😀a", 3), 5);
        assert_eq!(utf16_len("😀a"), 3);
    }
}
