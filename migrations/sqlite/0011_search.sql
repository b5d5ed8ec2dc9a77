-- Full-text search over message bodies: an FTS5 index whose content is the messages table
-- itself (nothing stored twice), kept in step by triggers. Words split on anything that is
-- not a letter or digit in any script, case and diacritics ignored ("cafe" finds "Café").
-- A deleted message's body (and file names) are emptied (an UPDATE), which takes it out of
-- the index.
-- The names of the files a message shares, one a line, so that "that PDF" is found by
-- its name too (filled in with the message's files, emptied when it is deleted).
ALTER TABLE messages ADD COLUMN file_names TEXT NOT NULL DEFAULT '';

CREATE VIRTUAL TABLE messages_search USING fts5(
    body,
    file_names,
    content = 'messages',
    content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);
INSERT INTO messages_search (messages_search) VALUES ('rebuild');

CREATE TRIGGER messages_search_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_search (rowid, body, file_names) VALUES (new.id, new.body, new.file_names);
END;
CREATE TRIGGER messages_search_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_search (messages_search, rowid, body, file_names)
        VALUES ('delete', old.id, old.body, old.file_names);
END;
CREATE TRIGGER messages_search_update AFTER UPDATE OF body, file_names ON messages BEGIN
    INSERT INTO messages_search (messages_search, rowid, body, file_names)
        VALUES ('delete', old.id, old.body, old.file_names);
    INSERT INTO messages_search (rowid, body, file_names) VALUES (new.id, new.body, new.file_names);
END;
