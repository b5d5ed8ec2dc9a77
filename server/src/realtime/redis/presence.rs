//! Online counts and presence across instances: each instance writes who has each room (and
//! the app) open here under keys that expire, and reads the totals back.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use redis::AsyncCommands;
use tokio::sync::mpsc;

use super::RedisBroker;
use crate::realtime::hub::Hub;

/// Keeps this instance's presence keys written and every local room's count current.
/// `changes` carries the rooms whose local presence changed.
pub(super) async fn presence_loop(bus: Arc<RedisBroker>, mut changes: mpsc::UnboundedReceiver<i64>) {
    let mut refresh = tokio::time::interval(bus.ttl / 3);
    refresh.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // The count each local room was last told, to tell it again only when it changes.
    let mut told: HashMap<i64, u32> = HashMap::new();
    loop {
        tokio::select! {
            change = changes.recv() => {
                let Some(first) = change else { return };
                // Joins and leaves that queued up meanwhile (a restart reconnects thousands of
                // sockets at once) are counted once per room.
                let mut rooms = HashSet::from([first]);
                while let Ok(room_id) = changes.try_recv() {
                    rooms.insert(room_id);
                }
                let Some(hub) = bus.hub.upgrade() else { return };
                for room_id in rooms {
                    // Everyone in the room is told, here and elsewhere.
                    if let Some(count) = write_and_count(&bus, &hub, room_id).await {
                        told.insert(room_id, count);
                        hub.share_count(room_id, count);
                    } else {
                        // Redis is away: count this instance alone meanwhile.
                        let count = hub.present_here(room_id).len() as u32;
                        hub.deliver_count(room_id, count);
                    }
                }
            }
            _ = refresh.tick() => {
                let Some(hub) = bus.hub.upgrade() else { return };
                let rooms = hub.local_presence();
                told.retain(|room_id, _| rooms.iter().any(|(id, _)| id == room_id));
                for (room_id, _) in &rooms {
                    if let Some(count) = write_and_count(&bus, &hub, *room_id).await {
                        if told.insert(*room_id, count) != Some(count) {
                            hub.deliver_count(*room_id, count);
                        }
                    }
                }
                write_online(&bus, &hub).await;
            }
        }
    }
}

/// Writes who has `room_id` open here, and counts everyone who has it open anywhere.
async fn write_and_count(bus: &RedisBroker, hub: &Hub, room_id: i64) -> Option<u32> {
    let mut conn = bus.connection().await?;
    let here = hub.present_here(room_id);
    let key = bus.room_key(room_id, &bus.instance);
    let registry = bus.room_instances(room_id);
    let mut pipe = redis::pipe();
    pipe.atomic().del(&key).ignore();
    if !here.is_empty() {
        pipe.sadd(&key, &here).ignore().expire(&key, bus.ttl.as_secs() as i64).ignore();
        pipe.sadd(&registry, &bus.instance).ignore();
    }
    let written: redis::RedisResult<()> = pipe.query_async(&mut conn).await;
    written.ok()?;
    let instances: Vec<String> = conn.smembers(&registry).await.ok()?;
    let mut people: HashSet<i64> = here.into_iter().collect();
    for instance in instances.iter().filter(|i| **i != bus.instance) {
        let theirs: Vec<i64> = conn.smembers(bus.room_key(room_id, instance)).await.ok()?;
        if theirs.is_empty() {
            // Gone (or expired): forget it.
            let _: redis::RedisResult<i64> = conn.srem(&registry, instance).await;
        }
        people.extend(theirs);
    }
    Some(people.len() as u32)
}

impl RedisBroker {
    /// Writes at once who has the app open here (a first tab opened, or a last one closed), so
    /// that the other instances see it before deciding whether someone came or went.
    pub async fn note_online(&self) {
        if let Some(hub) = self.hub.upgrade() {
            write_online(self, &hub).await;
        }
    }

    /// Whether `user_id` has the app open on another instance, asked of Redis now (the cached
    /// view when Redis does not answer).
    pub async fn online_elsewhere_now(&self, user_id: i64) -> bool {
        let cached = self.hub.upgrade().is_some_and(|hub| hub.online_elsewhere(user_id));
        let Some(mut conn) = self.connection().await else { return cached };
        let Ok(instances) = conn.smembers::<_, Vec<String>>(self.instances_key()).await else { return cached };
        for instance in instances.iter().filter(|i| **i != self.instance) {
            match conn.sismember::<_, _, bool>(self.online_key(instance), user_id).await {
                Ok(true) => return true,
                Ok(false) => {}
                Err(_) => return cached,
            }
        }
        false
    }
}

/// Writes who has the app open here, and reads who has it open on the other instances.
async fn write_online(bus: &RedisBroker, hub: &Hub) {
    let Some(mut conn) = bus.connection().await else { return };
    let here = hub.connected_users();
    let key = bus.online_key(&bus.instance);
    let mut pipe = redis::pipe();
    pipe.atomic().del(&key).ignore();
    if !here.is_empty() {
        pipe.sadd(&key, &here).ignore().expire(&key, bus.ttl.as_secs() as i64).ignore();
    }
    pipe.sadd(bus.instances_key(), &bus.instance).ignore();
    let written: redis::RedisResult<()> = pipe.query_async(&mut conn).await;
    if written.is_err() {
        return;
    }
    let Ok(instances) = conn.smembers::<_, Vec<String>>(bus.instances_key()).await else { return };
    let mut elsewhere = HashSet::new();
    for instance in instances.iter().filter(|i| **i != bus.instance) {
        let Ok(theirs) = conn.smembers::<_, Vec<i64>>(bus.online_key(instance)).await else { return };
        if theirs.is_empty() {
            let _: redis::RedisResult<i64> = conn.srem(bus.instances_key(), instance).await;
        }
        elsewhere.extend(theirs);
    }
    hub.set_online_elsewhere(elsewhere);
}
