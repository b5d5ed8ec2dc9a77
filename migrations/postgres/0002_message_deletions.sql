-- Which messages an admin deleted, so that a client that was away when it happened is told
-- when it catches up (it may still show the message). The message itself is gone.
CREATE TABLE message_deletions (
    room_id    BIGINT NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    seq        BIGINT NOT NULL,
    deleted_at BIGINT NOT NULL,
    PRIMARY KEY (room_id, seq)
);
