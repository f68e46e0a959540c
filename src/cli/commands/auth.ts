/**
 * `jobplane login`, `logout` and `whoami`.
 */
import { ApiError, JobplaneClient } from '../../client/client.js';
import { opt, type Command } from '../command.js';
import { CliError, EXIT, prompt, readStdin, UsageError } from '../context.js';
import { credentialsPath, removeCredentials, writeCredentials } from '../credentials.js';
import { readPassword } from './admin.js';

const login: Command = {
  name: 'login',
  summary: 'Log in and store the session (or an API key) for later commands',
  usage: '[--server URL] [--username NAME] [--password-stdin | --api-key-stdin]',
  details: `  Stores {server, refresh token} — or {server, API key} with --api-key-stdin — in
  $XDG_CONFIG_HOME/jobplane/credentials.json (default ~/.config/jobplane), mode 0600.
  On a terminal, missing username and password are prompted for (the password is not echoed).
  Later commands to the same server use it; the session is refreshed (and the rotated token
  saved) when the access token expires.`,
  examples: [
    'jobplane login --server https://jobs.example.com --username ada',
    'printf %s "$JOBPLANE_PASSWORD" | jobplane login --username admin --password-stdin',
    'printf %s "$JOBPLANE_KEY" | jobplane login --api-key-stdin',
  ],
  options: { username: { type: 'string', short: 'u' }, 'password-stdin': { type: 'boolean' }, 'api-key-stdin': { type: 'boolean' } },
  args: { min: 0, max: 0 },
  async run(ctx, _args, values) {
    if (values['password-stdin'] === true && values['api-key-stdin'] === true) throw new UsageError('give --password-stdin or --api-key-stdin, not both');
    if (values['api-key-stdin'] === true) {
      const apiKey = (await readStdin(ctx.io.stdin)).trim();
      if (apiKey === '') throw new UsageError('no API key on stdin');
      const me = await new JobplaneClient({ baseUrl: ctx.server, token: apiKey }).me();
      const path = await writeCredentials(ctx.io.env, { server: ctx.server, apiKey });
      ctx.emit(me, () => `logged in to ${ctx.server} with API key ${me.id}; saved to ${path}`);
      return EXIT.ok;
    }
    let username = opt(values, 'username');
    if (username === undefined) {
      if (ctx.io.stdin.isTTY !== true || values['password-stdin'] === true) throw new UsageError('give --username');
      username = (await prompt(ctx.io, 'username: ', false)).trim();
    }
    const password = await readPassword(ctx, values['password-stdin'] === true);
    const client = ctx.anonymousClient();
    let session: Awaited<ReturnType<JobplaneClient['login']>>;
    try {
      session = await client.login(username, password);
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) throw new CliError(`${error.message} (${error.code})`, EXIT.notAllowed);
      throw error;
    }
    const me = await client.me();
    const path = await writeCredentials(ctx.io.env, {
      server: ctx.server,
      username,
      refreshToken: session.refreshToken,
      accessToken: session.accessToken,
      accessExpiresAt: new Date(Date.now() + session.expiresIn * 1000).toISOString(),
    });
    ctx.emit(me, () => `logged in to ${ctx.server} as ${username}${me.role ? ` (${me.role})` : ''}; saved to ${path}`);
    return EXIT.ok;
  },
};

const logout: Command = {
  name: 'logout',
  summary: 'End the stored session and remove the stored credentials',
  usage: '',
  examples: ['jobplane logout'],
  options: {},
  args: { min: 0, max: 0 },
  async run(ctx) {
    const stored = ctx.credentials;
    if (stored?.refreshToken) {
      // Best effort: the local file goes even when the server cannot be told.
      await ctx
        .anonymousClient()
        .logout(stored.refreshToken)
        .catch(() => undefined);
    }
    const removed = await removeCredentials(ctx.io.env);
    ctx.emit({ loggedOut: removed, path: credentialsPath(ctx.io.env) }, () => (removed ? `logged out; removed ${credentialsPath(ctx.io.env)}` : 'not logged in'));
    return EXIT.ok;
  },
};

const whoami: Command = {
  name: 'whoami',
  summary: 'Who the current credentials belong to',
  usage: '',
  examples: ['jobplane whoami'],
  options: {},
  args: { min: 0, max: 0 },
  async run(ctx) {
    const me = await (await ctx.api()).me();
    ctx.emit(me, () => `${me.kind === 'key' ? `API key ${me.id}` : `${me.username ?? me.id} (${me.role ?? me.kind})`} on ${ctx.server}`);
    return EXIT.ok;
  },
};

const passwd: Command = {
  name: 'passwd',
  summary: 'Change your own password (asks for the current one); every session of yours ends',
  usage: '[--password-stdin]',
  details: `  On a terminal it asks for the current password and the new one twice (not echoed). With
  --password-stdin it reads two lines: the current password, then the new one. Wrong current
  passwords are throttled like logins. Afterwards the stored session is removed: log in again.`,
  examples: ['jobplane passwd', 'printf "%s\\n%s\\n" "$OLD" "$NEW" | jobplane passwd --password-stdin'],
  options: { 'password-stdin': { type: 'boolean' } },
  args: { min: 0, max: 0 },
  async run(ctx, _args, values) {
    let current: string;
    let next: string;
    if (values['password-stdin'] === true) {
      const [first, second] = (await readStdin(ctx.io.stdin)).split(/\r?\n/);
      if (!first || !second) throw new UsageError('give two lines on stdin: the current password, then the new one');
      [current, next] = [first, second];
    } else {
      if (ctx.io.stdin.isTTY !== true) throw new UsageError('give the passwords with --password-stdin (stdin is not a terminal)');
      current = await prompt(ctx.io, 'current password: ', true);
      next = await prompt(ctx.io, 'new password: ', true);
      if ((await prompt(ctx.io, 'new password again: ', true)) !== next) throw new UsageError('the two new passwords differ');
    }
    await (await ctx.api()).changePassword(current, next);
    await removeCredentials(ctx.io.env);
    ctx.emit({ passwordChanged: true }, () => 'password changed; every session of yours has ended: log in again with jobplane login');
    return EXIT.ok;
  },
};

/** Session commands. */
export const authCommands: Command[] = [login, logout, whoami, passwd];
