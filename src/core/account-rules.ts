/**
 * Who may act on whose account (docs/security.md): the rule that closes the superadmin takeover.
 * Pure: the identity service loads the target and the counts under a lock, asks here, and only
 * then writes.
 *
 * Power is a rank: viewer < manager < admin < superadmin; an API key ranks by its strongest scope
 * (never above admin: no key is a superadmin). Nobody may change, disable, delete or set the
 * password of an account that outranks them, nor raise anyone above their own rank; only a
 * superadmin grants or removes superadmin; the last active superadmin and the last active admin
 * of a tenant stay; people change their own password only with the current one, and cannot
 * disable or delete themselves.
 */
import { AppError } from '../errors/app-error.js';
import type { Principal, Role, Scope } from './access.js';

/** Ranks, weakest first. */
export const RANK = Object.freeze({ viewer: 1, manager: 2, admin: 3, superadmin: 4 });

/** The rank of a user account. */
export function accountRank(account: { role: Role; superadmin: boolean }): number {
  return account.superadmin ? RANK.superadmin : RANK[account.role];
}

/** The rank of an API key with these scopes: admin → admin, any write or worker scope → manager, else viewer. */
export function scopesRank(scopes: readonly Scope[]): number {
  if (scopes.includes('admin')) return RANK.admin;
  if (scopes.some((s) => s !== 'jobs:read')) return RANK.manager;
  return RANK.viewer;
}

/** The rank a principal acts with. */
export function principalRank(principal: Principal): number {
  return principal.kind === 'user' ? accountRank(principal) : scopesRank(principal.scopes);
}

/** The account being acted on, as stored. */
export interface TargetAccount {
  id: string;
  role: Role;
  superadmin: boolean;
  disabled: boolean;
}

/** A requested change to an account; `delete` removes it. */
export type AccountChange =
  | { kind: 'update'; role?: Role | undefined; disabled?: boolean | undefined; password?: boolean | undefined; superadmin?: boolean | undefined }
  | { kind: 'delete' };

/** How many accounts still hold the powers the last-one rules protect (counted under a lock). */
export interface PowerCounts {
  /** Enabled superadmins of the installation. */
  activeSuperadmins: number;
  /** Enabled users with the admin role in the target's tenant. */
  activeTenantAdmins: number;
}

/** Whether an account holds the power after the change. */
function after(target: TargetAccount, change: AccountChange): { role: Role; superadmin: boolean; active: boolean } {
  if (change.kind === 'delete') return { role: target.role, superadmin: false, active: false };
  return {
    role: change.role ?? target.role,
    superadmin: change.superadmin ?? target.superadmin,
    active: !(change.disabled ?? target.disabled),
  };
}

/**
 * Why `actor` may not make `change` to `target`, or null when it may. A self password change is
 * allowed here; the caller must verify the current password (see {@link needsCurrentPassword}).
 */
export function accountChangeProblem(actor: Principal, target: TargetAccount, change: AccountChange, counts: PowerCounts): AppError | null {
  const self = actor.kind === 'user' && actor.id === target.id;
  const actorRank = principalRank(actor);
  if (accountRank(target) > actorRank) {
    return new AppError('TARGET_MORE_PRIVILEGED', 'this account holds more power than yours: only a superadmin may change it');
  }
  if (change.kind === 'delete' && self) return new AppError('FORBIDDEN', 'you cannot delete yourself');
  if (change.kind === 'update') {
    if (change.disabled === true && self) return new AppError('FORBIDDEN', 'you cannot disable yourself');
    if (change.superadmin !== undefined && change.superadmin !== target.superadmin && !(actor.kind === 'user' && actor.superadmin)) {
      return new AppError('FORBIDDEN', 'only a superadmin may grant or remove superadmin');
    }
    if (change.role !== undefined && RANK[change.role] > actorRank) {
      return new AppError('TARGET_MORE_PRIVILEGED', `you cannot grant the ${change.role} role, which is above your own`);
    }
  }
  const next = after(target, change);
  const wasSuperadmin = target.superadmin && !target.disabled;
  // A superadmin whose role drops below admin keeps its flag but is demoted all the same.
  if (wasSuperadmin && (!next.superadmin || !next.active || RANK[next.role] < RANK.admin) && counts.activeSuperadmins <= 1) {
    return new AppError('LAST_SUPERADMIN', 'this is the last superadmin: make another user superadmin first');
  }
  const wasAdmin = target.role === 'admin' && !target.disabled;
  if (wasAdmin && (next.role !== 'admin' || !next.active) && counts.activeTenantAdmins <= 1) {
    return new AppError('LAST_ADMIN', 'this is the last admin of the tenant: give another user the admin role first');
  }
  return null;
}

/** Whether a password change by `actor` on `targetId` must present the current password (it is their own). */
export function needsCurrentPassword(actor: Principal, targetId: string): boolean {
  return actor.kind === 'user' && actor.id === targetId;
}

/**
 * Why `actor` may not create or revoke a key with `scopes`, or null: nobody handles a key that
 * would act with more power than they have.
 */
export function keyChangeProblem(actor: Principal, scopes: readonly Scope[]): AppError | null {
  if (scopesRank(scopes) > principalRank(actor)) {
    return new AppError('TARGET_MORE_PRIVILEGED', 'this key would hold more power than yours');
  }
  return null;
}
