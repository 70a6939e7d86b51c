-- Times are Unix seconds (INTEGER), so the schema reads the same on PostgreSQL later.

CREATE TABLE users (
    id                  TEXT PRIMARY KEY,
    email               TEXT NOT NULL UNIQUE,       -- trimmed and lower-cased before it gets here
    password_hash       TEXT NOT NULL,              -- Argon2id, PHC string format
    created_at          INTEGER NOT NULL,
    password_changed_at INTEGER NOT NULL,           -- sessions begun before this stop refreshing
    disabled_at         INTEGER
);

-- One row per login: the refresh-token family. `current_jti` names the one refresh token
-- that may be presented next; every refresh replaces it.
CREATE TABLE sessions (
    id              TEXT PRIMARY KEY,
    user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    current_jti     TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    refreshed_at    INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,               -- sliding: moved forward by each refresh
    revoked_at      INTEGER,
    revoked_reason  TEXT,
    user_agent      TEXT,
    ip              TEXT
);
CREATE INDEX sessions_by_user ON sessions (user_id);

-- Ed25519 signing keys. The newest unretired key signs; every listed key verifies.
CREATE TABLE signing_keys (
    kid         TEXT PRIMARY KEY,
    private_key BLOB NOT NULL,                      -- the 32-byte seed
    public_key  BLOB NOT NULL,                      -- the 32-byte point, as published
    created_at  INTEGER NOT NULL,
    retired_at  INTEGER
);
