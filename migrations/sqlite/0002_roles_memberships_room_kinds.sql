-- Roles and the admin flag (who sees whom in the directory), room kinds, owners and members.

ALTER TABLE users ADD COLUMN is_admin INTEGER NOT NULL DEFAULT 0;

-- Plain words such as 'tenant' or 'landlord'. A person sees the people who share one of theirs.
CREATE TABLE user_roles (
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role    TEXT    NOT NULL,
    PRIMARY KEY (user_id, role)
);
CREATE INDEX user_roles_role ON user_roles (role);

-- Everyone who existed before roles gets the default role, so they still see each other.
INSERT INTO user_roles (user_id, role) SELECT id, 'member' FROM users;

-- 'public' (listed, anyone may join), 'private' (members only) or 'direct' (two people).
ALTER TABLE rooms ADD COLUMN kind TEXT NOT NULL DEFAULT 'public';
ALTER TABLE rooms ADD COLUMN owner_id INTEGER REFERENCES users (id) ON DELETE SET NULL;
-- For direct rooms, '<smaller user id>:<larger user id>'. The unique index is what makes
-- "one private room per pair" hold when both people start the chat at the same moment.
ALTER TABLE rooms ADD COLUMN direct_key TEXT;
CREATE UNIQUE INDEX rooms_direct_key ON rooms (direct_key) WHERE direct_key IS NOT NULL;
CREATE INDEX rooms_kind ON rooms (kind);

CREATE TABLE room_members (
    room_id   INTEGER NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    user_id   INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    joined_at INTEGER NOT NULL,
    PRIMARY KEY (room_id, user_id)
);
CREATE INDEX room_members_user ON room_members (user_id);

-- Everyone is in the public chat.
INSERT INTO room_members (room_id, user_id, joined_at)
SELECT r.id, u.id, u.created_at FROM rooms r CROSS JOIN users u WHERE r.name = 'public-chat';
