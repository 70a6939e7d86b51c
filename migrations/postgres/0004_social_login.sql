-- Social login (src/auth/oidc.rs). A provider names its user by `sub`, unique per issuer; the
-- pair (provider, subject) is linked to at most one account, and an account to at most one
-- identity per provider.
CREATE TABLE identities (
    provider  TEXT NOT NULL,                    -- the name in OIDC_PROVIDERS
    subject   TEXT NOT NULL,                    -- the ID token's `sub`
    user_id   TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email     TEXT,                             -- as the provider gave it when linked
    linked_at BIGINT NOT NULL,
    PRIMARY KEY (provider, subject),
    UNIQUE (user_id, provider)
);

-- A social login under way: one row per authorization request, found by the SHA-256 of the
-- browser's flow cookie and deleted by the one callback that uses it (or by the upkeep once
-- expired). `link_user_id`: the flow links an identity to this logged-in user.
CREATE TABLE oidc_flows (
    id_hash         TEXT PRIMARY KEY,
    provider        TEXT NOT NULL,
    state           TEXT NOT NULL,
    nonce           TEXT NOT NULL,
    pkce_verifier   TEXT NOT NULL,
    return_to       TEXT,
    link_user_id    TEXT REFERENCES users (id) ON DELETE CASCADE,
    link_session_id TEXT,
    expires_at      BIGINT NOT NULL
);
CREATE INDEX oidc_flows_by_expiry ON oidc_flows (expires_at);

-- Which way a session began: 'password' or a provider's name.
ALTER TABLE sessions ADD COLUMN signed_in_with TEXT NOT NULL DEFAULT 'password';

-- An account made by a social login has no password: its `password_hash` is '!' (as Django
-- and /etc/shadow mark an unusable password), which no password verifies.
