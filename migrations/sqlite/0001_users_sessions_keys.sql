-- Times are Unix seconds (INTEGER), so the schema reads the same on PostgreSQL later.

CREATE TABLE users (
    id                  TEXT PRIMARY KEY,
    email               TEXT NOT NULL UNIQUE,       -- trimmed and lower-cased before it gets here
    password_hash       TEXT NOT NULL,              -- Argon2id, PHC string format
    created_at          INTEGER NOT NULL,
    password_changed_at INTEGER NOT NULL,
    disabled_at         INTEGER
);

-- One row per login: the refresh-token family. `current_jti` names the one refresh token
-- that may be presented next; every refresh replaces it.
CREATE TABLE sessions (
    id                  TEXT PRIMARY KEY,
    user_id             TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    current_jti         TEXT NOT NULL,
    created_at          INTEGER NOT NULL,
    refreshed_at        INTEGER NOT NULL,
    expires_at          INTEGER NOT NULL,           -- sliding: moved forward by each refresh
    max_expires_at      INTEGER,                    -- the absolute cap, if one is configured
    password_changed_at INTEGER NOT NULL,           -- the user's, when the session was last vouched for
    revoked_at          INTEGER,
    revoked_reason      TEXT,
    user_agent          TEXT,
    ip                  TEXT
);
CREATE INDEX sessions_by_user ON sessions (user_id);

-- Every refresh token a session was issued, linked to the one it replaced: the rotation chain.
CREATE TABLE refresh_tokens (
    jti         TEXT PRIMARY KEY,
    session_id  TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    parent_jti  TEXT,
    issued_at   INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    rotated_at  INTEGER                             -- when its child was issued
);
CREATE INDEX refresh_tokens_by_session ON refresh_tokens (session_id);

-- What happened to an account, shown to its owner.
CREATE TABLE security_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    session_id  TEXT,
    kind        TEXT NOT NULL,
    detail      TEXT,
    ip          TEXT,
    user_agent  TEXT,
    created_at  INTEGER NOT NULL
);
CREATE INDEX security_events_by_user ON security_events (user_id, id);

-- Ed25519 signing keys. A new key is published (verifies) before it activates (signs), so
-- every instance knows it before the first token it signs arrives; a retired key keeps
-- verifying until every token it signed has expired.
CREATE TABLE signing_keys (
    kid          TEXT PRIMARY KEY,
    private_key  BLOB NOT NULL,                     -- the 32-byte seed
    public_key   BLOB NOT NULL,                     -- the 32-byte point, as published
    created_at   INTEGER NOT NULL,
    activates_at INTEGER NOT NULL,
    retired_at   INTEGER
);
