-- A few words people write about themselves, shown on their profile.
ALTER TABLE users ADD COLUMN bio TEXT NOT NULL DEFAULT '';
