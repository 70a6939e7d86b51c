-- Sender-constrained sessions (DPoP, RFC 9449; src/auth/dpop.rs): the RFC 7638 thumbprint of
-- the key a session's tokens are bound to, NULL for a session of plain bearer tokens. Every
-- refresh of a bound session must carry a proof signed by that key.
ALTER TABLE sessions ADD COLUMN jkt TEXT;
