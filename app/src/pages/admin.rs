//! `/admin` (people and rooms) and `/admin/room/<name>` (a room's latest messages, each with a
//! delete button). Admins only: anyone else gets the not-found page, as if it did not exist.
//! Every control is an `ActionForm`, so the page works before (or without) the WASM too.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::admin::*;
use crate::components::{form_error, loaded, Avatar, FormError};
use crate::model::{AdminOverview, AdminRoomPage, AdminUser, RoomKind};
use crate::url;

#[component]
pub fn AdminPage() -> impl IntoView {
    let suspend = ServerAction::<AdminSetSuspended>::new();
    let roles = ServerAction::<AdminSetRoles>::new();
    let flag = ServerAction::<AdminSetAdmin>::new();
    let reset = ServerAction::<AdminResetPassword>::new();
    let delete_room = ServerAction::<AdminDeleteRoom>::new();
    let overview = Resource::new(
        move || (suspend.version().get(), roles.version().get(), flag.version().get(), delete_room.version().get()),
        |_| get_admin_overview(),
    );
    // Whichever action failed last says why (or, after a plain form post, the query does).
    let error = form_error(move || {
        let results = [suspend.value().get(), roles.value().get(), flag.value().get(), delete_room.value().get()];
        results.into_iter().flatten().find(Result::is_err)
    });
    let reset_error = form_error(move || reset.value().get());
    view! {
        <Title text="Admin"/>
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                loaded(overview.await, |AdminOverview { users, rooms }| view! {
                    <section class="card stack admin">
                        <h1>"Admin"</h1>
                        <FormError message=error/>
                        <h2>"People " <small class="muted">{users.len()}</small></h2>
                        {move || reset.value().get().and_then(Result::ok).map(|link| view! {
                            <p class="notice-ok" role="status">"One-time link (72 hours; give it to them privately): "
                                <code data-testid="password-link">{link}</code></p>
                        })}
                        <FormError message=reset_error/>
                        <table class="admin-table" data-testid="admin-users">
                            <thead><tr><th>"Person"</th><th>"Email"</th><th>"Roles"</th><th>"State"</th><th>"Actions"</th></tr></thead>
                            <tbody>
                                {users.into_iter().map(|user| view! { <UserRow user suspend roles flag reset/> }).collect_view()}
                            </tbody>
                        </table>
                        <h2>"Rooms " <small class="muted">{rooms.len()}</small></h2>
                        <table class="admin-table" data-testid="admin-rooms">
                            <thead><tr><th>"Room"</th><th>"Kind"</th><th>"Owner"</th><th>"Members"</th><th>"Messages"</th><th>"Actions"</th></tr></thead>
                            <tbody>
                                {rooms.into_iter().map(|room| {
                                    let deletable = room.name != crate::domain::RoomName::PUBLIC;
                                    let name = room.name.clone();
                                    view! {
                                        <tr data-room=room.name.clone()>
                                            <td><a href=url::admin_room(&room.name)>{room.title}</a>
                                                <br/><small class="muted">{room.name.clone()}</small></td>
                                            <td>{kind_label(room.kind)}</td>
                                            <td>{room.owner.map(|o| format!("@{o}")).unwrap_or_else(|| "-".into())}</td>
                                            <td>{room.members}</td>
                                            <td>{room.messages}</td>
                                            <td>{deletable.then(|| view! {
                                                <details class="confirm">
                                                    <summary>"Delete…"</summary>
                                                    <ActionForm action=delete_room attr:class="inline">
                                                        <input type="hidden" name="room" value=name.clone()/>
                                                        <button type="submit" class="danger">"Delete room and messages"</button>
                                                    </ActionForm>
                                                </details>
                                            })}</td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    </section>
                }.into_any())
            })}
        </Suspense>
    }
}

fn kind_label(kind: RoomKind) -> &'static str {
    match kind {
        RoomKind::Public => "public",
        RoomKind::Private => "private",
        RoomKind::Direct => "one-to-one",
    }
}

