-- Rate-limit counters every instance shares (src/auth/limits.rs, src/db/rate_limits.rs): the
-- generic cell rate algorithm keeps one number per key, the theoretical arrival time of the
-- next request (Unix milliseconds). A row whose time has passed is fully replenished and may
-- be deleted at any moment.
CREATE TABLE rate_limits (
    key TEXT PRIMARY KEY,
    tat BIGINT NOT NULL
);

-- Pruning a session's routine events, and the inspector's per-session list, by session.
CREATE INDEX security_events_by_session ON security_events (session_id, id);

-- A refresh token's place in its session's chain (the first is 0, each child its parent's + 1):
-- a session keeps only its newest generations (src/db/sessions.rs), and the order is exact even
-- when several rotations share one second. Tokens issued before this migration count as 0.
ALTER TABLE refresh_tokens ADD COLUMN generation BIGINT NOT NULL DEFAULT 0;
