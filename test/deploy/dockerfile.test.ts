/**
 * The Dockerfile passes dockerfile-utils' linter (the validator of the VS Code Docker extension,
 * every rule an error) and, read with dockerfile-ast's parser, has the properties docs/deployment.md
 * promises: multi-stage, lockfile install, non-root runtime, HEALTHCHECK on /healthz through node,
 * port 8080 on 0.0.0.0, `node bin/jobplane.js` with `start` as default command, no secret baked in.
 * Not proven here: that `docker build` succeeds or that the image runs (no Docker engine).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { freePort } from '../helpers/jobplane-process.js';
import { DockerfileParser, type Copy, type Instruction } from 'dockerfile-ast';
import { validate, ValidationSeverity } from 'dockerfile-utils';

const text = readFileSync(new URL('../../Dockerfile', import.meta.url), 'utf8');
const dockerignore = readFileSync(new URL('../../.dockerignore', import.meta.url), 'utf8');
const dockerfile = DockerfileParser.parse(text);
const instructions = dockerfile.getInstructions();

/** Instructions grouped by build stage, the stage named by FROM … AS name. */
function stages(): Map<string, Instruction[]> {
  const out = new Map<string, Instruction[]>();
  let current: Instruction[] = [];
  for (const ins of instructions) {
    if (ins.getKeyword() === 'FROM') {
      current = [];
      const from = dockerfile.getFROMs().find((f) => f.getRange().start.line === ins.getRange().start.line)!;
      out.set(from.getBuildStage() ?? `stage${out.size}`, current);
    }
    current.push(ins);
  }
  return out;
}
const args = (ins: Instruction): string => ins.getArgumentsContent() ?? '';

test('the Dockerfile passes the dockerfile-utils linter with every rule as an error', () => {
  const all = ValidationSeverity.ERROR;
  const problems = validate(text, {
    deprecatedMaintainer: all, directiveCasing: all, emptyContinuationLine: all, instructionCasing: all,
    instructionCmdMultiple: all, instructionEntrypointMultiple: all, instructionHealthcheckMultiple: all,
    instructionJSONInSingleQuotes: all, instructionWorkdirRelative: all,
  });
  assert.deepEqual(problems.map((p) => `line ${p.range.start.line + 1}: ${typeof p.message === 'string' ? p.message : p.message.value}`), []);
});

test('the linter is not vacuous: it reports a broken Dockerfile', () => {
  assert.ok(validate('FROM node:20-slim\nWORKDIR app\nCMD ["a"]\nCMD ["b"]\nEXPOSE 80/xyz\n', { instructionWorkdirRelative: ValidationSeverity.ERROR }).length >= 2);
});

test('the image is built in stages and the runtime stage starts from a Node 20 slim image', () => {
  const s = stages();
  assert.deepEqual([...s.keys()], ['deps', 'build', 'prod-deps', 'runtime']);
  assert.match(text, /^ARG NODE_IMAGE=node:20-[a-z]+-slim$/m);
  const runtime = s.get('runtime')!;
  assert.equal(args(runtime[0]!), '${NODE_IMAGE} AS runtime');
  // Only built output and production dependencies reach the runtime stage.
  const copies = runtime.filter((i) => i.getKeyword() === 'COPY').map((i) => {
    const from = (i as Copy).getFlags().find((f) => f.getName() === 'from');
    return `${from ? `--from=${from.getValue()} ` : ''}${args(i)}`;
  });
  assert.ok(copies.includes('--from=prod-deps /app/node_modules ./node_modules'));
  assert.ok(copies.includes('--from=build /app/dist ./dist'));
  assert.ok(copies.includes('--from=build /app/dashboard/dist ./dashboard/dist'));
  assert.ok(copies.includes('src/db/migrations ./src/db/migrations'));
  assert.ok(copies.includes('bin ./bin'));
  assert.ok(!copies.some((c) => /^\.\s|^src\s/.test(c)), 'no whole-context or whole-src copy into the runtime image');
});