#[component]
fn UserRow(
    user: AdminUser,
    suspend: ServerAction<AdminSetSuspended>,
    roles: ServerAction<AdminSetRoles>,
    flag: ServerAction<AdminSetAdmin>,
    reset: ServerAction<AdminResetPassword>,
) -> impl IntoView {
    let person = user.person;
    let name = StoredValue::new(person.username.clone());
    let username = move || name.get_value();
    let state = match (user.suspended, user.has_password) {
        (true, _) => "suspended",
        (false, false) => "no password yet",
        (false, true) => "active",
    };
    view! {
        <tr data-username=username()>
            <td class="person-cell">
                <Avatar name=person.display_name.clone() url=person.avatar.clone() small=true/>
                <a href=url::profile(&username())>{person.display_name.clone()}</a>
                <small class="muted">" @"{username()}</small>
                {user.is_admin.then(|| view! { <span class="role">"admin"</span> })}
            </td>
            <td>{user.email.unwrap_or_else(|| "-".into())}</td>
            <td>
                <ActionForm action=roles attr:class="inline">
                    <input type="hidden" name="username" value=username()/>
                    <input name="roles" value=person.roles.join(" ") aria-label=format!("Roles of {}", username()) size="16"/>
                    <button type="submit" class="link">"Save"</button>
                </ActionForm>
            </td>
            <td data-testid="state">{state}</td>
            <td class="actions">
                <ActionForm action=suspend attr:class="inline">
                    <input type="hidden" name="username" value=username()/>
                    <input type="hidden" name="suspended" value=(!user.suspended).to_string()/>
                    <button type="submit" class="link">{if user.suspended { "Unsuspend" } else { "Suspend" }}</button>
                </ActionForm>
                <ActionForm action=flag attr:class="inline">
                    <input type="hidden" name="username" value=username()/>
                    <input type="hidden" name="is_admin" value=(!user.is_admin).to_string()/>
                    <button type="submit" class="link">{if user.is_admin { "Revoke admin" } else { "Make admin" }}</button>
                </ActionForm>
                <ActionForm action=reset attr:class="inline">
                    <input type="hidden" name="username" value=username()/>
                    <button type="submit" class="link">"Password link"</button>
                </ActionForm>
            </td>
        </tr>
    }
}

#[component]
pub fn AdminRoomMessages() -> impl IntoView {
    let params = use_params_map();
    let name = move || params.read().get("name").unwrap_or_default();
    let delete = ServerAction::<AdminDeleteMessage>::new();
    let error = form_error(move || delete.value().get());
    let page = Resource::new(move || (name(), delete.version().get()), |(name, _)| get_admin_room(name));
    view! {
        <Title text="Admin · room"/>
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                loaded(page.await, |AdminRoomPage { room, messages }| {
                    let room_name = StoredValue::new(room.name.clone());
                    view! {
                    <section class="card stack admin">
                        <p><a href=url::ADMIN>"← Admin"</a></p>
                        <h1>{room.title.clone()}</h1>
                        <p class="muted">{kind_label(room.kind)} " · " {room.members} " members · "
                            {room.messages} " messages · " <a href=url::room(&room.name)>"open the room"</a></p>
                        <FormError message=error/>
                        {messages.is_empty().then(|| view! { <p class="muted">"No messages."</p> })}
                        <ul class="admin-messages" data-testid="admin-messages">
                            {messages.into_iter().rev().map(|message| view! {
                                <li data-seq=message.seq>
                                    <div>
                                        <strong>{message.author.display_name.clone()}</strong>
                                        " " <small class="muted">{message.created_at.get(..16).unwrap_or_default().replace('T', " ")}" UTC · #"{message.seq}</small>
                                        <p class="body">{message.body.clone()}</p>
                                    </div>
                                    <ActionForm action=delete attr:class="inline">
                                        <input type="hidden" name="room" value=room_name.get_value()/>
                                        <input type="hidden" name="seq" value=message.seq/>
                                        <button type="submit" class="danger small" aria-label=format!("Delete message {}", message.seq)>"Delete"</button>
                                    </ActionForm>
                                </li>
                            }).collect_view()}
                        </ul>
                    </section>
                }.into_any()})
            })}
        </Suspense>
    }
}
