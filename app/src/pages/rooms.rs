//! `/rooms`: browse the public rooms and create a room (public or private).

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::rooms::{public_rooms, CreateRoom};
use crate::components::{form_error, invalid_while, loaded, query_value, FormError, Skeleton};
use crate::domain::RoomTitle;
use crate::model::PublicRoom;
use crate::url;

#[component]
pub fn RoomsPage() -> impl IntoView {
    let q = query_value("q");
    let rooms = Resource::new(q, |q| public_rooms(Some(q)));
    let create = ServerAction::<CreateRoom>::new();
    let error = form_error(move || create.value().get());
    let title = query_value("title");
    view! {
        <Title text="Rooms"/>
        <section class="card stack">
            <h1>"Create a room"</h1>
            <ActionForm action=create attr:class="stack">
                <label>"Name"
                    <input name="title" required maxlength=RoomTitle::MAX_CHARS value=title placeholder="Rent and repairs"
                        aria-describedby="create-room-error" aria-invalid=invalid_while(error)/>
                </label>
                <fieldset class="choice">
                    <legend>"Who can find it"</legend>
                    <label class="inline-label"><input type="radio" name="visibility" value="public" checked/>
                        "Public: listed here, anyone can join"</label>
                    <label class="inline-label"><input type="radio" name="visibility" value="private"/>
                        "Private: only the people you add"</label>
                </fieldset>
                <FormError message=error id="create-room-error"/>
                <button type="submit" disabled=move || create.pending().get()>"Create room"</button>
            </ActionForm>
        </section>
        <section class="card stack">
            <h1>"Public rooms"</h1>
            <form class="search" method="get" action=url::ROOMS role="search" aria-label="Rooms">
                <input type="search" name="q" value=q aria-label="Search rooms" placeholder="Search rooms"/>
                <button type="submit">"Search"</button>
            </form>
            <Transition fallback=|| view! { <Skeleton label="Loading rooms…" lines=5/> }>
                {move || Suspend::new(async move {
                    loaded(rooms.await, |rooms| if rooms.is_empty() {
                        view! {
                            <p class="muted" data-testid="rooms-empty">
                                {if q().is_empty() { "No public rooms yet: create one with the form above." } else { "No public room matches that search." }}
                            </p>
                        }.into_any()
                    } else {
                        view! {
                            <ul class="room-list" data-testid="public-rooms">
                                {rooms.into_iter().map(|room| view! { <RoomRow room/> }).collect_view()}
                            </ul>
                        }.into_any()
                    })
                })}
            </Transition>
        </section>
    }
}

#[component]
fn RoomRow(room: PublicRoom) -> impl IntoView {
    let members = if room.members == 1 { "1 member".to_owned() } else { format!("{} members", room.members) };
    view! {
        <li class="room-row">
            <a href=url::room(&room.name)>{room.title}</a>
            <span class="muted">{members}</span>
            {room.is_member.then(|| view! { <span class="badge">"joined"</span> })}
        </li>
    }
}
