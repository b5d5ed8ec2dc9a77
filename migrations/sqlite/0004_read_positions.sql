-- How far each member has read each room: the seq of the last message they have seen. A
-- room's unread count for them is the number of later messages written by others. Existing
-- members start with everything read.
ALTER TABLE room_members ADD COLUMN last_read_seq INTEGER NOT NULL DEFAULT 0;
UPDATE room_members SET last_read_seq = (SELECT last_seq FROM rooms WHERE rooms.id = room_members.room_id);
