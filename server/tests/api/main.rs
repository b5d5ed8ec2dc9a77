//! Integration tests: the real server on port 0 with a fresh SQLite database each, spoken to
//! over real HTTP and real WebSockets.

mod access;
mod accounts;
mod administration;
mod assets;
mod avatars;
mod backup;
mod changes;
mod connections;
mod directory;
mod files;
mod group_rooms;
mod headers;
mod helpers;
mod history;
mod instances;
mod limits;
mod load;
mod metrics;
mod notify;
mod one_to_one;
mod presence;
mod profiles;
mod provisioning;
mod push;
mod redirects;
mod restart;
mod resume;
mod room_page;
mod room_socket;
mod search;
mod sessions;
mod unread;
