//! `/search?q=…`: the messages matching a search among those the person may see. Without
//! JavaScript a plain GET form; once hydrated, results follow the box as you type (the URL
//! kept in step). Each result opens its room at that message, with the history around it.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_navigate;
use leptos_router::NavigateOptions;

use crate::api::search::search;
use crate::calendar;
use crate::components::{loaded, query_value, Avatar};
use crate::live;
use crate::model::{Marked, RoomKind, SearchHit, SearchPage as Results};
use crate::url;

/// What the box understands, shown under it.
const HELP: &str = "Find messages by their words; narrow with in:room, from:username, after:2026-11-01, \
                    before:2026-12-01, on:2026-11-15, or an \"exact phrase\".";

#[component]
pub fn SearchPage() -> impl IntoView {
    let q = query_value("q");
    let sort = query_value("sort");
    let page = query_value("page");
    let results = Resource::new(
        move || (q(), sort(), page()),
        |(q, sort, page)| search(q, Some(sort), (!page.is_empty()).then_some(page)),
    );
    let navigate = use_navigate();
    let go = move |query: &str, relevance: bool| {
        navigate(
            &url::search(query, relevance, None),
            NavigateOptions { replace: true, scroll: false, ..Default::default() },
        );
    };
    let on_input = {
        let go = go.clone();
        move |event: leptos::ev::Event| go(&event_target_value(&event), sort() == "relevance")
    };
    let on_sort = move |event: leptos::ev::Event| go(&q(), event_target_value(&event) == "relevance");
    view! {
        <Title text=move || if q().is_empty() { "Search".to_owned() } else { format!("{} · Search", q()) }/>
        <section class="card search-page">
            <h1>"Search messages"</h1>
            <form class="search" method="get" action=url::SEARCH role="search" aria-label="Search page"
                on:submit=|event: leptos::ev::SubmitEvent| event.prevent_default()>
                <input type="search" name="q" value=q on:input=on_input aria-label="Words to find"
                    aria-describedby="search-help" placeholder="Search" autocomplete="off"/>
                <select name="sort" aria-label="Order of results" on:change=on_sort>
                    <option value="" selected=move || sort() != "relevance">"Newest first"</option>
                    <option value="relevance" selected=move || sort() == "relevance">"Best match first"</option>
                </select>
                <button type="submit">"Search"</button>
            </form>
            <p class="muted help" id="search-help">{HELP}</p>
            <Transition fallback=|| view! { <p class="muted">"Searching…"</p> }>
                {move || Suspend::new(async move {
                    loaded(results.await, move |found| view! { <ResultList found query=q() relevance=sort() == "relevance"/> }.into_any())
                })}
            </Transition>
        </section>
    }
}

#[component]
fn ResultList(found: Results, query: String, relevance: bool) -> impl IntoView {
    if query.trim().is_empty() {
        return view! {
            <p class="muted" data-testid="search-empty">
                "Type a word to search your rooms, the public rooms and your one-to-one chats."
            </p>
        }
        .into_any();
    }
    if found.hits.is_empty() {
        return view! { <p class="muted" data-testid="search-empty">"No messages match that search."</p> }.into_any();
    }
    let more = found.next.map(|next| {
        view! { <a class="button more" rel="next" href=url::search(&query, relevance, Some(&next))>"More results"</a> }
    });
    view! {
        <ol class="results" data-testid="results" aria-label="Results">
            {found.hits.into_iter().map(|hit| view! { <ResultItem hit/> }).collect_view()}
        </ol>
        {more}
    }
    .into_any()
}

/// Text with the words searched for in `<mark>`.
fn marked(pieces: Vec<Marked>) -> impl IntoView {
    pieces
        .into_iter()
        .map(|piece| match piece.mark {
            true => view! { <mark>{piece.text}</mark> }.into_any(),
            false => piece.text.into_any(),
        })
        .collect_view()
}

#[component]
fn ResultItem(hit: SearchHit) -> impl IntoView {
    let place = match hit.kind {
        RoomKind::Direct => format!("@{}", hit.room_title),
        _ => format!("#{}", hit.room_title),
    };
    // The server writes UTC; once hydrated, the reader's own day and clock ("Yesterday, 18:05"),
    // the exact UTC time on hover as on messages.
    let exact = format!("{} UTC", hit.created_at.get(..19).unwrap_or_default().replace('T', " "));
    let at_ms = calendar::parse_utc(&hit.created_at).unwrap_or_default();
    let local = RwSignal::new(false);
    Effect::new(move |_| local.set(true));
    let created_at = hit.created_at.clone();
    let when = move || {
        if local.get() {
            let offset = live::utc_offset_minutes(at_ms);
            let today = calendar::local_day(live::wall_clock_ms(), offset);
            let day = calendar::day_label(calendar::local_day(at_ms, offset), today);
            format!("{day}, {}", live::local_clock(&created_at))
        } else {
            format!("{} {} UTC", created_at.get(..10).unwrap_or_default(), created_at.get(11..16).unwrap_or_default())
        }
    };
    let excerpt = marked(hit.excerpt);
    let files = (!hit.files.is_empty()).then(|| {
        let names =
            hit.files.into_iter().map(|name| view! { <span class="file">"📎 " {marked(name)}</span> }).collect_view();
        view! { <span class="files">{names}</span> }
    });
    view! {
        <li class="result" data-room=hit.room.clone() data-seq=hit.seq>
            <a href=url::message_in(&hit.room, hit.seq)>
                <span class="meta">
                    <Avatar name=hit.author.display_name.clone() url=hit.author.avatar.clone() small=true/>
                    <span class="author">{hit.author.display_name.clone()}</span>
                    <span class="room">{place}</span>
                    <time datetime=hit.created_at.clone() title=exact>{when}</time>
                </span>
                <span class="excerpt">{excerpt}</span>
                {files}
            </a>
        </li>
    }
    .into_any()
}