test('dependencies are installed from the lockfile, dev dependencies only outside the runtime image', () => {
  const s = stages();
  const runs = (stage: string): string[] => s.get(stage)!.filter((i) => i.getKeyword() === 'RUN').map(args);
  assert.ok(runs('deps').some((r) => /\bnpm ci\b/.test(r)));
  assert.ok(runs('prod-deps').some((r) => /\bnpm ci\b.*--omit=dev/.test(r)));
  assert.ok(runs('build').some((r) => r.includes('npm run build')));
  assert.ok(!runs('runtime').some((r) => /\bnpm (ci|install)\b/.test(r)));
  for (const stage of ['deps', 'prod-deps']) {
    assert.ok(s.get(stage)!.some((i) => i.getKeyword() === 'COPY' && args(i).startsWith('package.json package-lock.json')), `${stage} copies the lockfile`);
    assert.ok(s.get(stage)!.some((i) => i.getKeyword() === 'COPY' && args(i).startsWith('dashboard/package.json')), `${stage} copies the workspace manifest`);
  }
});

test('the runtime stage runs as a numeric non-root user', () => {
  const runtime = stages().get('runtime')!;
  const users = runtime.filter((i) => i.getKeyword() === 'USER').map(args);
  assert.equal(users.length, 1);
  const [uid] = users[0]!.split(':');
  assert.match(uid!, /^\d+$/, 'numeric, so Kubernetes runAsNonRoot can verify it');
  assert.notEqual(Number(uid), 0);
  const userLine = runtime.find((i) => i.getKeyword() === 'USER')!.getRange().start.line;
  const last = runtime.findLast((i) => ['RUN', 'COPY'].includes(i.getKeyword()))!.getRange().start.line;
  assert.ok(userLine > last, 'USER comes after the last RUN/COPY');
});

test('a HEALTHCHECK asks /healthz with node (no curl in slim images), port 8080 is exposed on 0.0.0.0', () => {
  const checks = dockerfile.getHEALTHCHECKs();
  assert.equal(checks.length, 1);
  const check = args(checks[0]!);
  assert.match(check, /CMD \["node", "-e", .*\/healthz/);
  assert.ok(!/curl|wget/.test(check));
  const runtime = stages().get('runtime')!;
  assert.ok(runtime.some((i) => i.getKeyword() === 'EXPOSE' && args(i).split(/\s+/).includes('8080')));
  const env = runtime.filter((i) => i.getKeyword() === 'ENV').map(args).join(' ');
  assert.match(env, /JOBPLANE_HOST=0\.0\.0\.0/);
  assert.match(env, /PORT=8080/);
});

test('the entrypoint is `node bin/jobplane.js` with `start` as the default command', () => {
  assert.deepEqual(dockerfile.getENTRYPOINTs().map(args), ['["node", "bin/jobplane.js"]']);
  assert.deepEqual(dockerfile.getCMDs().map(args), ['["start"]']);
});

test('no secret is baked into the image and the build context leaves out local state', () => {
  for (const ins of instructions.filter((i) => ['ENV', 'ARG'].includes(i.getKeyword()))) {
    assert.ok(!/PASSWORD|SECRET|PEPPER|DATABASE_URL|TOKEN|API_KEY/i.test(args(ins)), `${ins.getKeyword()} ${args(ins)}`);
  }
  const ignored = dockerignore.split('\n').map((l) => l.trim());
  for (const entry of ['.git', '**/node_modules', '.env', '.jobplane', 'dist']) assert.ok(ignored.includes(entry), `.dockerignore lists ${entry}`);
});

test('the HEALTHCHECK command, run as written, probes JOBPLANE_OPS_PORT when set, else PORT, and fails when nothing answers', async () => {
  const command = JSON.parse(args(dockerfile.getHEALTHCHECKs()[0]!).replace(/^[\s\S]*?CMD\s+/, '')) as string[];
  assert.deepEqual(command.slice(0, 2), ['node', '-e']);
  const script = command[2]!;
  const server = createServer((req, res) => res.writeHead(req.url === '/healthz' ? 200 : 404).end());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = String((server.address() as { port: number }).port);
  const closed = String(await freePort());
  const exitCode = async (env: Record<string, string>): Promise<number> => {
    try {
      await promisify(execFile)(process.execPath, ['-e', script], { env: { PATH: process.env.PATH ?? '', ...env }, timeout: 10_000 });
      return 0;
    } catch (error) {
      return (error as { code: number }).code;
    }
  };
  try {
    assert.equal(await exitCode({ PORT: port }), 0, 'the api port');
    assert.equal(await exitCode({ PORT: closed, JOBPLANE_OPS_PORT: port }), 0, 'the operations port wins');
    assert.equal(await exitCode({ PORT: port, JOBPLANE_OPS_PORT: closed }), 1, 'a dead operations listener is unhealthy');
  } finally {
    server.close();
  }
});
