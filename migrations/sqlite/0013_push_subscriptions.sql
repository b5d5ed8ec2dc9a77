-- Where each signed-in browser that turned push notifications on is sent them (Web Push):
-- the push service's endpoint, and the browser's keys to encrypt for it. A subscription
-- belongs to the session that made it, so signing out (or ending the session) stops it.
CREATE TABLE push_subscriptions (
    endpoint     TEXT    PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    session_hash BLOB    NOT NULL REFERENCES sessions (token_hash) ON DELETE CASCADE,
    p256dh       TEXT    NOT NULL,
    auth         TEXT    NOT NULL,
    created_at   INTEGER NOT NULL
);
CREATE INDEX push_subscriptions_user_id ON push_subscriptions (user_id);
CREATE INDEX push_subscriptions_session_hash ON push_subscriptions (session_hash);
