/**
 * Administration: `users …`, `keys …`, `tenants …` and `audit list` (the API side; `audit verify` works on
 * the database and lives in local.ts).
 */
import type { Scope } from '../../core/access.js';
import { defined, int, isoTime, list, opt, required, time, type Command } from '../command.js';
import { EXIT, prompt, readStdin, UsageError, type Context } from '../context.js';
import { cell, formatAgo, formatTable } from '../format.js';

const ROLES = ['viewer', 'manager', 'admin'] as const;
type Role = (typeof ROLES)[number];

function role(value: string | undefined): Role | undefined {
  if (value === undefined) return undefined;
  if (!(ROLES as readonly string[]).includes(value)) throw new UsageError(`--role must be viewer, manager or admin, not "${value}"`);
  return value as Role;
}

/** A password from stdin (`--password-stdin`) or, on a terminal, a hidden prompt. */
export async function readPassword(ctx: Context, fromStdin: boolean, question = 'password: '): Promise<string> {
  if (fromStdin) {
    const text = (await readStdin(ctx.io.stdin)).replace(/\r?\n$/, '');
    if (text === '') throw new UsageError('no password on stdin');
    return text;
  }
  if (ctx.io.stdin.isTTY !== true) throw new UsageError('give the password with --password-stdin (stdin is not a terminal)');
  return prompt(ctx.io, question, true);
}

const listUsers: Command = {
  name: 'users list',
  summary: 'Users of your tenant',
  usage: '',
  examples: ['jobplane users list'],
  options: {},
  args: { min: 0, max: 0 },
  async run(ctx) {
    const answer = await (await ctx.api()).users.list();
    const now = new Date();
    ctx.emit(answer, () =>
      formatTable(
        ['id', 'username', 'role', 'state', 'last login'],
        answer.users.map((u) => [u.id, u.username, u.role, u.disabled === true ? ctx.colors.red('disabled') : 'active', formatAgo(typeof u.lastLoginAt === 'string' ? u.lastLoginAt : null, now)]),
        ctx.colors,
      ),
    );
    return EXIT.ok;
  },
};

const createUser: Command = {
  name: 'users create',
  summary: 'Create a user (the password is read from stdin or prompted for)',
  usage: '--username NAME --role viewer|manager|admin [--password-stdin]',
  examples: ['jobplane users create --username ada --role manager', 'printf %s "$PASSWORD" | jobplane users create --username ci --role viewer --password-stdin'],
  options: { username: { type: 'string' }, role: { type: 'string' }, 'password-stdin': { type: 'boolean' } },
  args: { min: 0, max: 0 },
  async run(ctx, _args, values) {
    const username = required(values, 'username');
    const userRole = role(required(values, 'role')) ?? 'viewer';
    const password = await readPassword(ctx, values['password-stdin'] === true, `password for ${username}: `);
    const user = await (await ctx.api()).users.create({ username, password, role: userRole });
    ctx.emit(user, () => `created user ${username} (${userRole}) ${ctx.colors.dim(user.id)}`);
    return EXIT.ok;
  },
};

