import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';

/** Loaded into every child: it stops when the test process is gone (see the module). */
export const EXIT_WITH_PARENT = new URL('./exit-with-parent.ts', import.meta.url).href;

/** A `jobplane start` running as its own OS process. */
export interface JobplaneProcess {
  /** The API's address (meaningful when the process runs the api role). */
  url: string;
  /** The ids it logged when it was up (worker and scheduler ids, when it runs those roles). */
  workerId: string | null;
  schedulerId: string | null;
  /** The operations listener's address, when JOBPLANE_OPS_PORT was given. */
  opsUrl: string | null;
  process: ChildProcess;
  /** Everything it printed (stdout lines), for failure messages. */
  output: string[];
  /** SIGTERM and wait for exit (SIGKILL after 15 s). */
  stop(): Promise<void>;
  /** SIGKILL and wait for exit. */
  kill(): Promise<void>;
}

/** A TCP port free on the loopback interface right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (typeof address !== 'object' || address === null) throw new Error('no port');
  return address.port;
}

/** Start `bin/jobplane.js start` with `env` and `args` (e.g. `--role worker`) and resolve once it runs. */
export async function startJobplaneProcess(env: Record<string, string>, args: string[] = []): Promise<JobplaneProcess> {
  const port = await freePort();
  // The IPC channel is only there so the child notices when this process dies (EXIT_WITH_PARENT).
  const child = spawn(process.execPath, ['--import', 'tsx', '--import', EXIT_WITH_PARENT, 'bin/jobplane.js', 'start', ...args], {
    env: { ...process.env, PORT: String(port), JOBPLANE_HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  const output: string[] = [];
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const running = await new Promise<{ workerId?: string; schedulerId?: string; opsUrl?: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`jobplane start was not running within 60 s:\n${output.join('\n')}`)), 60_000);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      output.push(line);
      if (line.includes('"jobplane is running')) {
        clearTimeout(timer);
        resolve(JSON.parse(line) as { workerId?: string; schedulerId?: string; opsUrl?: string });
      }
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`jobplane start exited:\n${output.join('\n')}`));
    });
  });
  return {
    url: `http://127.0.0.1:${port}`,
    workerId: running.workerId ?? null,
    schedulerId: running.schedulerId ?? null,
    opsUrl: running.opsUrl ?? null,
    process: child,
    output,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}
