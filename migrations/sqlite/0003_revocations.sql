-- What the headless check refuses before a token expires (src/auth/revoked.rs): every instance
-- keeps the rows of the last access-token lifetime in memory, reads them at start-up and every
-- 15 s (src/db/revocations.rs). The triggers below write them, so a revocation is recorded
-- whoever makes it: the app, `tokenpair keys revoke`, or an operator's own SQL.
--
-- kind 'session': every access token of session `subject` is refused (`at`: when revoked).
-- kind 'user':    every access token of user `subject` issued before `at` is refused.
-- kind 'key':     every token signed by key `subject` is refused (`at`: when revoked).
CREATE TABLE revocations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL CHECK (kind IN ('session', 'user', 'key')),
    subject TEXT NOT NULL,
    at INTEGER NOT NULL
);
CREATE INDEX revocations_by_time ON revocations (at);

CREATE TRIGGER revocation_of_session AFTER UPDATE OF revoked_at ON sessions
WHEN OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL
BEGIN
    INSERT INTO revocations (kind, subject, at) VALUES ('session', NEW.id, NEW.revoked_at);
END;

-- A disabled user's tokens are refused up to and including the second of the change.
CREATE TRIGGER revocation_of_disabled_user AFTER UPDATE OF disabled_at ON users
WHEN OLD.disabled_at IS NULL AND NEW.disabled_at IS NOT NULL
BEGIN
    INSERT INTO revocations (kind, subject, at) VALUES ('user', NEW.id, NEW.disabled_at + 1);
END;

-- After a password change, tokens issued before it are refused; the session that changed it
-- gets its next token by the usual refresh.
CREATE TRIGGER revocation_of_changed_password AFTER UPDATE OF password_changed_at ON users
WHEN NEW.password_changed_at > OLD.password_changed_at
BEGIN
    INSERT INTO revocations (kind, subject, at) VALUES ('user', NEW.id, NEW.password_changed_at);
END;
