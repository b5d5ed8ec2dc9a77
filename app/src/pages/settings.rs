//! `/settings`: your profile (display name and bio), email, password, where you are signed in
//! (`sessions`), your account, this browser's theme, and its notification choices (the
//! permission is the browser's, so the choice is kept in it too), push notifications included.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_meta::Title;

use crate::api::accounts::{me, ChangeEmail, ChangePassword, DeleteAccount};
use crate::api::appearance::SetTheme;
use crate::api::people::{get_profile, UpdateProfile};
use crate::components::{form_done, form_error, invalid_while, loaded, query_value, Avatar, FormError};
use crate::domain::{Bio, DisplayName, Password, Theme};
use crate::error::AppError;
use crate::live::notify::{self, State};
use crate::live::push;
use crate::model::Person;
use crate::pages::sessions::Sessions;
use crate::session::Session;
use crate::url;

/// The avatar: a plain multipart form posted to `/api/avatar` (the server decodes, checks and
/// resizes it), which brings the browser back to `here` with the new picture or the error.
#[component]
fn AvatarForm(person: Person, here: &'static str) -> impl IntoView {
    let error = query_value("avatar_error");
    let has_avatar = person.avatar.is_some();
    view! {
        <div class="avatar-form">
            <Avatar name=person.display_name.clone() url=person.avatar.clone()/>
            <form method="post" action="/api/avatar" enctype="multipart/form-data" class="stack">
                <input type="hidden" name="next" value=here/>
                <label>"Picture " <small class="muted">"(PNG, JPEG, WebP or GIF up to 2 MB; shown as a 256×256 square)"</small>
                    <input type="file" name="avatar" required accept="image/png,image/jpeg,image/webp,image/gif"/>
                </label>
                <FormError message=move || Some(error())/>
                <button type="submit" class="secondary">"Upload picture"</button>
            </form>
            {has_avatar.then(|| view! {
                <form method="post" action="/api/avatar/remove" class="inline">
                    <button type="submit" class="link">"Remove picture"</button>
                </form>
            })}
        </div>
    }
}

/// The profile form: what others see on `/@you`, beside your messages and in the directory.
/// After saving, a browser goes to `next`, else to the profile.
#[component]
fn ProfileForm(#[prop(optional)] next: Option<&'static str>, here: &'static str) -> impl IntoView {
    let save = ServerAction::<UpdateProfile>::new();
    let error = form_error(move || save.value().get());
    let invalid = invalid_while(error);
    let profile = Resource::new(
        move || save.version().get(),
        |_| async {
            let user = me().await?.ok_or(AppError::Unauthorized)?;
            get_profile(user.username).await
        },
    );
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                loaded(profile.await, |profile| {
                    // A display name equal to the username is the username shown by default.
                    let name = if profile.person.display_name == profile.person.username {
                        String::new()
                    } else {
                        profile.person.display_name.clone()
                    };
                    view! {
                        <AvatarForm person=profile.person.clone() here/>
                        <ActionForm action=save attr:class="stack">
                            {next.map(|next| view! { <input type="hidden" name="next" value=next/> })}
                            <label>"Display name " <small class="muted">"(up to 20 characters; empty shows your username)"</small>
                                <input name="display_name" maxlength=DisplayName::MAX_CHARS value=name placeholder=profile.person.username.clone()
                                    aria-describedby="profile-error" aria-invalid=invalid/>
                            </label>
                            <label>"About you " <small class="muted">"(up to 300 characters)"</small>
                                <textarea name="bio" rows="3" maxlength=Bio::MAX_CHARS aria-describedby="profile-error"
                                    aria-invalid=invalid>{profile.bio.clone()}</textarea>
                            </label>
                            <FormError message=error id="profile-error"/>
                            <button type="submit" disabled=move || save.pending().get()>"Save profile"</button>
                        </ActionForm>
                    }.into_any()
                })
            })}
        </Suspense>
    }
}

/// `/welcome`, right after signing up: the profile form, which can be skipped.
#[component]
pub fn WelcomePage() -> impl IntoView {
    view! {
        <Title text="Welcome"/>
        <section class="card stack narrow">
            <h1>"Welcome!"</h1>
            <p>"Tell people who you are. All of it is optional, and you can change it any time in "
                <a href=url::SETTINGS>"Settings"</a>"."</p>
            <ProfileForm next="/" here=url::WELCOME/>
            <p><a href="/">"Skip for now"</a></p>
        </section>
    }
}

