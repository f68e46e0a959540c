/** What the figures were measured on: CPU, cores, memory, Node, PostgreSQL version and durability settings. */
import os from 'node:os';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { withAdmin } from './db.js';

const require = createRequire(import.meta.url);

/**
 * The installed version of package `name`, or null when it cannot be found. Looks for the
 * package.json above the package's entry point, because packages with an `exports` map (such as
 * graphile-worker 0.18) do not export `<name>/package.json`.
 */
function packageVersion(name: string): string | null {
  let dir: string;
  try {
    dir = dirname(require.resolve(name));
  } catch {
    return null;
  }
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === name) return pkg.version ?? null;
    } catch {
      // no package.json here: keep walking up
    }
    const parent = dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  platform: string;
  node: string;
  postgres: Record<string, string>;
  packages: Record<string, string | null>;
}

export async function machineInfo(): Promise<MachineInfo> {
  const cpus = os.cpus();
  const settings = [
    'server_version',
    'fsync',
    'synchronous_commit',
    'wal_sync_method',
    'full_page_writes',
    'shared_buffers',
    'max_connections',
    'checkpoint_timeout',
    'max_wal_size',
  ];
  const postgres = await withAdmin(async (c) => {
    const out: Record<string, string> = {};
    const { rows } = await c.query<{ name: string; setting: string; unit: string | null }>(
      'SELECT name, setting, unit FROM pg_settings WHERE name = ANY($1)',
      [settings],
    );
    for (const r of rows) out[r.name] = r.unit ? `${r.setting} (${r.unit})` : r.setting;
    out['server_version'] = ((await c.query<{ v: string }>('SELECT version() AS v')).rows[0]?.v ?? '').split(',')[0] ?? '';
    return out;
  });
  return {
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    postgres,
    packages: {
      'graphile-worker': packageVersion('graphile-worker'),
      'pg-boss': packageVersion('pg-boss'),
      pg: packageVersion('pg'),
    },
  };
}
