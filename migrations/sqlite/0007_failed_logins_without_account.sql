-- A failed login for an address with no account is recorded too, as an event of no user
-- (user_id NULL, shown to nobody): the write that follows a wrong password then follows an
-- unknown address as well, so the work after the answer does not tell them apart
-- (src/auth/flow.rs). SQLite cannot drop a NOT NULL, so the table is rebuilt.
CREATE TABLE security_events_new (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id     TEXT REFERENCES users (id) ON DELETE CASCADE,
    session_id  TEXT,
    kind        TEXT NOT NULL,
    detail      TEXT,
    ip          TEXT,
    user_agent  TEXT,
    created_at  INTEGER NOT NULL
);
INSERT INTO security_events_new (id, user_id, session_id, kind, detail, ip, user_agent, created_at)
    SELECT id, user_id, session_id, kind, detail, ip, user_agent, created_at FROM security_events;
-- AUTOINCREMENT never hands out an id twice: the new table goes on from the old one's last.
UPDATE sqlite_sequence SET seq = (SELECT seq FROM sqlite_sequence WHERE name = 'security_events')
    WHERE name = 'security_events_new';
DROP TABLE security_events;
ALTER TABLE security_events_new RENAME TO security_events;
CREATE INDEX security_events_by_user ON security_events (user_id, id);
CREATE INDEX security_events_by_session ON security_events (session_id, id);
