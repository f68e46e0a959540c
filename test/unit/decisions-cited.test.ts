import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';

const root = new URL('../..', import.meta.url).pathname;

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(join(root, dir), { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile() && /\.(ts|tsx|js|md|sql)$/.test(e.name)).map((e) => join(e.parentPath, e.name));
}

test('every docs/decisions.md entry a comment cites exists in docs/decisions.md', async () => {
  const decisions = await readFile(join(root, 'docs/decisions.md'), 'utf8');
  const defined = new Set([...decisions.matchAll(/^\*\*#(\d+) /gm)].map((m) => m[1]));
  assert.ok(defined.size > 10, 'docs/decisions.md lists its entries as **#N …**');
  const missing: string[] = [];
  for (const dir of ['src', 'test', 'bench', 'scripts', 'docs']) {
    for (const file of await filesUnder(dir)) {
      const text = await readFile(file, 'utf8');
      // "docs/decisions.md #3", "decisions.md #8, #9", "decisions.md](decisions.md) #20"
      for (const cite of text.matchAll(/decisions\.md\)? ((?:#\d+(?:, )?)+)/g)) {
        for (const n of (cite[1] ?? '').matchAll(/#(\d+)/g)) if (!defined.has(n[1])) missing.push(`${file.slice(root.length)}: #${n[1]}`);
      }
    }
  }
  assert.deepEqual(missing, []);
});
