-- Full-text search over message bodies: a tsvector the database keeps in step with the body
-- (edits, and deletions, which empty it), in a GIN index. The configuration `chat_search` is
-- `simple` (words split in any language, no stemming, no stop words) with accents removed, as
-- SQLite's index does ("cafe" finds "Café"); `unaccent` ships with PostgreSQL and is a trusted
-- extension (the database's owner may create it). To stem for one language instead, build the
-- column from another configuration in a migration of your own and set SEARCH_CONFIG to it.
CREATE EXTENSION IF NOT EXISTS unaccent;
CREATE TEXT SEARCH CONFIGURATION chat_search (COPY = simple);
ALTER TEXT SEARCH CONFIGURATION chat_search
    ALTER MAPPING FOR hword, hword_part, word WITH unaccent, simple;
-- The names of the files a message shares, one a line, so that "that PDF" is found by
-- its name too (filled in with the message's files, emptied when it is deleted).
ALTER TABLE messages ADD COLUMN file_names TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN search tsvector
    GENERATED ALWAYS AS (to_tsvector('chat_search'::regconfig, body || ' ' || file_names)) STORED;
CREATE INDEX messages_search ON messages USING GIN (search);
-- The planner picks between reading the newest messages backwards and the GIN index by how
-- common each word is; the default statistics keep the frequencies of too few words for a
-- chat's vocabulary (see README, Performance: search).
ALTER TABLE messages ALTER COLUMN search SET STATISTICS 1000;
