/**
 * What every API command shares: global options (server, token, --json, colour), the
 * authenticated client, output to stdout/stderr and the mapping of failures to exit codes.
 */
import type { ParseArgsConfig } from 'node:util';
import { ApiError, JobplaneClient } from '../client/client.js';
import { normalizeServer, readCredentials, writeCredentials, type StoredCredentials } from './credentials.js';
import { makeColors, shouldColor, type Colors } from './format.js';

/** Exit codes scripts can rely on (docs/cli.md). */
export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  auditBroken: 3,
  notFound: 4,
  notAllowed: 5,
  conflict: 6,
  jobFailed: 10,
  jobCancelled: 11,
} as const;

/** Default API address. */
export const DEFAULT_SERVER = 'http://127.0.0.1:8080';

/** A wrong invocation: printed with a pointer to --help, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A failure with a message and exit code of its own (no stack trace). */
export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode: number) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

/** Options of node:util parseArgs. */
export type OptionSpecs = NonNullable<ParseArgsConfig['options']>;
/** Parsed option values. */
export type Values = Record<string, string | boolean | Array<string | boolean> | undefined>;

/** Options every API command accepts. */
export const GLOBAL_OPTIONS: OptionSpecs = {
  server: { type: 'string' },
  token: { type: 'string' },
  json: { type: 'boolean' },
  'no-color': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

/** The process around a command (injected so commands never touch `process` themselves). */
export interface Io {
  env: Record<string, string | undefined>;
  stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (mode: boolean) => unknown };
}

/** Everything a command runs with. */
export class Context {
  readonly json: boolean;
  readonly colors: Colors;
  readonly server: string;
  readonly isTTY: boolean;
  private readonly tokenOption: string | undefined;
  private client: JobplaneClient | null = null;

  constructor(
    readonly io: Io,
    values: Values,
    private readonly stored: StoredCredentials | null,
  ) {
    this.json = values.json === true;
    this.isTTY = io.stdout.isTTY === true;
    this.colors = makeColors(!this.json && shouldColor({ isTTY: this.isTTY, env: io.env, noColorFlag: values['no-color'] === true }));
    const explicit = str(values.server) ?? nonEmpty(io.env.JOBPLANE_URL);
    this.server = normalizeServer(explicit ?? stored?.server ?? DEFAULT_SERVER);
    this.tokenOption = str(values.token) ?? nonEmpty(io.env.JOBPLANE_TOKEN);
  }

  /** Build the context, reading stored credentials. */
  static async create(io: Io, values: Values): Promise<Context> {
    return new Context(io, values, await readCredentials(io.env));
  }

  /** The stored credentials when they belong to this server. */
  get credentials(): StoredCredentials | null {
    return this.stored && normalizeServer(this.stored.server) === this.server ? this.stored : null;
  }

  /** A client without credentials (login). */
  anonymousClient(): JobplaneClient {
    return new JobplaneClient({ baseUrl: this.server });
  }

  /**
   * The authenticated client: --token / JOBPLANE_TOKEN, else the stored API key, else the stored
   * access token while it has 30 s left, else a refresh (saving the rotated refresh token).
   */
  async api(): Promise<JobplaneClient> {
    if (this.client) return this.client;
    const stored = this.credentials;
    let token = this.tokenOption ?? stored?.apiKey;
    if (!token && stored?.refreshToken) {
      const fresh = stored.accessToken && stored.accessExpiresAt && Date.parse(stored.accessExpiresAt) - Date.now() > 30_000;
      if (fresh) token = stored.accessToken;
      else {
        const client = this.anonymousClient();
        let session: Awaited<ReturnType<JobplaneClient['refresh']>>;
        try {
          session = await client.refresh(stored.refreshToken);
        } catch (error) {
          if (error instanceof ApiError && (error.status === 401 || error.status === 400)) {
            throw new CliError(`the stored session is no longer valid (${error.code}); run \`jobplane login\``, EXIT.notAllowed);
          }
          throw error;
        }
        await writeCredentials(this.io.env, {
          ...stored,
          refreshToken: session.refreshToken,
          accessToken: session.accessToken,
          accessExpiresAt: new Date(Date.now() + session.expiresIn * 1000).toISOString(),
        });
        token = session.accessToken;
      }
    }
    this.client = new JobplaneClient({ baseUrl: this.server, ...(token ? { token } : {}) });
    return this.client;
  }

  /** Write a line to stdout. */
  out(text: string): void {
    this.io.stdout.write(`${text}\n`);
  }

  /** Write a line to stderr (notes, warnings, errors). */
  err(text: string): void {
    this.io.stderr.write(`${text}\n`);
  }

  /** The one JSON document of `--json`, else the human text. */
  emit(document: unknown, human: () => string): void {
    if (this.json) this.out(JSON.stringify(document, null, 2));
    else {
      const text = human();
      if (text !== '') this.out(text);
    }
  }
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value !== undefined && value !== '' ? value : undefined;
}

/** The exit code and stderr line for a failure. */
export function describeFailure(error: unknown, server: string): { code: number; message: string } {
  if (error instanceof UsageError) return { code: EXIT.usage, message: `error: ${error.message}` };
  if (error instanceof CliError) return { code: error.exitCode, message: `error: ${error.message}` };
  if (error instanceof ApiError) {
    const message = `error: ${error.message} (${error.code})`;
    if (error.status === 404) return { code: EXIT.notFound, message };
    if (error.status === 401) return { code: EXIT.notAllowed, message: `${message}; run \`jobplane login\` or pass --token` };
    if (error.status === 403) return { code: EXIT.notAllowed, message };
    if (error.status === 409 || error.status === 422) return { code: EXIT.conflict, message };
    if (error.status === 400) return { code: EXIT.usage, message };
    return { code: EXIT.failure, message };
  }
  if (error instanceof TypeError && /fetch failed/i.test(error.message)) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    return { code: EXIT.failure, message: `error: cannot reach the server at ${server} (${cause?.code ?? cause?.message ?? error.message}); check --server or JOBPLANE_URL` };
  }
  if (error instanceof SyntaxError) return { code: EXIT.failure, message: `error: the server at ${server} did not answer with JSON (${error.message})` };
  return { code: EXIT.failure, message: `error: ${error instanceof Error ? error.message : String(error)}` };
}

/** Read all of stdin as text. */
export async function readStdin(stdin: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk));
  return Buffer.concat(chunks).toString('utf8');
}

/** Ask for a line on the terminal; `hidden` does not echo what is typed (passwords). */
export async function prompt(io: Io, question: string, hidden: boolean): Promise<string> {
  io.stderr.write(question);
  const stdin = io.stdin;
  if (hidden && stdin.setRawMode) stdin.setRawMode(true);
  return new Promise<string>((resolve, reject) => {
    let answer = '';
    const finish = (value: string | null) => {
      stdin.off('data', onData);
      if (hidden && stdin.setRawMode) stdin.setRawMode(false);
      stdin.pause();
      // The terminal echoed the line (and its newline) unless it was hidden.
      if (hidden) io.stderr.write('\n');
      if (value === null) reject(new CliError('cancelled', 130));
      else resolve(value);
    };
    const onData = (data: Buffer | string) => {
      for (const ch of data.toString()) {
        if (ch === '\r' || ch === '\n') return finish(answer);
        if (ch === '\u0003' || ch === '\u0004') return finish(null);
        if (ch === '\u007f' || ch === '\b') answer = answer.slice(0, -1);
        else answer += ch;
      }
    };
    stdin.on('data', onData);
    stdin.resume();
  });
}
