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
                view! { <$page/> }.into_any()
            }
        }
    )*};
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
