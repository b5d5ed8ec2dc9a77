//! `/chat/room/<name>/settings`: a group room's members. The owner adds people from their
//! directory, removes members, hands the room over, renames it and deletes it (after typing
//! its name); other members can leave. Every action is a form that works without JavaScript.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::people::directory;
use crate::api::rooms::{get_room_settings, AddMember, DeleteRoom, LeaveRoom, RemoveMember, RenameRoom, TransferRoom};
use crate::components::{form_error, loaded, FormError, PersonSummary};
use crate::domain::RoomTitle;
use crate::model::{Person, RoomKind, RoomSettings};
use crate::url;

/// The page's actions: one of each, shared by every row's form.
#[derive(Clone, Copy)]
struct Actions {
    add: ServerAction<AddMember>,
    remove: ServerAction<RemoveMember>,
    transfer: ServerAction<TransferRoom>,
    rename: ServerAction<RenameRoom>,
    delete: ServerAction<DeleteRoom>,
    leave: ServerAction<LeaveRoom>,
}

impl Actions {
    fn version(&self) -> usize {
        self.add.version().get()
            + self.remove.version().get()
            + self.transfer.version().get()
            + self.rename.version().get()
    }
}

#[component]
pub fn RoomSettingsPage() -> impl IntoView {
    let params = use_params_map();
    let actions = Actions {
        add: ServerAction::new(),
        remove: ServerAction::new(),
        transfer: ServerAction::new(),
        rename: ServerAction::new(),
        delete: ServerAction::new(),
        leave: ServerAction::new(),
    };
    let settings = Resource::new(
        move || (params.read().get("name").unwrap_or_default(), actions.version()),
        |(name, _)| get_room_settings(name),
    );
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                loaded(settings.await, |settings| view! { <Settings settings actions/> }.into_any())
            })}
        </Suspense>
    }
}

#[component]
fn Settings(settings: RoomSettings, actions: Actions) -> impl IntoView {
    let room = settings.room.name.clone();
    let error = form_error(move || {
        // The most recent failure among the page's forms.
        [
            actions.add.value().get(),
            actions.remove.value().get(),
            actions.transfer.value().get(),
            actions.rename.value().get(),
            actions.delete.value().get(),
            actions.leave.value().get(),
        ]
        .into_iter()
        .flatten()
        .find(Result::is_err)
    });
    let owner = settings.owner.clone().unwrap_or_default();
    let is_owner = settings.is_owner;
    let is_member = settings.is_member;
    let members = settings.members.clone();
    let kind = if settings.room.kind == RoomKind::Private { "Private room" } else { "Public room" };
    view! {
        <Title text=format!("Members of {}", settings.room.title)/>
        <section class="card stack settings">
            <p><a href=url::room(&room)>"← Back to the room"</a></p>
            <h1>{settings.room.title.clone()}</h1>
            <p class="muted">{kind} " · owned by @" {owner.clone()}</p>
            <FormError message=error/>
            <h2>"Members"</h2>
            <ul class="people" data-testid="members">
                {members.into_iter().map(|person| {
                    let is_room_owner = person.username == owner;
                    view! { <MemberRow person room=room.clone() is_room_owner can_manage=is_owner actions/> }
                }).collect_view()}
            </ul>
            {is_owner.then(|| view! { <OwnerForms room=room.clone() title=settings.room.title.clone() actions/> })}
            {(!is_owner && is_member).then(|| view! {
                <ActionForm action=actions.leave attr:class="inline">
                    <input type="hidden" name="room" value=room.clone()/>
                    <button type="submit" class="secondary">"Leave this room"</button>
                </ActionForm>
            })}
        </section>
    }
}

#[component]
fn MemberRow(person: Person, room: String, is_room_owner: bool, can_manage: bool, actions: Actions) -> impl IntoView {
    let (room2, username2) = (room.clone(), person.username.clone());
    let username = person.username.clone();
    view! {
        <li class="person" data-username=person.username.clone()>
            <PersonSummary person=person.clone()/>
            {is_room_owner.then(|| view! { <span class="badge">"owner"</span> })}
            {(can_manage && !is_room_owner).then(|| view! {
                <ActionForm action=actions.transfer attr:class="inline">
                    <input type="hidden" name="room" value=room.clone()/>
                    <input type="hidden" name="username" value=username.clone()/>
                    <button type="submit" class="secondary" aria-label=format!("Make {} the owner", username.clone())>"Make owner"</button>
                </ActionForm>
                <ActionForm action=actions.remove attr:class="inline">
                    <input type="hidden" name="room" value=room2.clone()/>
                    <input type="hidden" name="username" value=username2.clone()/>
                    <button type="submit" class="danger" aria-label=format!("Remove {}", username2)>"Remove"</button>
                </ActionForm>
            })}
        </li>
    }
}

#[component]
fn OwnerForms(room: String, title: String, actions: Actions) -> impl IntoView {
    // Suggestions for "add a person": the owner's directory.
    let people = Resource::new(|| (), |_| directory(None));
    let (room_add, room_rename, room_delete) = (room.clone(), room.clone(), room);
    let title_delete = title.clone();
    view! {
        <h2>"Add a person"</h2>
        <ActionForm action=actions.add attr:class="row-form">
            <input type="hidden" name="room" value=room_add/>
            <input name="username" required list="directory-people" aria-label="Username to add" placeholder="username"/>
            <datalist id="directory-people">
                <Transition fallback=|| ()>
                    {move || Suspend::new(async move {
                        people.await.unwrap_or_default().into_iter().map(|p| view! {
                            <option value=p.username.clone()>{p.display_name.clone()}</option>
                        }).collect_view()
                    })}
                </Transition>
            </datalist>
            <button type="submit">"Add"</button>
        </ActionForm>
        <h2>"Rename"</h2>
        <ActionForm action=actions.rename attr:class="row-form">
            <input type="hidden" name="room" value=room_rename/>
            <input name="title" required maxlength=RoomTitle::MAX_CHARS value=title aria-label="New name"/>
            <button type="submit">"Rename"</button>
        </ActionForm>
        <h2>"Delete"</h2>
        <ActionForm action=actions.delete attr:class="stack danger-zone">
            <input type="hidden" name="room" value=room_delete/>
            <label>"This deletes the room and all its messages for everyone. Type its name, "
                <strong>{title_delete}</strong> ", to confirm."
                <input name="confirm" required autocomplete="off" aria-label="Room name to confirm"/>
            </label>
            <button type="submit" class="danger">"Delete room"</button>
        </ActionForm>
    }
}
