//! Integration tests: the real server on port 0 with a fresh SQLite database each, spoken to
//! over real HTTP and real WebSockets.

mod accounts;
mod helpers;
mod room_page;
mod room_socket;
mod access;
mod directory;
mod group_rooms;
mod history;
mod one_to_one;
