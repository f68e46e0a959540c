-- 0002_identity: users, refresh tokens, API keys, login throttling and generated secrets (DESIGN §6,
-- RELIABILITY-SECURITY §5b–§5d, §5i). Append-only like 0001.

-- Usernames are global (login takes a username only), stored NFC-normalised and lower-cased by the
-- application; the CHECK keeps a direct SQL insert from creating a case-variant twin.
CREATE TABLE jobplane.users (
  id             uuid PRIMARY KEY,
  tenant_id      uuid NOT NULL REFERENCES jobplane.tenants (id) ON DELETE CASCADE,
  username       text NOT NULL UNIQUE
                   CHECK (username = lower(username) AND char_length(username) BETWEEN 3 AND 64),
  -- A PHC string ($argon2id$v=19$m=…,t=…,p=…$salt$hash), so parameters can change and be detected.
  password_hash  text NOT NULL CHECK (password_hash LIKE '$argon2%'),
  role           text NOT NULL CHECK (role IN ('viewer', 'manager', 'admin')),
  superadmin     boolean NOT NULL DEFAULT false,
  -- Carried in access tokens as `tv`; bumping it invalidates every outstanding access token.
  token_version  integer NOT NULL DEFAULT 0,
  disabled       boolean NOT NULL DEFAULT false,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  last_login_at  timestamptz
);
CREATE INDEX users_tenant_idx ON jobplane.users (tenant_id, username);

-- Refresh tokens: only the SHA-256 of the opaque token is stored (a database leak yields nothing
-- usable). Rotation forms a family; reuse of a used token revokes the family (RFC 9700 §4.14.2).
CREATE TABLE jobplane.refresh_tokens (
  id          uuid PRIMARY KEY,
  family_id   uuid NOT NULL,
  user_id     uuid NOT NULL REFERENCES jobplane.users (id) ON DELETE CASCADE,
  token_hash  bytea NOT NULL UNIQUE CHECK (octet_length(token_hash) = 32),
  parent_id   uuid,
  created_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz NOT NULL,
  used_at     timestamptz,
  revoked_at  timestamptz
);
CREATE INDEX refresh_tokens_family_idx ON jobplane.refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user_idx ON jobplane.refresh_tokens (user_id);

-- API keys: HMAC-SHA-256(pepper, key) only, plus the non-secret prefix and last four characters
-- for display. A fast keyed hash is enough because keys carry ≥ 128 bits of entropy.
CREATE TABLE jobplane.api_keys (
  id            uuid PRIMARY KEY,
  tenant_id     uuid NOT NULL REFERENCES jobplane.tenants (id) ON DELETE CASCADE,
  name          text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
  prefix        text NOT NULL UNIQUE,
  key_hash      bytea NOT NULL UNIQUE CHECK (octet_length(key_hash) = 32),
  last4         text NOT NULL CHECK (char_length(last4) = 4),
  scopes        text[] NOT NULL
                  CHECK (cardinality(scopes) > 0
                         AND scopes <@ ARRAY['jobs:read', 'jobs:write', 'schedules:write', 'worker', 'admin']::text[]),
  expires_at    timestamptz,
  last_used_at  timestamptz,
  revoked_at    timestamptz,
  created_by    text,
  created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX api_keys_tenant_idx ON jobplane.api_keys (tenant_id, created_at);

-- Login throttling counters, keyed 'user:<name>' or 'ip:<address>'. Shared by every API process.
CREATE TABLE jobplane.login_attempts (
  key           text PRIMARY KEY,
  failures      integer NOT NULL DEFAULT 0,
  locked_until  timestamptz,
  updated_at    timestamptz NOT NULL DEFAULT now()
);

-- Secrets generated on first start when configuration gives none (JWT signing key, API key pepper),
-- so every API process signs and checks with the same bytes.
CREATE TABLE jobplane.auth_secrets (
  name        text PRIMARY KEY,
  value       bytea NOT NULL CHECK (octet_length(value) >= 32),
  created_at  timestamptz NOT NULL DEFAULT now()
);
