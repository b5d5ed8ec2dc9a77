-- What a person is shown of their sessions in settings: a handle to end one by (never the
-- token), the browser's user agent and the client address at sign-in, and when it was last
-- used (written at most once a minute).
ALTER TABLE sessions ADD COLUMN handle TEXT;
ALTER TABLE sessions ADD COLUMN user_agent TEXT;
ALTER TABLE sessions ADD COLUMN address TEXT;
ALTER TABLE sessions ADD COLUMN last_seen_at INTEGER;
UPDATE sessions SET handle = lower(hex(randomblob(8))), last_seen_at = created_at;
CREATE UNIQUE INDEX sessions_handle ON sessions (handle);
