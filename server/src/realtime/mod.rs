//! Everything live: the hub that fans events out to this instance's sockets, the envelopes it
//! delivers, the broker that carries them to other instances (Redis), unread counters and
//! presence kept in memory, and the two WebSockets.
//!
//! Imports run one way: `sockets` use the hub and the application state; the hub uses
//! `envelope`, `unread` and `presence`, and knows the broker only as a trait; the Redis broker
//! knows the hub (to deliver what arrives), never the application state or the database.

pub mod broker;
pub mod envelope;
pub mod hub;
pub mod presence;
pub mod redis;
pub mod sockets;
pub mod unread;
