-- 0003_audit: the tenant audit log (DESIGN §3 item 7, RELIABILITY-SECURITY §5g / S10). Append-only
-- like 0001 and 0002.
--
-- Every row belongs to one tenant's hash chain: hash = SHA-256(prev_hash ‖ canonical JSON of the
-- entry), computed by src/engine/audit.ts, and prev_hash is the hash of the tenant's previous row
-- in seq order (NULL for the first). Appends of one tenant are serialised with a transaction-level
-- advisory lock on hashtext('audit:' || tenant_id), so seq order is chain order.
--
-- tenant_id has no foreign key, like jobs: an audit entry must outlive nothing and lock nothing.
CREATE TABLE jobplane.audit_log (
  seq         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id   uuid NOT NULL,
  at          timestamptz NOT NULL DEFAULT now(),
  -- 'user:<id>', 'key:<id>', 'anonymous' or 'system'.
  actor       text NOT NULL CHECK (char_length(actor) BETWEEN 1 AND 200),
  -- Dotted verb: 'job.submit', 'schedule.update', 'auth.login_failed', 'key.create', …
  action      text NOT NULL CHECK (char_length(action) BETWEEN 1 AND 100),
  target_type text,
  target_id   text,
  -- Object state before and after the change, with secrets already removed by the application.
  before      jsonb,
  after       jsonb,
  request_id  text,
  client_ip   text,
  prev_hash   bytea CHECK (prev_hash IS NULL OR octet_length(prev_hash) = 32),
  hash        bytea NOT NULL CHECK (octet_length(hash) = 32)
);
CREATE INDEX audit_log_tenant_seq_idx ON jobplane.audit_log (tenant_id, seq);
CREATE INDEX audit_log_tenant_action_idx ON jobplane.audit_log (tenant_id, action, at);

-- Append-only: UPDATE, DELETE and TRUNCATE raise. This stops mistakes and the application role, not
-- an attacker with superuser (or table-owner) rights, who can `ALTER TABLE … DISABLE TRIGGER ALL`
-- or drop the trigger. That is why rows are hash-chained: `verifyAudit` recomputes each tenant's
-- chain and reports the first changed, removed or reordered entry. (Removing the newest entries of
-- a chain is only detectable against an externally stored checkpoint of (seq, hash).)
CREATE FUNCTION jobplane.reject_audit_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'jobplane.audit_log is append-only (% rejected)', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_log_append_only
  BEFORE UPDATE OR DELETE ON jobplane.audit_log
  FOR EACH ROW EXECUTE FUNCTION jobplane.reject_audit_change();
CREATE TRIGGER audit_log_no_truncate
  BEFORE TRUNCATE ON jobplane.audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION jobplane.reject_audit_change();
