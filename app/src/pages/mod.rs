//! One module per page, named for it. The pieces several pages share are in `components`.

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

pub use account::{LoginPage, SetPasswordPage, SignupPage};
pub use admin::{AdminPage, AdminRoomMessages};
pub use directory::{DirectoryPage, StartChat};
pub use profile::ProfilePage;
pub use room::RoomPage;
pub use room_settings::RoomSettingsPage;
pub use rooms::RoomsPage;
pub use search::SearchPage;
pub use settings::{SettingsPage, WelcomePage};
pub use switcher::QuickSwitcher;
