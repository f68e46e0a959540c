/**
 * One rule, two places: the sensitive-field redaction of reads (src/core/redaction.ts) and its SQL
 * mirror, which text search runs over (SEARCHABLE_PAYLOAD in src/db/queries/job-admin.ts).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { redactSensitive } from '../../src/core/redaction.js';
import { SEARCHABLE_PAYLOAD } from '../../src/db/queries/job-admin.js';
import { testDatabase } from '../helpers/db.js';

const db = await testDatabase();

/** Payloads whose sensitive values are strings (the SQL mirror redacts string values). */
const CORPUS: unknown[] = [
  { url: 'https://example.com/', headers: { Authorization: 'Bearer abc.def', cookie: 'sid=1', 'X-Api-Key': 'k-1', accept: 'text/html' } },
  { command: ['psql'], env: { DB_PASSWORD: 'hunter2', PGHOST: 'db', GITHUB_TOKEN: 'ghp_x', AWS_SECRET_ACCESS_KEY: 'aws' } },
  { nested: [{ auth: 'user:pass', authority: 'not secret', note: 'say "token": "x" in a string' }], refresh_token: 'r-1', private_key: '-----BEGIN' },
  { headers: { authorization: { $secret: 'stripe' } }, credentials: 'c', passwd: 'p', apikey: 'a', 'api-key': 'b' },
  { 'quote"key-token': 'x"y', 'back\\slash-secret': 'a\\"b', plain: 'a\\b"c' },
  { emoji: '🙂 Passwort', password: 'pässwörd 🙂', list: ['token', 'secret'] },
  { headers: { authorization: { $secret: 'hook-token' } }, note: { $secret: 'x' }, env: { TOKEN: { $secret: 'api-token' } } },
  {},
];

test('the SQL mirror redacts exactly what a read redacts, for every payload of the corpus', async () => {
  for (const payload of CORPUS) {
    const { rows } = await db.pool.query<{ redacted: unknown }>(`SELECT (${SEARCHABLE_PAYLOAD})::jsonb AS redacted FROM (SELECT $1::jsonb AS payload) j`, [JSON.stringify(payload)]);
    assert.deepEqual(rows[0]!.redacted, redactSensitive(payload), JSON.stringify(payload));
  }
});
