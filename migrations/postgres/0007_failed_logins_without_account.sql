-- A failed login for an address with no account is recorded too, as an event of no user
-- (user_id NULL, shown to nobody): the write that follows a wrong password then follows an
-- unknown address as well, so the work after the answer does not tell them apart
-- (src/auth/flow.rs).
ALTER TABLE security_events ALTER COLUMN user_id DROP NOT NULL;
