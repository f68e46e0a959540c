/**
 * `secrets list|set|delete` over the API (`secrets rewrap` works on the database and lives in
 * local.ts). A value is read from stdin or a hidden prompt, never from an argument: arguments end
 * up in shell history and in every process listing.
 */
import { defined, opt, type Command } from '../command.js';
import { EXIT, prompt, readStdin, UsageError, type Context } from '../context.js';
import { cell, formatAgo, formatTable } from '../format.js';

/** A secret's value from stdin (`--value-stdin`, one trailing newline dropped) or a hidden prompt on a terminal. */
async function readValue(ctx: Context, fromStdin: boolean, name: string): Promise<string> {
  if (fromStdin) {
    const text = (await readStdin(ctx.io.stdin)).replace(/\r?\n$/, '');
    if (text === '') throw new UsageError('no value on stdin');
    return text;
  }
  if (ctx.io.stdin.isTTY !== true) throw new UsageError('give the value with --value-stdin (stdin is not a terminal)');
  const value = await prompt(ctx.io, `value of ${name} (not shown): `, true);
  if (value === '') throw new UsageError('the value must not be empty');
  return value;
}

const listSecrets: Command = {
  name: 'secrets list',
  summary: "The tenant's secrets: names and metadata, never values (managers and admins)",
  usage: '',
  examples: ['jobplane secrets list', 'jobplane secrets list --json'],
  options: {},
  args: { min: 0, max: 0 },
  async run(ctx) {
    const answer = await (await ctx.api()).secrets.list();
    const now = new Date();
    ctx.emit(answer, () =>
      answer.secrets.length === 0
        ? 'no secrets'
        : formatTable(
            ['name', 'description', 'updated', 'by', 'key'],
            answer.secrets.map((s) => [cell(s.name), cell(s.description ?? ''), formatAgo(s.updatedAt, now), cell(s.updatedBy ?? '-'), cell(s.keyId)]),
            ctx.colors,
          ),
    );
    return EXIT.ok;
  },
};

const setSecret: Command = {
  name: 'secrets set',
  summary: 'Create a secret or replace its value (admins); the value is read from stdin or prompted for',
  usage: 'NAME [--description TEXT] [--value-stdin]',
  details: [
    '  --value-stdin    read the value from stdin (one trailing newline is dropped); without it a',
    '                   terminal prompts for it without echo. The value is never an argument.',
    '  --description    what it is for; omitted on a replace keeps the old one, "" clears it',
    '',
    '  Reference it in a payload as {"$secret": "NAME"}: in-process workers and built-in tasks',
    '  resolve it right before the handler runs (docs/secrets.md).',
  ].join('\n'),
  examples: [
    'printf %s "$STRIPE_KEY" | jobplane secrets set stripe-key --description "Stripe live key" --value-stdin',
    'jobplane secrets set webhook-token',
  ],
  options: { description: { type: 'string' }, 'value-stdin': { type: 'boolean' } },
  args: { min: 1, max: 1 },
  async run(ctx, [name], values) {
    const secretName = name ?? '';
    const value = await readValue(ctx, values['value-stdin'] === true, secretName);
    const secret = await (await ctx.api()).secrets.set(secretName, value, defined({ description: opt(values, 'description') }));
    // A fresh row has created_at = updated_at (one statement's now()); a replaced one does not.
    const created = secret.createdAt === secret.updatedAt;
    ctx.emit(secret, () => `${created ? 'created' : 'replaced'} secret ${cell(secret.name)} ${ctx.colors.dim(`(key ${secret.keyId})`)}`);
    return EXIT.ok;
  },
};

const deleteSecret: Command = {
  name: 'secrets delete',
  summary: 'Delete a secret (admins); jobs that still reference it fail when they run',
  usage: 'NAME',
  examples: ['jobplane secrets delete stripe-key'],
  options: {},
  args: { min: 1, max: 1 },
  async run(ctx, [name]) {
    await (await ctx.api()).secrets.delete(name ?? '');
    ctx.emit({ name, deleted: true }, () => `deleted secret ${cell(name ?? '')}`);
    return EXIT.ok;
  },
};

/** The `secrets` API commands. */
export const secretCommands: Command[] = [listSecrets, setSecret, deleteSecret];
