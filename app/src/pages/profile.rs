//! `/@<username>`: a person's profile, for the people who may see them in the directory.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::people::get_profile;
use crate::components::{loaded, Avatar, NotFound, OnlineDot};
use crate::model::Profile;
use crate::url;

#[component]
pub fn ProfilePage() -> impl IntoView {
    let params = use_params_map();
    // The route is `/:handle`; only `@name` handles are profiles.
    let username = move || params.read().get("handle").and_then(|h| h.strip_prefix('@').map(str::to_owned));
    let profile = Resource::new(username, |username| async move {
        match username {
            Some(username) => get_profile(username).await.map(Some),
            None => Ok(None),
        }
    });
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                loaded(profile.await, |profile| match profile {
                    Some(profile) => view! { <ProfileCard profile/> }.into_any(),
                    None => view! { <NotFound/> }.into_any(),
                })
            })}
        </Suspense>
    }
}

#[component]
fn ProfileCard(profile: Profile) -> impl IntoView {
    let person = profile.person.clone();
    let action = if profile.is_me {
        view! { <a class="button" href=url::SETTINGS>"Edit your profile"</a> }.into_any()
    } else {
        let label = format!("Message {}", person.display_name);
        view! { <a class="button" href=url::chat_with(&person.username) aria-label=label>"Message"</a> }.into_any()
    };
    let since = profile.member_since.get(..10).unwrap_or_default().to_owned();
    view! {
        <Title text=person.display_name.clone()/>
        <section class="card stack profile" data-testid="profile">
            <div class="profile-head">
                <Avatar name=person.display_name.clone() url=person.avatar.clone()/>
                <div class="who">
                    <h1>{person.display_name.clone()}</h1>
                    <span class="muted">"@"{person.username.clone()} " " <OnlineDot person=person.clone()/></span>
                </div>
            </div>
            <ul class="roles" aria-label="Roles">
                {person.roles.iter().map(|role| view! { <li class="role">{role.clone()}</li> }).collect_view()}
            </ul>
            {(!profile.bio.is_empty()).then(|| view! { <p class="bio" data-testid="bio">{profile.bio.clone()}</p> })}
            <p class="muted">"Member since " <time datetime=profile.member_since.clone()>{since}</time></p>
            <div>{action}</div>
        </section>
    }
}
