//! The server functions, by what they serve: `accounts`, `people`, `rooms`, `search`, `admin`, `appearance` (the theme), `push` (push notifications). Pages call
//! them; in the browser they are HTTP calls to `/api/<endpoint>`, on the server they validate
//! their input into `domain` types and call the `backend`. `request` holds what they share on
//! the server.

pub mod accounts;
pub mod admin;
pub mod appearance;
pub mod people;
pub mod push;
#[cfg(feature = "ssr")]
pub mod request;
pub mod rooms;
pub mod search;
