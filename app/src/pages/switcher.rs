//! The keyboard's way around: Ctrl+K (⌘K) opens a quick switcher over your rooms and the
//! people you may see; Alt+Up and Alt+Down go to the room above or below in the sidebar;
//! Escape (outside a box or menu) returns to the message box.

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use crate::api::people::directory;
use crate::session::Session;
use crate::url;

/// One thing the switcher can go to.
#[derive(Clone, Debug, PartialEq)]
struct Target {
    label: String,
    detail: &'static str,
    href: String,
}

/// The rooms matching `query` (title or name, ignoring case), in the sidebar's order.
fn matching_rooms(session: Session, query: &str) -> Vec<Target> {
    let query = query.trim().to_lowercase();
    session.rooms.with(|rooms| {
        rooms
            .iter()
            .filter(|room| room.title.to_lowercase().contains(&query) || room.name.contains(&query))
            .map(|room| Target {
                label: room.title.clone(),
                detail: if room.other.is_some() { "private chat" } else { "room" },
                href: url::room(&room.name),
            })
            .take(8)
            .collect()
    })
}

#[component]
pub fn QuickSwitcher() -> impl IntoView {
    let session = expect_context::<Session>();
    let open = RwSignal::new(false);
    let query = RwSignal::new(String::new());
    let selected = RwSignal::new(0usize);
    let input: NodeRef<leptos::html::Input> = NodeRef::new();
    let people = Resource::new(
        move || (open.get(), query.get()),
        |(open, q)| async move {
            if !open || q.trim().is_empty() {
                return Vec::new();
            }
            directory(Some(q)).await.unwrap_or_default()
        },
    );
    let targets = Memo::new(move |_| {
        let q = query.get();
        let mut targets = matching_rooms(session, &q);
        let me = session.user.get().and_then(|u| u.ok().flatten()).map(|u| u.username).unwrap_or_default();
        let people = people.get().unwrap_or_default();
        targets.extend(people.into_iter().filter(|p| p.username != me).take(8).map(|person| Target {
            label: format!("{} (@{})", person.display_name, person.username),
            detail: "person",
            href: url::chat_with(&person.username),
        }));
        targets
    });
    let navigate = use_navigate();
    let go = Callback::new(move |href: String| {
        open.set(false);
        navigate(&href, Default::default());
    });
    let close = move || {
        open.set(false);
        super::message::focus_composer();
    };
    let navigate_rooms = use_navigate();
    let _keys = window_event_listener(leptos::ev::keydown, move |event| {
        let key = event.key();
        let signed_in = session.user.get_untracked().is_some_and(|user| matches!(user, Ok(Some(_))));
        if !signed_in {
            return;
        }
        if (event.ctrl_key() || event.meta_key()) && key.eq_ignore_ascii_case("k") {
            event.prevent_default();
            query.set(String::new());
            selected.set(0);
            open.set(true);
        } else if event.alt_key() && (key == "ArrowUp" || key == "ArrowDown") && !open.get_untracked() {
            event.prevent_default();
            let here = window().location().pathname().unwrap_or_default();
            let hrefs: Vec<String> = session.rooms.with_untracked(|r| r.iter().map(|r| url::room(&r.name)).collect());
            if hrefs.is_empty() {
                return;
            }
            let at = hrefs.iter().position(|h| h.trim_end_matches('/') == here.trim_end_matches('/'));
            let next = match (at, key.as_str()) {
                (Some(i), "ArrowUp") => (i + hrefs.len() - 1) % hrefs.len(),
                (Some(i), _) => (i + 1) % hrefs.len(),
                (None, _) => 0,
            };
            navigate_rooms(&hrefs[next], Default::default());
        } else if key == "Escape" && !open.get_untracked() {
            // Outside a text box, Escape goes back to writing.
            let typing =
                document().active_element().is_some_and(|e| matches!(e.tag_name().as_str(), "INPUT" | "TEXTAREA"));
            if !typing {
                super::message::focus_composer();
            }
        }
    });
    Effect::new(move |_| {
        if open.get() {
            if let Some(input) = input.get() {
                let _ = input.focus();
            }
        }
    });
    let on_keydown = move |event: leptos::ev::KeyboardEvent| match event.key().as_str() {
        "Escape" => {
            event.prevent_default();
            event.stop_propagation();
            close();
        }
        "ArrowDown" | "ArrowUp" => {
            event.prevent_default();
            let n = targets.with(Vec::len);
            if n > 0 {
                let down = event.key() == "ArrowDown";
                selected.update(|s| *s = if down { (*s + 1) % n } else { (*s + n - 1) % n });
            }
        }
        "Enter" => {
            event.prevent_default();
            if let Some(target) = targets.with(|t| t.get(selected.get_untracked()).cloned()) {
                go.run(target.href);
            }
        }
        _ => {}
    };
    view! {
        <Show when=move || open.get()>
            <div class="switcher-backdrop" on:click=move |_| close()></div>
            <div class="switcher" role="dialog" aria-modal="true" aria-label="Go to a room or person">
                <input type="search" node_ref=input aria-label="Go to a room or person" placeholder="Go to a room or person…"
                    role="combobox" aria-expanded="true" aria-controls="switcher-list" aria-autocomplete="list"
                    aria-activedescendant=move || format!("switch-{}", selected.get())
                    prop:value=move || query.get()
                    on:input=move |event| {
                        query.set(event_target_value(&event));
                        selected.set(0);
                    }
                    on:keydown=on_keydown/>
                <ul id="switcher-list" role="listbox" aria-label="Matches">
                    {move || {
                        let targets = targets.get();
                        if targets.is_empty() {
                            return view! { <li class="muted empty" role="option" aria-disabled="true" aria-selected="false">"Nothing matches: type part of a room's or a person's name."</li> }.into_any();
                        }
                        targets.into_iter().enumerate().map(|(i, target)| {
                            let href = target.href.clone();
                            view! {
                                <li id=format!("switch-{i}") role="option" aria-selected=move || (selected.get() == i).to_string()
                                    on:click=move |_| go.run(href.clone())>
                                    <span>{target.label}</span>" "<small class="muted">{target.detail}</small>
                                </li>
                            }
                        }).collect_view().into_any()
                    }}
                </ul>
            </div>
        </Show>
    }
}
