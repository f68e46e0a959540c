-- 0005_security: the security trail of failed logins, revoked sessions, and tenant secrets
-- (docs/security.md, docs/secrets.md). Append-only like the others.

-- Failed and throttled logins, kept apart from the tenants' audit chains so that anonymous traffic
-- cannot grow a chain without bound. One row per (minute, address, username, reason) counts every
-- attempt of that minute, so a flood from one place is one row a minute; the retention cleaner
-- keeps the table bounded in age and in rows. tenant_id/user_id are set when the username names a
-- user (the tenant's admins read these rows); no foreign keys, like the audit log.
CREATE TABLE jobplane.login_failures (
  bucket      timestamptz NOT NULL,
  client_ip   text NOT NULL CHECK (char_length(client_ip) <= 64),
  username    text NOT NULL CHECK (char_length(username) <= 64),
  reason      text NOT NULL CHECK (reason IN ('invalid-credentials', 'throttled', 'disabled', 'wrong-current-password')),
  tenant_id   uuid,
  user_id     uuid,
  attempts    integer NOT NULL DEFAULT 1 CHECK (attempts > 0),
  first_at    timestamptz NOT NULL DEFAULT now(),
  last_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (bucket, client_ip, username, reason)
);
CREATE INDEX login_failures_tenant_idx ON jobplane.login_failures (tenant_id, last_at DESC);
CREATE INDEX login_failures_last_idx ON jobplane.login_failures (last_at);

-- Sessions (refresh-token families, the `sid` claim of access tokens) ended by logout, reuse
-- detection or an admin, kept until every access token of theirs has expired. Every API process
-- holds this list in memory, kept current by NOTIFY on jobplane_session_revoked, so checking a
-- token costs no query.
CREATE TABLE jobplane.revoked_sessions (
  session_id  uuid PRIMARY KEY,
  revoked_at  timestamptz NOT NULL DEFAULT now(),
  -- After this no access token of the session can still be valid (revoked_at + the longest access TTL).
  expires_at  timestamptz NOT NULL
);
CREATE INDEX revoked_sessions_expires_idx ON jobplane.revoked_sessions (expires_at);

-- Per-tenant secrets: AES-256-GCM ciphertext (with its 16-byte tag appended) under the key named
-- key_id, with a 12-byte nonce; the additional authenticated data binds it to (tenant, name), so
-- ciphertext copied to another tenant or name does not decrypt. The plaintext never reaches
-- PostgreSQL. Rotation re-encrypts rows whose key_id is not the active key.
CREATE TABLE jobplane.tenant_secrets (
  tenant_id   uuid NOT NULL REFERENCES jobplane.tenants (id) ON DELETE CASCADE,
  name        text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 128),
  key_id      text NOT NULL CHECK (char_length(key_id) BETWEEN 1 AND 32),
  nonce       bytea NOT NULL CHECK (octet_length(nonce) = 12),
  ciphertext  bytea NOT NULL CHECK (octet_length(ciphertext) >= 16),
  description text CHECK (description IS NULL OR char_length(description) <= 500),
  created_by  text,
  updated_by  text,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, name)
);
CREATE INDEX tenant_secrets_key_idx ON jobplane.tenant_secrets (key_id);
