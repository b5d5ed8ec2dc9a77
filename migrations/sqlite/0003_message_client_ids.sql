-- A client names each message it sends (client_id), so a message resent after a dropped
-- connection is stored once: the second insert meets this index and the first one stands.
ALTER TABLE messages ADD COLUMN client_id TEXT;
CREATE UNIQUE INDEX messages_client_id ON messages (room_id, author_id, client_id) WHERE client_id IS NOT NULL;
