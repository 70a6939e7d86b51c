-- The same schema as migrations/sqlite/0001, in PostgreSQL's types. Times are Unix seconds
-- (BIGINT), so every statement in src/db/ reads the same on both engines.

CREATE TABLE users (
    id                  TEXT PRIMARY KEY,
    email               TEXT NOT NULL UNIQUE,       -- trimmed and lower-cased before it gets here
    password_hash       TEXT NOT NULL,              -- Argon2id, PHC string format
    created_at          BIGINT NOT NULL,
    password_changed_at BIGINT NOT NULL,
    disabled_at         BIGINT
);

-- One row per login: the refresh-token family. `current_jti` names the one refresh token
-- that may be presented next; every refresh replaces it. A refresh locks this row
-- (SELECT … FOR UPDATE), so concurrent refreshes of one session take turns.
CREATE TABLE sessions (
    id                  TEXT PRIMARY KEY,
    user_id             TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    current_jti         TEXT NOT NULL,
    created_at          BIGINT NOT NULL,
    refreshed_at        BIGINT NOT NULL,
    expires_at          BIGINT NOT NULL,            -- sliding: moved forward by each refresh
    max_expires_at      BIGINT,                     -- the absolute cap, if one is configured
    password_changed_at BIGINT NOT NULL,            -- the user's, when the session was last vouched for
    revoked_at          BIGINT,
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
    issued_at   BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    rotated_at  BIGINT                              -- when its child was issued
);
CREATE INDEX refresh_tokens_by_session ON refresh_tokens (session_id);

-- What happened to an account, shown to its owner.
CREATE TABLE security_events (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    session_id  TEXT,
    kind        TEXT NOT NULL,
    detail      TEXT,
    ip          TEXT,
    user_agent  TEXT,
    created_at  BIGINT NOT NULL
);
CREATE INDEX security_events_by_user ON security_events (user_id, id);

-- Ed25519 signing keys, shared by every instance. A new key is published (verifies) before it
-- activates (signs), so every instance knows it before the first token it signs arrives; a
-- retired key keeps verifying until every token it signed has expired.
CREATE TABLE signing_keys (
    kid          TEXT PRIMARY KEY,
    private_key  BYTEA NOT NULL,                    -- the 32-byte seed
    public_key   BYTEA NOT NULL,                    -- the 32-byte point, as published
    created_at   BIGINT NOT NULL,
    activates_at BIGINT NOT NULL,
    retired_at   BIGINT
);
