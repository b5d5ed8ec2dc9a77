//! The "Devices" part of `/settings`: every browser signed in to the account (which browser
//! on which system, from where, since when, last used when), this one marked, any other one
//! ended with a button (a plain form without JavaScript); and signing out everywhere.

use leptos::form::ActionForm;
use leptos::prelude::*;

use crate::api::accounts::{my_sessions, EndSession};
use crate::components::{form_done, form_error, loaded, FormError};
use crate::model::SessionInfo;

/// `YYYY-MM-DD HH:MM UTC` of an RFC 3339 UTC timestamp.
fn when(rfc3339: &str) -> String {
    format!("{} UTC", rfc3339.get(..16).unwrap_or_default().replace('T', " "))
}

#[component]
fn SessionItem(session: SessionInfo, end: ServerAction<EndSession>) -> impl IntoView {
    let place = session.address.clone().map(|address| format!(" · from {address}")).unwrap_or_default();
    view! {
        <li class="session" data-testid="session" class:current=session.current>
            <div>
                <strong>{session.device.clone()}</strong>
                {session.current.then(|| view! { " " <span class="badge">"this browser"</span> })}
                <br/>
                <small class="muted">
                    "Signed in " {when(&session.signed_in_at)} {place} " · last used " {when(&session.last_seen_at)}
                </small>
            </div>
            {(!session.current).then(|| view! {
                <ActionForm action=end attr:class="inline">
                    <input type="hidden" name="id" value=session.id.clone()/>
                    <button type="submit" class="secondary" aria-label=format!("End the session of {}", session.device)>
                        "End session"
                    </button>
                </ActionForm>
            })}
        </li>
    }
}

#[component]
pub fn Sessions() -> impl IntoView {
    let end = ServerAction::<EndSession>::new();
    let error = form_error(move || end.value().get());
    let ended = form_done(move || end.value().get(), "session");
    let sessions = Resource::new(move || end.version().get(), |_| my_sessions());
    view! {
        <h2 id="sessions">"Devices"</h2>
        <p class="muted">"Where you are signed in. End a session you do not recognise: that browser is signed out at once."</p>
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                loaded(sessions.await, |sessions| view! {
                    <ul class="sessions">
                        {sessions.into_iter().map(|session| view! { <SessionItem session end/> }).collect_view()}
                    </ul>
                }.into_any())
            })}
        </Suspense>
        <FormError message=error/>
        {move || ended().then(|| view! { <p class="notice-ok" role="status">"Session ended: that browser is signed out."</p> })}
        // A plain form: the whole app reloads signed out afterwards.
        <form method="post" action="/api/sign_out_everywhere" class="stack">
            <p class="muted">"Lost a phone, or used a shared computer? This signs you out on every device, this one too."</p>
            <button type="submit" class="secondary">"Sign out everywhere"</button>
        </form>
    }
}
