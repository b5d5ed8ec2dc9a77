-- Which messages an admin deleted, so that a client that was away when it happened is told
-- when it catches up (it may still show the message). The message itself is gone.
CREATE TABLE message_deletions (
    room_id    INTEGER NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    seq        INTEGER NOT NULL,
    deleted_at INTEGER NOT NULL,
    PRIMARY KEY (room_id, seq)
);
