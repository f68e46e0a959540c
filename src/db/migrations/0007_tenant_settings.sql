-- 0007_tenant_settings: per-tenant settings (issue 11). strict_tasks: a submit for a task that no
-- live worker handles is refused with 422 TASK_UNKNOWN instead of being stored with a warning.
ALTER TABLE jobplane.tenants ADD COLUMN strict_tasks boolean NOT NULL DEFAULT false;
