//! The realtime transport: the hub that fans events out to this instance's sockets, the
//! envelopes it delivers, the broker that carries them to other instances (Redis), and the
//! unread counters and presence it keeps in memory. The sockets themselves are HTTP routes
//! (`http::sockets`) on top of it.
//!
//! Imports run one way: the hub uses `envelope`, `unread` and `presence`, and knows the broker
//! only as a trait; the Redis broker knows the hub (to deliver what arrives), never the
//! application state, the services or the database.

pub mod broker;
pub mod envelope;
pub mod hub;
pub mod presence;
pub mod redis;

pub mod unread;
