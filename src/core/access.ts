/**
 * Who is calling and what they may do (docs/decisions.md #15): roles for people, scopes for API keys.
 * Pure: used by the HTTP layer to guard routes and by services to check actors.
 */

/** A user's role within a tenant. */
export type Role = 'viewer' | 'manager' | 'admin';
/** Every role, weakest first. */
export const ROLES: readonly Role[] = ['viewer', 'manager', 'admin'];

/** What an API key may do. */
export type Scope = 'jobs:read' | 'jobs:write' | 'schedules:write' | 'worker' | 'admin';
/** Every scope. */
export const SCOPES: readonly Scope[] = ['jobs:read', 'jobs:write', 'schedules:write', 'worker', 'admin'];

/** An authenticated caller. */
export type Principal =
  | {
      kind: 'user';
      /** User id. */
      id: string;
      tenantId: string;
      username: string;
      role: Role;
      superadmin: boolean;
    }
  | {
      kind: 'key';
      /** API key id. */
      id: string;
      tenantId: string;
      /** Visible prefix of the key, for logs and audit. */
      prefix: string;
      scopes: readonly Scope[];
    };

/** A permission a route needs. */
export type Permission =
  | 'jobs:read'
  | 'jobs:write'
  | 'schedules:read'
  | 'schedules:write'
  | 'queues:read'
  | 'queues:write'
  | 'workers:read'
  | 'worker'
  | 'audit:read'
  /** Names and metadata of the tenant's secrets, never their values. */
  | 'secrets:read'
  /** Setting and deleting secrets. */
  | 'secrets:write'
  | 'admin'
  /** Creating and listing tenants: no role or scope grants it, only the `superadmin` flag. */
  | 'tenants';

const ROLE_PERMISSIONS: Readonly<Record<Role, readonly Permission[]>> = {
  viewer: ['jobs:read', 'schedules:read', 'queues:read', 'workers:read'],
  manager: ['jobs:read', 'jobs:write', 'schedules:read', 'schedules:write', 'queues:read', 'workers:read', 'secrets:read'],
  admin: ['jobs:read', 'jobs:write', 'schedules:read', 'schedules:write', 'queues:read', 'queues:write', 'workers:read', 'audit:read', 'secrets:read', 'secrets:write', 'admin'],
};

const SCOPE_PERMISSIONS: Readonly<Record<Scope, readonly Permission[]>> = {
  'jobs:read': ['jobs:read', 'schedules:read', 'queues:read', 'workers:read'],
  'jobs:write': ['jobs:read', 'jobs:write'],
  'schedules:write': ['schedules:read', 'schedules:write'],
  worker: ['worker'],
  admin: ['jobs:read', 'jobs:write', 'schedules:read', 'schedules:write', 'queues:read', 'queues:write', 'workers:read', 'audit:read', 'secrets:read', 'secrets:write', 'admin'],
};

/** Whether a principal holds a permission. */
export function can(principal: Principal, permission: Permission): boolean {
  if (principal.kind === 'user') return principal.superadmin || ROLE_PERMISSIONS[principal.role].includes(permission);
  return principal.scopes.some((scope) => SCOPE_PERMISSIONS[scope].includes(permission));
}

/** A stable actor string for logs, audit and `created_by`: `user:<id>` or `key:<id>`. */
export function actorOf(principal: Principal): string {
  return `${principal.kind}:${principal.id}`;
}