/// Changing the password (every other session ends), and signing out everywhere.
#[component]
fn AccountForms() -> impl IntoView {
    let change = ServerAction::<ChangePassword>::new();
    let error = form_error(move || change.value().get());
    let changed = form_done(move || change.value().get(), "password");
    let delete = ServerAction::<DeleteAccount>::new();
    let delete_error = form_error(move || delete.value().get());
    // The session is gone: reload the whole app, signed out.
    Effect::new(move |_| {
        if matches!(delete.value().get(), Some(Ok(()))) {
            crate::live::reload_at("/login?deleted=1");
        }
    });
    let change_email = ServerAction::<ChangeEmail>::new();
    let email_error = form_error(move || change_email.value().get());
    let email_changed = form_done(move || change_email.value().get(), "email");
    let (email_invalid, invalid, delete_invalid) =
        (invalid_while(email_error), invalid_while(error), invalid_while(delete_error));
    view! {
        <h2>"Email"</h2>
        <ActionForm action=change_email attr:class="stack">
            <label>"New email " <small class="muted">"(leave empty to remove it)"</small>
                <input type="email" name="email" autocomplete="email" placeholder="name@example.com"
                    aria-describedby="email-error" aria-invalid=email_invalid/>
            </label>
            <label>"Your password"
                <input type="password" name="current_password" required autocomplete="current-password"
                    aria-describedby="email-error" aria-invalid=email_invalid/>
            </label>
            <FormError message=email_error id="email-error"/>
            {move || email_changed().then(|| view! { <p class="notice-ok" role="status">"Email changed."</p> })}
            <button type="submit" disabled=move || change_email.pending().get()>"Change email"</button>
        </ActionForm>
        <h2>"Password"</h2>
        <ActionForm action=change attr:class="stack">
            <label>"Current password"
                <input type="password" name="current_password" required autocomplete="current-password"
                    aria-describedby="password-error" aria-invalid=invalid/>
            </label>
            <label>"New password " <small class="muted">"(8 characters or more)"</small>
                <input type="password" name="new_password" required minlength=Password::MIN_CHARS autocomplete="new-password"
                    aria-describedby="password-error" aria-invalid=invalid/>
            </label>
            <FormError message=error id="password-error"/>
            {move || changed().then(|| view! {
                <p class="notice-ok" role="status">"Password changed. Every other device was signed out."</p>
            })}
            <button type="submit" disabled=move || change.pending().get()>"Change password"</button>
        </ActionForm>
        <Sessions/>
        <h2>"Delete account"</h2>
        <ActionForm action=delete attr:class="stack danger-zone">
            <p>"This deletes your account for good and signs you out everywhere. Your messages stay in their rooms, shown as from “deleted user”; your picture is removed."</p>
            <label>"Your password"
                <input type="password" name="current_password" required autocomplete="current-password"
                    aria-describedby="delete-error" aria-invalid=delete_invalid/>
            </label>
            <FormError message=delete_error id="delete-error"/>
            <button type="submit" class="danger" disabled=move || delete.pending().get()>"Delete my account"</button>
        </ActionForm>
    }
}

/// The theme chosen now: the server rendered it as `<html data-theme>` (no attribute: the system's).
fn current_theme() -> Theme {
    #[cfg(feature = "ssr")]
    return crate::api::appearance::requested_theme();
    #[cfg(not(feature = "ssr"))]
    return document()
        .document_element()
        .and_then(|html| html.get_attribute("data-theme"))
        .map_or(Theme::System, |t| Theme::parse(&t));
}

