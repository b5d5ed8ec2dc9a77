-- What strangers repeat, counted where every instance and the command line see it: failed
-- logins per account and per client address, sign-ups per address. A key's count starts over
-- an hour after its last event; past its free allowance each event blocks the key for twice as
-- long as the one before (1 s, 2 s, 4 s … 15 min).
CREATE TABLE throttle (
    key           TEXT    PRIMARY KEY,
    events        BIGINT  NOT NULL,
    blocked_until BIGINT  NOT NULL,
    updated_at    BIGINT  NOT NULL
);