const updateUser: Command = {
  name: 'users update',
  summary: "Change a user's role, disable or enable them, or set a new password",
  usage: 'ID [--role R] [--disable|--enable] [--grant-superadmin|--revoke-superadmin] [--password-stdin]',
  details: `  Nobody may change an account that holds more power than their own (a tenant admin and a
  superadmin), and only superadmins grant or revoke superadmin. Your own password: use
  \`jobplane passwd\`, which asks for the current one.`,
  examples: ['jobplane users update 0193a5c2-… --role admin', 'jobplane users update 0193a5c2-… --disable', 'jobplane users update 0193a5c2-… --grant-superadmin'],
  options: {
    role: { type: 'string' },
    disable: { type: 'boolean' },
    enable: { type: 'boolean' },
    'grant-superadmin': { type: 'boolean' },
    'revoke-superadmin': { type: 'boolean' },
    'password-stdin': { type: 'boolean' },
  },
  args: { min: 1, max: 1 },
  async run(ctx, [id], values) {
    if (values.disable === true && values.enable === true) throw new UsageError('give --disable or --enable, not both');
    if (values['grant-superadmin'] === true && values['revoke-superadmin'] === true) throw new UsageError('give --grant-superadmin or --revoke-superadmin, not both');
    const change = defined({
      role: role(opt(values, 'role')),
      disabled: values.disable === true ? true : values.enable === true ? false : undefined,
      superadmin: values['grant-superadmin'] === true ? true : values['revoke-superadmin'] === true ? false : undefined,
      password: values['password-stdin'] === true ? await readPassword(ctx, true) : undefined,
    });
    if (Object.keys(change).length === 0) throw new UsageError('nothing to change: give --role, --disable, --enable, --grant-superadmin, --revoke-superadmin or --password-stdin');
    const user = await (await ctx.api()).users.update(id ?? '', change);
    ctx.emit(user, () => `updated user ${cell(user.username)}: ${cell(user.role)}${user.disabled === true ? ', disabled' : ''}`);
    return EXIT.ok;
  },
};

const deleteUser: Command = {
  name: 'users delete',
  summary: 'Delete a user',
  usage: 'ID',
  examples: ['jobplane users delete 0193a5c2-…'],
  options: {},
  args: { min: 1, max: 1 },
  async run(ctx, [id]) {
    await (await ctx.api()).users.remove(id ?? '');
    ctx.emit({ id, deleted: true }, () => `deleted user ${id}`);
    return EXIT.ok;
  },
};

const createKey: Command = {
  name: 'keys create',
  summary: 'Create an API key (printed once: store it now)',
  usage: '--name NAME --scope SCOPE [--scope SCOPE…] [--expires ISO]',
  details: '  --scope   jobs:read, jobs:write, schedules:write, worker, admin (repeat or comma list)',
  examples: ['jobplane keys create --name billing-service --scope jobs:write --scope jobs:read', 'jobplane keys create --name worker-eu --scope worker --expires 2027-01-01T00:00:00Z --json'],
  options: { name: { type: 'string' }, scope: { type: 'string', multiple: true }, expires: { type: 'string' } },
  args: { min: 0, max: 0 },
  async run(ctx, _args, values) {
    const scopes = list(values, 'scope');
    if (scopes.length === 0) throw new UsageError('give at least one --scope');
    const key = await (await ctx.api()).keys.create({ name: required(values, 'name'), scopes: scopes as Scope[], ...defined({ expiresAt: isoTime(values, 'expires') }) });
    if (!ctx.json) ctx.err(ctx.colors.yellow('This key is shown once. Store it now; only its hash is kept.'));
    ctx.emit(key, () => (ctx.isTTY ? `${ctx.colors.dim(`key ${key.id} (${key.scopes.join(', ')}):`)}\n${key.key}` : key.key));
    return EXIT.ok;
  },
};

const listKeys: Command = {
  name: 'keys list',
  summary: 'API keys (never their secrets)',
  usage: '',
  examples: ['jobplane keys list'],
  options: {},
  args: { min: 0, max: 0 },
  async run(ctx) {
    const answer = await (await ctx.api()).keys.list();
    const now = new Date();
    ctx.emit(answer, () =>
      answer.keys.length === 0
        ? 'no keys'
        : formatTable(
            ['id', 'name', 'key', 'scopes', 'state', 'last used'],
            answer.keys.map((k) => [
              k.id,
              cell(k.name),
              `${k.prefix}…${cell(k.last4)}`,
              k.scopes.join(','),
              k.revokedAt ? ctx.colors.red('revoked') : typeof k.expiresAt === 'string' && Date.parse(k.expiresAt) < now.getTime() ? ctx.colors.yellow('expired') : ctx.colors.green('active'),
              formatAgo(typeof k.lastUsedAt === 'string' ? k.lastUsedAt : null, now),
            ]),
            ctx.colors,
          ),
    );
    return EXIT.ok;
  },
};

