//! Who came online or went offline, gathered for a moment and told in one event per viewer.
//!
//! A viewer may see a person when the viewer is an admin or shares a role with them (the
//! directory's rule). Viewers are grouped by what
//! decides that (admin flag and roles), so each group's event is worked out and encoded once
//! and the same bytes go to everyone in it. A flush costs (groups × changes) role checks plus
//! one send per viewer; a thousand people opening the app within one flush cost each viewer one
//! event instead of a thousand.

use std::collections::{BTreeMap, HashMap};

use app::protocol::UserEvent;
use axum::extract::ws::Utf8Bytes;

/// What decides whom a person with the app open may see (kept while they are connected).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Viewer {
    pub roles: Vec<String>,
    pub is_admin: bool,
}

impl Viewer {
    fn sees(&self, roles: &[String]) -> bool {
        self.is_admin || self.roles.iter().any(|role| roles.contains(role))
    }
}

#[derive(Debug, Clone)]
struct Change {
    username: String,
    roles: Vec<String>,
    online: bool,
}

#[derive(Default)]
pub struct PresenceBatch {
    pending: BTreeMap<i64, Change>,
}

impl PresenceBatch {
    /// Notes that a person came online or went offline; the last word in a flush wins.
    pub fn changed(&mut self, user_id: i64, username: String, roles: Vec<String>, online: bool) {
        self.pending.insert(user_id, Change { username, roles, online });
    }

    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    /// The events for the viewers connected here, and empties the batch.
    pub fn take(&mut self, viewers: &HashMap<i64, Viewer>) -> Vec<(i64, Utf8Bytes)> {
        let pending = std::mem::take(&mut self.pending);
        if pending.is_empty() {
            return Vec::new();
        }
        let mut groups: HashMap<&Viewer, Option<Utf8Bytes>> = HashMap::new();
        let mut out = Vec::with_capacity(viewers.len());
        for (viewer_id, viewer) in viewers {
            // Someone whose own presence changed is not told about themselves.
            let event = if pending.contains_key(viewer_id) {
                event_for(viewer, &pending, Some(*viewer_id))
            } else {
                groups.entry(viewer).or_insert_with(|| event_for(viewer, &pending, None)).clone()
            };
            if let Some(event) = event {
                out.push((*viewer_id, event));
            }
        }
        out
    }
}

impl std::hash::Hash for Viewer {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.is_admin.hash(state);
        self.roles.hash(state);
    }
}

fn event_for(viewer: &Viewer, pending: &BTreeMap<i64, Change>, skip: Option<i64>) -> Option<Utf8Bytes> {
    let (mut online, mut offline) = (Vec::new(), Vec::new());
    for (user_id, change) in pending {
        if Some(*user_id) == skip || !viewer.sees(&change.roles) {
            continue;
        }
        if change.online {
            online.push(change.username.clone());
        } else {
            offline.push(change.username.clone());
        }
    }
    (!online.is_empty() || !offline.is_empty())
        .then(|| Utf8Bytes::from(UserEvent::Presence { online, offline }.to_json()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn viewer(roles: &[&str], is_admin: bool) -> Viewer {
        Viewer { roles: roles.iter().map(|r| r.to_string()).collect(), is_admin }
    }

    fn decode(event: &Utf8Bytes) -> (Vec<String>, Vec<String>) {
        match serde_json::from_str::<UserEvent>(event.as_str()).unwrap() {
            UserEvent::Presence { online, offline } => (online, offline),
            other => panic!("expected presence, got {other:?}"),
        }
    }

    #[test]
    fn each_viewer_is_told_only_about_people_they_may_see_in_one_event() {
        let mut batch = PresenceBatch::default();
        batch.changed(1, "ana".into(), vec!["tenant".into()], true);
        batch.changed(2, "bob".into(), vec!["landlord".into()], true);
        batch.changed(3, "cleo".into(), vec!["tenant".into()], false);
        let viewers = HashMap::from([
            (10, viewer(&["tenant"], false)),
            (11, viewer(&["tenant"], false)),
            (12, viewer(&["plumber"], false)),
            (13, viewer(&[], true)),
            (1, viewer(&["tenant"], false)),
        ]);
        let events: HashMap<i64, Utf8Bytes> = batch.take(&viewers).into_iter().collect();
        assert_eq!(decode(&events[&10]), (vec!["ana".into()], vec!["cleo".into()]));
        assert_eq!(events[&10].as_str().as_ptr(), events[&11].as_str().as_ptr(), "one encoding per group");
        assert!(!events.contains_key(&12), "nobody they may see changed");
        assert_eq!(decode(&events[&13]), (vec!["ana".into(), "bob".into()], vec!["cleo".into()]));
        assert_eq!(decode(&events[&1]), (vec![], vec!["cleo".into()]), "not told about themselves");
        assert!(batch.is_empty());
    }

    #[test]
    fn the_last_change_in_a_batch_wins() {
        let mut batch = PresenceBatch::default();
        batch.changed(1, "ana".into(), vec!["tenant".into()], true);
        batch.changed(1, "ana".into(), vec!["tenant".into()], false);
        let events = batch.take(&HashMap::from([(10, viewer(&["tenant"], false))]));
        assert_eq!(decode(&events[0].1), (vec![], vec!["ana".into()]));
    }
}
