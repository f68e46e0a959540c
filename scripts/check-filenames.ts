/** Files and folders under src/, test/, bench/ and scripts/ are kebab-case (docs/decisions.md #23). */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const KEBAB = /^[a-z0-9]+(-[a-z0-9]+)*(\.[a-z0-9]+)*$/;
const bad: string[] = [];
function walk(dir: string): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === 'results' || entry.name === 'screenshots') continue;
    const path = join(dir, entry.name);
    // Migrations are NNNN_name.sql; README.md is the one conventional upper-case name.
    const name = entry.name.replace(/^\d{4}_[a-z0-9_]+\.sql$/, 'migration.sql').replace(/^README\.md$/, 'readme.md');
    if (!KEBAB.test(name)) bad.push(path);
    if (entry.isDirectory()) walk(path);
  }
}
for (const root of ['src', 'test', 'bench', 'scripts']) if (existsSync(root)) walk(root);
if (bad.length > 0) {
  console.error(`not kebab-case:\n${bad.join('\n')}`);
  process.exit(1);
}
