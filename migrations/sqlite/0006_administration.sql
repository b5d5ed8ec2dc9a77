-- Administration: suspension, avatars, one-time password links and provisioning tokens.

-- When an admin suspended the person (NULL: active). A suspended person cannot log in, and
-- running servers close their sockets (they poll this column).
ALTER TABLE users ADD COLUMN suspended_at INTEGER;
CREATE INDEX users_suspended_at ON users (suspended_at) WHERE suspended_at IS NOT NULL;

-- The file name of the person's avatar under <DATA_DIR>/avatars (NULL: their initials show).
-- The file lives on disk, not in the database; a new upload gets a new name (and URL).
ALTER TABLE users ADD COLUMN avatar TEXT;

-- One-time links to set a password: printed by `admin reset-password`, and handed out for
-- people created by provisioning (who start without a password). Only a SHA-256 of the token
-- is stored; using a link deletes it.
CREATE TABLE password_links (
    token_hash BLOB    PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX password_links_user ON password_links (user_id);

-- Bearer tokens another system uses to provision people (`admin create-token`). Stored
-- hashed; a revoked token stays listed (with its revocation time) but opens nothing.
CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    name         TEXT    NOT NULL,
    token_hash   BLOB    NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER
);
CREATE UNIQUE INDEX api_tokens_live_name ON api_tokens (lower(name)) WHERE revoked_at IS NULL;
