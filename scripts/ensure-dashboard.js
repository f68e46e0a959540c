// Build the dashboard when its build is missing or older than its sources, so that
// `npm install && npm start` on a clean clone serves it. `npm run build` always rebuilds.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', 'dashboard');
const built = join(root, 'dist', 'index.html');

function newest(dir) {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return latest;
}

const sources = Math.max(newest(join(root, 'src')), statSync(join(root, 'index.html')).mtimeMs, newest(join(root, '..', 'src', 'core')));
if (!existsSync(built) || statSync(built).mtimeMs < sources) {
  console.log('building the dashboard (dashboard/dist)…');
  execFileSync('npm', ['run', 'build', '-w', 'dashboard'], { stdio: 'inherit', cwd: join(root, '..') });
}