const revokeKey: Command = {
  name: 'keys revoke',
  summary: 'Revoke an API key (it stops working at once)',
  usage: 'ID',
  examples: ['jobplane keys revoke 0193a5c2-…'],
  options: {},
  args: { min: 1, max: 1 },
  async run(ctx, [id]) {
    const answer = await (await ctx.api()).keys.revoke(id ?? '');
    ctx.emit(answer, () => `revoked key ${id}`);
    return EXIT.ok;
  },
};

const auditList: Command = {
  name: 'audit list',
  summary: 'Audit log entries, newest first (admin)',
  usage: '[--action A] [--actor user:ID|key:ID] [--target ID] [--since 1d|ISO] [--until ISO] [--limit N] [--cursor C]',
  examples: ['jobplane audit list --since 1d', 'jobplane audit list --action key.create --json'],
  options: { action: { type: 'string' }, actor: { type: 'string' }, target: { type: 'string' }, since: { type: 'string' }, until: { type: 'string' }, limit: { type: 'string' }, cursor: { type: 'string' } },
  args: { min: 0, max: 0 },
  async run(ctx, _args, values) {
    const page = await (await ctx.api()).audit.list(
      defined({ action: opt(values, 'action'), actor: opt(values, 'actor'), targetId: opt(values, 'target'), since: time(values, 'since'), until: time(values, 'until'), limit: int(values, 'limit', 1), cursor: opt(values, 'cursor') }),
    );
    ctx.emit(page, () => {
      if (page.entries.length === 0) return 'no entries';
      const table = formatTable(['seq', 'at', 'actor', 'action', 'target'], page.entries.map((e) => [e.seq, e.at, e.actor, e.action, e.targetId ? `${cell(e.targetType)} ${e.targetId}` : '-']), ctx.colors);
      return page.nextCursor ? `${table}\n${ctx.colors.dim(`more: --cursor ${page.nextCursor}`)}` : table;
    });
    return EXIT.ok;
  },
};

const listTenants: Command = {
  name: 'tenants list',
  summary: 'Every tenant (superadmins only)',
  usage: '',
  examples: ['jobplane tenants list', 'jobplane tenants list --json'],
  options: {},
  args: { min: 0, max: 0 },
  async run(ctx) {
    const answer = await (await ctx.api()).tenants.list();
    const now = new Date();
    ctx.emit(answer, () =>
      formatTable(['id', 'slug', 'name', 'users', 'created'], answer.tenants.map((t) => [t.id, t.slug, t.name, String(t.users), formatAgo(t.createdAt, now)]), ctx.colors),
    );
    return EXIT.ok;
  },
};

const createTenant: Command = {
  name: 'tenants create',
  summary: 'Create a tenant and its first admin (superadmins only; the password is read from stdin or prompted for)',
  usage: '--slug SLUG --name NAME --admin USERNAME [--password-stdin]',
  examples: ['jobplane tenants create --slug acme --name "Acme Ltd" --admin acme-admin', 'printf %s "$PASSWORD" | jobplane tenants create --slug acme --name Acme --admin acme-admin --password-stdin --json'],
  options: { slug: { type: 'string' }, name: { type: 'string' }, admin: { type: 'string' }, 'password-stdin': { type: 'boolean' } },
  args: { min: 0, max: 0 },
  async run(ctx, _args, values) {
    const slug = required(values, 'slug');
    const name = required(values, 'name');
    const username = required(values, 'admin');
    const password = await readPassword(ctx, values['password-stdin'] === true, `password for ${username}: `);
    const created = await (await ctx.api()).tenants.create({ slug, name, admin: { username, password } });
    ctx.emit(created, () => `created tenant ${slug} ${ctx.colors.dim(created.tenant.id)} with admin ${username}; they log in with: jobplane login --username ${username}`);
    return EXIT.ok;
  },
};

/** The `tenants` commands. */
export const tenantCommands: Command[] = [listTenants, createTenant];
/** The `users` commands. */
export const userCommands: Command[] = [listUsers, createUser, updateUser, deleteUser];
/** The `keys` commands. */
export const keyCommands: Command[] = [createKey, listKeys, revokeKey];
/** The `audit` API commands. */
export const auditCommands: Command[] = [auditList];
