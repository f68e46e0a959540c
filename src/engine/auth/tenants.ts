/** Tenants: create one with its first admin, list them. */
import { uuidv7 } from '../../db/ids.js';
import { isPgError, withTransaction } from '../../db/pool.js';
import * as q from '../../db/queries/identity.js';
import { AppError, invalidField } from '../../errors/app-error.js';
import { publicUser, type IdentityContext, type Tenant, type User } from './identity-context.js';
import { requirePassword, requireUsername } from './inputs.js';
import { hashPassword } from './passwords.js';

const TENANT_SLUG = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** Tenants over the shared identity state. */
export function createTenants(ctx: Pick<IdentityContext, 'pool'>) {
  const { pool } = ctx;

  /**
   * Create a tenant and its first admin in one transaction: either both exist afterwards or
   * neither. TENANT_SLUG_TAKEN / USERNAME_TAKEN name the clash.
   */
  async function createTenant(input: { slug: string; name: string; admin: { username: string; password: string } }): Promise<{ tenant: Tenant; admin: User }> {
    const slug = typeof input.slug === 'string' ? input.slug.trim() : '';
    if (!TENANT_SLUG.test(slug)) throw invalidField('/slug', 'must be 1 to 63 characters of a-z, 0-9 and "-", starting with a letter or digit');
    const name = typeof input.name === 'string' ? input.name.trim() : '';
    if (name.length < 1 || name.length > 200) throw invalidField('/name', 'must be 1 to 200 characters');
    const username = requireUsername(input.admin.username, '/admin/username');
    const password = requirePassword(input.admin.password, '/admin/password');
    const passwordHash = await hashPassword(password);
    try {
      return await withTransaction(pool, async (tx) => {
        const tenant = await q.insertTenant(tx, { id: uuidv7(), slug, name });
        const admin = await q.insertUser(tx, { id: uuidv7(), tenantId: tenant.id, username, passwordHash, role: 'admin', superadmin: false });
        return { tenant: { ...tenant, users: 1 }, admin: publicUser(admin) };
      });
    } catch (error) {
      if (isPgError(error, '23505')) {
        const constraint = (error as { constraint?: string }).constraint ?? '';
        throw constraint.startsWith('tenants') ? new AppError('TENANT_SLUG_TAKEN', `a tenant with slug "${slug}" already exists`) : new AppError('USERNAME_TAKEN', `the username "${username}" is taken (usernames are unique across tenants)`);
      }
      throw error;
    }
  }

  /** Every tenant, oldest first. */
  function listTenants(): Promise<Tenant[]> {
    return q.listTenants(pool);
  }

  return { createTenant, listTenants };
}
