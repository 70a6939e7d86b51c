-- What the headless check refuses before a token expires (src/auth/revoked.rs): every instance
-- keeps the rows of the last access-token lifetime in memory, reads them at start-up and every
-- 15 s, and hears of each new one at once through NOTIFY on the channel
-- `tokenpair_revocations` (src/db/revocations.rs). The triggers below write them, so a
-- revocation is recorded whoever makes it: the app, `tokenpair keys revoke`, or an operator's
-- own SQL; and the notification goes out when, and only if, the revoking transaction commits.
--
-- kind 'session': every access token of session `subject` is refused (`at`: when revoked).
-- kind 'user':    every access token of user `subject` issued before `at` is refused.
-- kind 'key':     every token signed by key `subject` is refused (`at`: when revoked).
CREATE TABLE revocations (
    id BIGSERIAL PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('session', 'user', 'key')),
    subject TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX revocations_by_time ON revocations (at);

-- The payload is the row: "kind subject at" (ids and kids hold no spaces).
CREATE FUNCTION notify_revocation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('tokenpair_revocations', NEW.kind || ' ' || NEW.subject || ' ' || NEW.at);
    RETURN NULL;
END;
$$;
CREATE TRIGGER revocation_notify AFTER INSERT ON revocations
FOR EACH ROW EXECUTE FUNCTION notify_revocation();

CREATE FUNCTION record_session_revocation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO revocations (kind, subject, at) VALUES ('session', NEW.id, NEW.revoked_at);
    RETURN NULL;
END;
$$;
CREATE TRIGGER revocation_of_session AFTER UPDATE OF revoked_at ON sessions
FOR EACH ROW WHEN (OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL)
EXECUTE FUNCTION record_session_revocation();

-- A disabled user's tokens are refused up to and including the second of the change; after a
-- password change, tokens issued before it are refused (the session that changed it gets its
-- next token by the usual refresh).
CREATE FUNCTION record_user_revocation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.disabled_at IS NULL AND NEW.disabled_at IS NOT NULL THEN
        INSERT INTO revocations (kind, subject, at) VALUES ('user', NEW.id, NEW.disabled_at + 1);
    END IF;
    IF NEW.password_changed_at > OLD.password_changed_at THEN
        INSERT INTO revocations (kind, subject, at) VALUES ('user', NEW.id, NEW.password_changed_at);
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER revocation_of_user AFTER UPDATE OF disabled_at, password_changed_at ON users
FOR EACH ROW EXECUTE FUNCTION record_user_revocation();
