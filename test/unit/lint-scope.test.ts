import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ESLint } from 'eslint';

const eslint = new ESLint({ cwd: new URL('../..', import.meta.url).pathname });

test('eslint ignores a reader’s scratch files outside the project folders, such as README’s first-job.ts in the root', async () => {
  for (const path of ['first-job.ts', 'first-job.js', 'scratch/try.ts', 'docs/example.ts', 'dashboard/scratch.ts']) {
    assert.equal(await eslint.isPathIgnored(path), true, `${path} would be linted`);
  }
});

test('eslint still lints the project’s own code and root config', async () => {
  for (const path of ['src/index.ts', 'test/run.ts', 'bench/run-all.ts', 'scripts/gen-openapi.ts', 'bin/jobplane.js', 'dashboard/src/main.tsx', 'dashboard/vite.config.ts', 'eslint.config.js']) {
    assert.equal(await eslint.isPathIgnored(path), false, `${path} is not linted`);
  }
});
