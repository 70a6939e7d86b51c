-- Email: verification, password reset, and the outbox that delivers them (src/mail.rs,
-- src/auth/recovery.rs, src/auth/verify.rs).

-- When the account's current address was shown to be its owner's (a verification link, a
-- password reset, or a provider that vouched for it); NULL: not yet.
ALTER TABLE users ADD COLUMN email_verified_at BIGINT;

-- Links sent by mail. Only the SHA-256 of a token is stored; `used_at` makes it single use, and
-- a newer link for the same account and purpose sets it on the older ones. `email` is the
-- address the link went to: a verification marks only that one.
CREATE TABLE one_time_tokens (
    token_hash TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose    TEXT NOT NULL CHECK (purpose IN ('password_reset', 'verify_email')),
    email      TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT
);
CREATE INDEX one_time_tokens_by_user ON one_time_tokens (user_id, purpose);
CREATE INDEX one_time_tokens_by_expiry ON one_time_tokens (expires_at);

-- Mail the app has accepted and not yet handed to the SMTP server. A sender claims a row for a
-- while (`claimed_until`), so two instances never send it at once; a delivered row is deleted
-- (its link with it); a failed one waits until `next_attempt_at`.
CREATE TABLE mail_outbox (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    recipient       TEXT NOT NULL,
    subject         TEXT NOT NULL,
    body            TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    claimed_until   BIGINT,
    last_error      TEXT
);
CREATE INDEX mail_outbox_by_due ON mail_outbox (next_attempt_at);
