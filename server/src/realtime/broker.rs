//! How envelopes reach the other instances. The hub delivers every envelope to its own
//! sockets and hands it to its broker once; alone (no `REDIS_URL`) there is no broker and the
//! hub counts presence itself, with Redis the broker is `redis::RedisBroker`.

use super::envelope::Envelope;

pub trait Broker: Send + Sync + 'static {
    /// Hands an envelope this instance delivered to the other instances. Never waits: a
    /// broker that cannot keep up drops envelopes and later tells the others to resync.
    fn publish(&self, envelope: &Envelope);

    /// The people with `room_id` open here changed: the broker recounts the room across
    /// instances and gives the hub the total (`Hub::deliver_count`).
    fn presence_changed(&self, room_id: i64);
}