/// Shows the page in `theme` at once (the cookie the server sets keeps it for the next pages).
fn apply_theme(theme: Theme) {
    #[cfg(feature = "hydrate")]
    if let Some(html) = document().document_element() {
        let _ = match theme.attribute() {
            Some(value) => html.set_attribute("data-theme", value),
            None => html.remove_attribute("data-theme"),
        };
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = theme;
}

/// Light, dark, or as the system says. With JavaScript a choice applies and is saved as it is
/// made; without, the button saves it and the page comes back in it.
#[component]
fn ThemeForm() -> impl IntoView {
    let choose = ServerAction::<SetTheme>::new();
    let current = RwSignal::new(current_theme());
    let error = form_error(move || choose.value().get());
    view! {
        <ActionForm action=choose attr:class="stack">
            <input type="hidden" name="next" value=url::SETTINGS/>
            <fieldset class="choice">
                <legend>"Theme"</legend>
                {Theme::ALL.map(|theme| view! {
                    <label class="inline-label">
                        <input type="radio" name="theme" value=theme.as_str() checked=move || current.get() == theme
                            on:change=move |_| {
                                current.set(theme);
                                apply_theme(theme);
                                choose.dispatch(SetTheme { theme: theme.as_str().to_owned(), next: None });
                            }/>
                        {theme.label()}
                    </label>
                })}
            </fieldset>
            <FormError message=error/>
            <button type="submit" class="secondary">"Save theme"</button>
        </ActionForm>
    }
}

/// Push notifications: private messages and mentions on this device with no tab open.
#[component]
fn PushChoice() -> impl IntoView {
    let session = expect_context::<Session>();
    // Unknown until the page runs in the browser (and its service worker is ready).
    let state = RwSignal::new(None::<State>);
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    Effect::new(move |_| spawn_local(async move { state.set(Some(push::state().await)) }));
    let change = move |on: bool| {
        let username = session.user.get_untracked().and_then(Result::ok).flatten().map(|u| u.username);
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            let result = match (on, username) {
                (true, Some(username)) => push::turn_on(&username).await,
                (true, None) => Err(AppError::Unauthorized.to_string()),
                (false, _) => push::turn_off().await,
            };
            match result {
                Ok(now) => state.set(Some(now)),
                Err(text) => error.set(Some(text)),
            }
            busy.set(false);
        });
    };
    view! {
        <h3>"When the chat is closed"</h3>
        <p>"Private messages and mentions can also reach this device while no tab of the chat is open, through this browser's push service."</p>
        <p data-testid="push-state">{move || match state.get() {
            None => "Checking this browser…",
            Some(State::On) => "Push notifications are on for this browser.",
            Some(State::Off) => "Push notifications are off for this browser.",
            Some(State::Blocked) => "This browser blocks notifications from this site: allow them in its site settings, then reload this page.",
            Some(State::Unsupported) => "This browser cannot receive push notifications here (they need HTTPS and a browser with push).",
        }}</p>
        <FormError message=move || error.get()/>
        {move || match state.get() {
            Some(State::On) => view! {
                <button class="secondary" disabled=busy on:click=move |_| change(false)>"Turn push notifications off"</button>
            }.into_any(),
            Some(State::Off) => view! {
                <button disabled=busy on:click=move |_| change(true)>"Turn push notifications on"</button>
            }.into_any(),
            _ => ().into_any(),
        }}
    }
}

#[component]
pub fn SettingsPage() -> impl IntoView {
    // Unknown until the page runs in the browser.
    let state = RwSignal::new(None::<State>);
    let sound = RwSignal::new(false);
    Effect::new(move |_| {
        state.set(Some(notify::state()));
        sound.set(notify::sound_on());
    });
    let turn_on = move |_| spawn_local(async move { state.set(Some(notify::turn_on().await)) });
    let turn_off = move |_| {
        notify::turn_off();
        state.set(Some(notify::state()));
    };
    view! {
        <Title text="Settings"/>
        <section class="card stack">
            <h1>"Settings"</h1>
            <h2>"Profile"</h2>
            <ProfileForm here=url::SETTINGS/>
            <h2>"Appearance"</h2>
            <ThemeForm/>
            <AccountForms/>
            <h2>"Notifications"</h2>
            <p>"While this tab is out of view, a message in a private chat, or one that mentions you ("
                <code>"@username"</code>"), can show as a notification."</p>
            <p data-testid="notifications-state">{move || match state.get() {
                None => "Checking this browser…",
                Some(State::On) => "Notifications are on in this browser.",
                Some(State::Off) => "Notifications are off in this browser.",
                Some(State::Blocked) => "This browser blocks notifications from this site: allow them in its site settings, then reload this page.",
                Some(State::Unsupported) => "This browser cannot show notifications.",
            }}</p>
            {move || match state.get() {
                Some(State::On) => view! { <button class="secondary" on:click=turn_off>"Turn notifications off"</button> }.into_any(),
                Some(State::Off) => view! { <button on:click=turn_on>"Turn notifications on"</button> }.into_any(),
                _ => ().into_any(),
            }}
            <label class="inline-label">
                <input type="checkbox" prop:checked=sound on:change=move |event| {
                    let on = event_target_checked(&event);
                    notify::set_sound(on);
                    sound.set(on);
                }/>
                "Play a short sound with each notification"
            </label>
            <PushChoice/>
        </section>
    }
}
