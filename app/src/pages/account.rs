//! `/login` and `/signup`. Both are `ActionForm`s over the account server functions, so they
//! work as plain HTML forms before (or without) the WASM, and inline once hydrated.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use crate::api::accounts::{password_link, SetPassword};
use crate::components::{form_error, invalid_while, query_value, FormError};
use crate::domain::Password;
use crate::error::AppError;
use crate::session::Session;
use crate::url;

#[component]
pub fn LoginPage() -> impl IntoView {
    let session = expect_context::<Session>();
    let error = form_error(move || session.login.value().get());
    let invalid = invalid_while(error);
    let next = query_value("next");
    let username = query_value("username");
    let deleted = query_value("deleted");
    view! {
        <Title text="Log in"/>
        <section class="card narrow">
            <h1>"Log in"</h1>
            {move || (!deleted().is_empty()).then(|| view! {
                <p class="notice-ok" role="status">"Your account was deleted. Thank you for chatting with us."</p>
            })}
            <ActionForm action=session.login attr:class="stack">
                <input type="hidden" name="next" value=next/>
                <label>"Username or email"
                    <input name="username" required autocomplete="username" value=username autofocus
                        aria-describedby="login-error" aria-invalid=invalid/>
                </label>
                <label>"Password"
                    <input type="password" name="password" required autocomplete="current-password"
                        aria-describedby="login-error" aria-invalid=invalid/>
                </label>
                <FormError message=error id="login-error"/>
                <button type="submit" disabled=move || session.login.pending().get()>"Log in"</button>
            </ActionForm>
            <p class="muted">"New here? " <A href=move || with_next(url::SIGNUP, &next())>"Create an account"</A></p>
        </section>
    }
}

#[component]
pub fn SignupPage() -> impl IntoView {
    let session = expect_context::<Session>();
    let error = form_error(move || session.signup.value().get());
    let invalid = invalid_while(error);
    let next = query_value("next");
    let username = query_value("username");
    let email = query_value("email");
    view! {
        <Title text="Sign up"/>
        <section class="card narrow">
            <h1>"Create an account"</h1>
            <ActionForm action=session.signup attr:class="stack">
                <input type="hidden" name="next" value=next/>
                <label>"Username"
                    <input name="username" required minlength="3" maxlength="30" pattern="[A-Za-z0-9_\\-]+"
                        autocomplete="username" value=username autofocus aria-describedby="signup-error" aria-invalid=invalid/>
                    <small class="muted">"3–30 letters, digits, _ or -"</small>
                </label>
                <label>"Password"
                    <input type="password" name="password" required minlength="8" autocomplete="new-password"
                        aria-describedby="signup-error" aria-invalid=invalid/>
                    <small class="muted">"At least 8 characters"</small>
                </label>
                <label>"Email (optional, lets you log in with it)"
                    <input type="email" name="email" autocomplete="email" value=email
                        aria-describedby="signup-error" aria-invalid=invalid/>
                </label>
                <FormError message=error id="signup-error"/>
                <button type="submit" disabled=move || session.signup.pending().get()>"Sign up"</button>
            </ActionForm>
            <p class="muted">"Already have an account? " <A href=move || with_next(url::LOGIN, &next())>"Log in"</A></p>
        </section>
    }
}

fn with_next(path: &str, next: &str) -> String {
    if next.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?next={next}")
    }
}

/// `/set-password?token=…`: the page of a one-time link (from `admin reset-password`, the
/// admin page, or provisioning). Setting the password signs the person in.
#[component]
pub fn SetPasswordPage() -> impl IntoView {
    let token = query_value("token");
    let set = ServerAction::<SetPassword>::new();
    let error = form_error(move || set.value().get());
    let invalid = invalid_while(error);
    let who = Resource::new(token, |token| async move {
        if token.is_empty() {
            return Err(AppError::NotFound);
        }
        password_link(token).await
    });
    Effect::new(move |_| {
        if matches!(set.value().get(), Some(Ok(_))) {
            crate::live::reload_at("/");
        }
    });
    view! {
        <Title text="Set your password"/>
        <section class="card narrow">
            <Suspense fallback=|| view! { <p class="muted">"Checking the link…"</p> }>
                {move || Suspend::new(async move {
                    match who.await {
                        Ok(username) => view! {
                            <h1>"Set your password"</h1>
                            <p>"For " <strong>"@"{username}</strong> ". This link works once."</p>
                            <ActionForm action=set attr:class="stack">
                                <input type="hidden" name="token" value=token/>
                                <label>"New password " <small class="muted">"(8 characters or more)"</small>
                                    <input type="password" name="new_password" required minlength=Password::MIN_CHARS
                                        autocomplete="new-password" autofocus aria-describedby="set-password-error"
                                        aria-invalid=invalid/>
                                </label>
                                <FormError message=error id="set-password-error"/>
                                <button type="submit" disabled=move || set.pending().get()>"Set password and log in"</button>
                            </ActionForm>
                        }.into_any(),
                        Err(_) => view! {
                            <h1>"This link does not work"</h1>
                            <p>"It was used already, it expired (links last 72 hours), or it was copied incompletely. Ask an admin for a new one."</p>
                            <p><a href=url::LOGIN>"Log in"</a></p>
                        }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}
