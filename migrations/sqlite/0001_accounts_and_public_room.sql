-- Accounts, sessions, rooms and messages. Times are Unix milliseconds (UTC) so that the same
-- values work on SQLite and PostgreSQL.

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    username      TEXT    NOT NULL,
    email         TEXT,
    display_name  TEXT,
    password_hash TEXT    NOT NULL,
    created_at    INTEGER NOT NULL
);
-- Usernames and emails are unique ignoring case; the spelling given is kept for display.
CREATE UNIQUE INDEX users_username_key ON users (lower(username));
CREATE UNIQUE INDEX users_email_key ON users (lower(email)) WHERE email IS NOT NULL;

-- Only a SHA-256 of each session token is stored: a leaked database opens no sessions.
CREATE TABLE sessions (
    token_hash BLOB    PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX sessions_user_id ON sessions (user_id);

CREATE TABLE rooms (
    id         INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL UNIQUE,
    title      TEXT    NOT NULL,
    -- The seq of the newest message; the next message takes last_seq + 1.
    last_seq   INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);

CREATE TABLE messages (
    id         INTEGER PRIMARY KEY,
    room_id    INTEGER NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    seq        INTEGER NOT NULL,
    author_id  INTEGER REFERENCES users (id) ON DELETE SET NULL,
    body       TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (room_id, seq)
);

INSERT INTO rooms (name, title, created_at)
VALUES ('public-chat', 'Public chat', CAST(strftime('%s', 'now') AS INTEGER) * 1000);
