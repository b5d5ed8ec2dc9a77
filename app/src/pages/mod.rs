//! One module per page, named for it. The pieces several pages share are in `components`.
//!
//! The pages few visits need (settings, search, profiles, a room's settings, admin, the
//! one-time password page) are routes loaded on demand: the browser's bundle is split at each
//! (`scripts/lib.sh`), and a page's chunk is fetched the first time it is opened, so the first
//! visit downloads only what the room, the directory, the rooms and signing in need.

mod account;
mod admin;
mod attach;
mod composer;
mod directory;
mod message;
mod profile;
mod room;
mod room_settings;
mod rooms;
mod search;
mod sessions;
mod settings;
mod switcher;

use leptos::prelude::*;

use account::SetPasswordPage;
pub use account::{LoginPage, SignupPage};
use admin::{AdminPage, AdminRoomMessages};
pub use directory::{DirectoryPage, StartChat};
use profile::ProfilePage;
pub use room::RoomPage;
use room_settings::RoomSettingsPage;
pub use rooms::RoomsPage;
use search::SearchPage;
use settings::{SettingsPage, WelcomePage};
pub use switcher::QuickSwitcher;

/// `Route::view` for a page loaded on demand: `leptos_router::Lazy::<Route>::new()`. Each
/// route's view is a split point of its own (what two of them share goes in a chunk both load).
macro_rules! on_demand {
    ($($route:ident => $page:ident,)*) => {$(
        #[doc = concat!("[`", stringify!($page), "`], loaded on demand.")]
        pub struct $route;

        #[leptos_router::lazy_route]
        impl leptos_router::LazyRoute for $route {
            fn data() -> Self {
                $route
            }

            fn view(_this: Self) -> AnyView {
                #[cfg(feature = "ssr")]
                preload(stringify!($route));
                view! { <$page/> }.into_any()
            }
        }
    )*};
}

/// A first visit straight to a page loaded on demand: the answer's `Link` header has the browser
/// fetch the page's chunks while it fetches the bundle, not after it.
#[cfg(feature = "ssr")]
fn preload(route: &str) {
    let (Some(assets), Some(response)) =
        (use_context::<crate::Assets>(), use_context::<leptos_axum::ResponseOptions>())
    else {
        return;
    };
    let Some(files) = assets.pages.get(&split_point(route)) else { return };
    // `crossorigin`: the loader fetches with `fetch()`, whose requests a preload must match.
    let links: Vec<String> =
        files.iter().map(|file| format!("</pkg/{file}>; rel=preload; as=fetch; crossorigin")).collect();
    if let Ok(value) = http::HeaderValue::from_str(&links.join(", ")) {
        response.append_header(http::header::LINK, value);
    }
}

/// The name `#[lazy_route]` gives a route's split point, as `wasm-split` names its chunk:
/// `RoomSettings` → `room_settings_view`.
#[cfg(any(feature = "ssr", test))]
fn split_point(route: &str) -> String {
    let mut name = String::new();
    for (i, c) in route.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            name.push('_');
        }
        name.extend(c.to_lowercase());
    }
    name + "_view"
}

#[cfg(test)]
mod tests {
    use super::split_point;

    #[test]
    fn a_route_is_found_by_the_name_of_its_split_point() {
        assert_eq!(split_point("Settings"), "settings_view");
        assert_eq!(split_point("RoomSettings"), "room_settings_view");
        assert_eq!(split_point("AdminRoom"), "admin_room_view");
    }
}

on_demand! {
    Settings => SettingsPage,
    Welcome => WelcomePage,
    Search => SearchPage,
    Profile => ProfilePage,
    RoomSettings => RoomSettingsPage,
    Admin => AdminPage,
    AdminRoom => AdminRoomMessages,
    SetPassword => SetPasswordPage,
}
