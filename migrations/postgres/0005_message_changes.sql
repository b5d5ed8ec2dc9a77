-- Messages change after they are posted: edited, deleted, reacted to. Every change takes the
-- room's next change number (rooms.last_change) and stamps it on the message (change_seq), so
-- a client that was away asks for `?since=<the last change it saw>` and is sent the current
-- state of every message changed since, in change order. This replaces message_deletions,
-- which remembered deletions only (for 7 days).
ALTER TABLE rooms ADD COLUMN last_change BIGINT NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN change_seq BIGINT NOT NULL DEFAULT 0;
-- The seq of the message this one answers (in the same room).
ALTER TABLE messages ADD COLUMN reply_to BIGINT;
ALTER TABLE messages ADD COLUMN edited_at BIGINT;
-- A deleted message keeps its row, with the body emptied, so that catch-up can tell clients
-- and replies can say "message deleted". Its seq is never reused.
ALTER TABLE messages ADD COLUMN deleted_at BIGINT;
-- The usernames (lowercased, space separated) of the room's members it mentions, resolved
-- when it was posted or last edited.
ALTER TABLE messages ADD COLUMN mentions TEXT NOT NULL DEFAULT '';
CREATE INDEX messages_changes ON messages (room_id, change_seq) WHERE change_seq > 0;

CREATE TABLE reactions (
    message_id BIGINT  NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    emoji      TEXT    NOT NULL,
    user_id    BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT  NOT NULL,
    PRIMARY KEY (message_id, emoji, user_id)
);

DROP TABLE message_deletions;
