import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formErrors } from '../../dashboard/src/form-errors.js';

const fields = [{ pointer: '/name', codes: ['SCHEDULE_NAME_TAKEN'] }, { pointer: '/task' }, { pointer: '/payload' }, { pointer: '/jobOptions' }, { pointer: '/jobOptions/priority' }];

test('every field error goes to its own field, each once, and nothing is left for the box', () => {
  const errors = formErrors({ code: 'VALIDATION_FAILED', detail: '/name: too short', errors: [{ pointer: '/name', message: 'too short' }, { pointer: '/task', message: 'too short' }] }, fields);
  assert.equal(errors.at('/name'), 'too short');
  assert.equal(errors.at('/task'), 'too short');
  assert.equal(errors.fieldCount, 2);
  assert.deepEqual(errors.unclaimed, []);
  assert.equal(errors.message, null, 'the detail repeats the first field error: not shown again');
});

test('an error below a field goes to the closest field, with the rest of its pointer', () => {
  const errors = formErrors({ code: 'VALIDATION_FAILED', errors: [{ pointer: '/payload/n', message: 'must be an integer' }, { pointer: '/jobOptions/priority', message: 'must be <= 1000' }, { pointer: '/jobOptions/backoff', message: 'bad' }] }, fields);
  assert.equal(errors.at('/payload'), '/n: must be an integer');
  assert.equal(errors.at('/jobOptions/priority'), 'must be <= 1000');
  assert.equal(errors.at('/jobOptions'), '/backoff: bad');
});

test('errors no field claims are left for the box; a problem without pointers goes to the field of its code, else to the box', () => {
  const stray = formErrors({ code: 'VALIDATION_FAILED', errors: [{ pointer: '/', message: 'give exactly one of cron or intervalMs' }, { pointer: '/task', message: 'x' }] }, fields);
  assert.deepEqual(stray.unclaimed, [{ pointer: '/', message: 'give exactly one of cron or intervalMs' }]);
  const taken = formErrors({ code: 'SCHEDULE_NAME_TAKEN', detail: 'a schedule named "x" exists' }, fields);
  assert.equal(taken.at('/name'), 'a schedule named "x" exists');
  assert.equal(taken.message, null);
  const other = formErrors({ code: 'FORBIDDEN', detail: 'no' }, fields);
  assert.equal(other.message, 'no');
  assert.equal(other.fieldCount, 0);
  assert.equal(formErrors(null, fields).at('/name'), null);
});
