-- Files shared with messages. A file is stored once however many messages share it: its name
-- on disk (under DATA_DIR/files/) is the SHA-256 of the bytes uploaded. Images are served
-- re-encoded (metadata stripped) with a thumbnail (<hash>.thumb); other files as uploaded.
CREATE TABLE files (
    hash       TEXT    PRIMARY KEY,
    size       INTEGER NOT NULL,
    mime       TEXT    NOT NULL,
    width      INTEGER,
    height     INTEGER,
    thumb      INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);

-- A file as one message shares it, under the name its uploader gave it.
CREATE TABLE attachments (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    file_hash  TEXT    NOT NULL REFERENCES files (hash),
    name       TEXT    NOT NULL,
    position   INTEGER NOT NULL
);
CREATE INDEX attachments_message ON attachments (message_id);
CREATE INDEX attachments_file ON attachments (file_hash);

-- How many files a message has, so pages of messages without any skip reading them.
ALTER TABLE messages ADD COLUMN attachments INTEGER NOT NULL DEFAULT 0;
