//! `/` and `/profiles/`: the people the signed-in person may see, with a search that runs on
//! the server. Without JavaScript the search is a plain GET form (`?q=`); once hydrated it
//! filters as you type, keeping the URL in step. `/chat/<username>/` starts a one-to-one chat.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;
use leptos_router::hooks::{use_navigate, use_params_map};
use leptos_router::NavigateOptions;

use crate::api::people::{directory, start_chat, OpenChat, CONFIRM_CROSS_SITE};
use crate::components::{loaded, query_value, PersonSummary, Skeleton};
use crate::error::AppError;
use crate::model::Person;
use crate::url;
use crate::url::with_query;

#[component]
pub fn DirectoryPage() -> impl IntoView {
    let q = query_value("q");
    let people = Resource::new(q, |q| directory(Some(q)));
    let navigate = use_navigate();
    let on_input = move |event: leptos::ev::Event| {
        let query = event_target_value(&event);
        navigate(
            &with_query(url::DIRECTORY, &query),
            NavigateOptions { replace: true, scroll: false, ..Default::default() },
        );
    };
    view! {
        <Title text="People"/>
        <section class="card directory">
            <h1>"People"</h1>
            <form class="search" method="get" action=url::DIRECTORY role="search" aria-label="People"
                on:submit=|event: leptos::ev::SubmitEvent| event.prevent_default()>
                <input type="search" name="q" value=q on:input=on_input aria-label="Search people"
                    placeholder="Search by name, username or role" autocomplete="off"/>
                <button type="submit">"Search"</button>
            </form>
            <Transition fallback=|| view! { <Skeleton label="Loading people…" lines=5/> }>
                {move || Suspend::new(async move {
                    loaded(people.await, |people| if people.is_empty() {
                        view! {
                            <p class="muted" data-testid="directory-empty">
                                {if q().is_empty() { "Nobody else shares a role with you yet." } else { "Nobody matches that search." }}
                            </p>
                        }.into_any()
                    } else {
                        view! {
                            <ul class="people" data-testid="directory">
                                {people.into_iter().map(|person| view! { <PersonRow person/> }).collect_view()}
                            </ul>
                        }.into_any()
                    })
                })}
            </Transition>
        </section>
    }
}

#[component]
fn PersonRow(person: Person) -> impl IntoView {
    let chat = url::chat_with(&person.username);
    let label = format!("Message {}", person.display_name);
    view! {
        <li class="person" data-username=person.username.clone()>
            <PersonSummary person=person.clone()/>
            <ul class="roles" aria-label="Roles">
                {person.roles.clone().into_iter().map(|role| view! { <li class="role">{role}</li> }).collect_view()}
            </ul>
            <a class="button" href=chat aria-label=label>"Message"</a>
        </li>
    }
}

/// `/chat/<username>/`: finds or creates the one-to-one room and goes there. Yourself leads to
/// the directory; someone unknown (or not in your directory) is a 404.
#[component]
pub fn StartChat() -> impl IntoView {
    let params = use_params_map();
    let username = move || params.read().get("username").unwrap_or_default();
    let room = Resource::new(username, start_chat);
    let open = ServerAction::<OpenChat>::new();
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Opening the chat…"</p> }>
            {move || Suspend::new(async move {
                match room.await {
                    // A link from another site: nothing happens until the person confirms.
                    Err(AppError::NotAllowed(why)) if why == CONFIRM_CROSS_SITE => view! {
                        <Title text="Start a chat?"/>
                        <section class="card narrow stack" data-testid="confirm-chat">
                            <h1>"Start a private chat with @"{username()}"?"</h1>
                            <p class="muted">"You followed a link from another site. Chats start only when you say so."</p>
                            <ActionForm action=open>
                                <input type="hidden" name="username" value=username()/>
                                <button type="submit">"Start the chat"</button>
                            </ActionForm>
                            <p><a href=url::DIRECTORY>"No, back to people"</a></p>
                        </section>
                    }
                    .into_any(),
                    other => loaded(other, |room| match room {
                        Some(room) => view! { <Redirect path=url::room(&room)/> }.into_any(),
                        None => view! { <Redirect path=url::DIRECTORY/> }.into_any(),
                    }),
                }
            })}
        </Suspense>
    }
}
