-- A new link voids the address's live one (`UPDATE … WHERE user_id AND purpose AND used_at IS
-- NULL`). The index on (user_id, purpose) alone made that walk every link of the account still
-- kept (used ones stay until they expire), so each request cost more than the last; with
-- `used_at` in the index it finds the live link at once. The prefix still serves the cascade
-- when an account is deleted.
DROP INDEX one_time_tokens_by_user;
CREATE INDEX one_time_tokens_by_user ON one_time_tokens (user_id, purpose, used_at);
