import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Type } from 'typebox';
import { compileSchema, fieldErrorsOf } from '../../src/core/schema-errors.js';

const Thing = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 5 }),
    size: Type.Optional(Type.Integer({ minimum: 1, maximum: 9 })),
    kind: Type.Optional(Type.Union([Type.Literal('a'), Type.Literal('b')])),
    note: Type.Optional(Type.Union([Type.String({ maxLength: 3 }), Type.Null()])),
    tags: Type.Optional(Type.Array(Type.String(), { minItems: 1, maxItems: 2 })),
  },
  { additionalProperties: false },
);
const thing = compileSchema(Thing);

test('TypeBox issues are worded for people, one per field, at their JSON pointers', () => {
  assert.deepEqual(thing.errors({ name: '' }), [{ pointer: '/name', message: 'must not be empty' }]);
  assert.deepEqual(thing.errors({ name: 'toolong' }), [{ pointer: '/name', message: 'must be at most 5 characters' }]);
  assert.deepEqual(thing.errors({ name: 'x', size: 10, kind: 'c', note: 'long', tags: [], extra: 1 }), [
    { pointer: '/extra', message: 'is not a known field' },
    { pointer: '/size', message: 'must be at most 9' },
    { pointer: '/kind', message: 'must be one of: a, b' },
    { pointer: '/note', message: 'must be at most 3 characters' },
    { pointer: '/tags', message: 'must not be empty' },
  ]);
  assert.deepEqual(thing.errors({ name: 'x', note: 5, size: 2.5 }), [
    { pointer: '/size', message: 'must be an integer' },
    { pointer: '/note', message: 'must be a string or null' },
  ]);
  assert.deepEqual(thing.errors({}), [{ pointer: '/name', message: 'is required' }]);
  assert.deepEqual(thing.errors('x'), [{ pointer: '/', message: 'must be an object' }]);
  assert.deepEqual(thing.errors('x', '/jobs/2'), [{ pointer: '/jobs/2', message: 'must be an object' }]);
});

test('Ajv issues (the API’s route schemas) get the same words as TypeBox issues', () => {
  assert.deepEqual(fieldErrorsOf([
    { keyword: 'required', instancePath: '', params: { missingProperty: 'task' }, message: "must have required property 'task'" },
    { keyword: 'additionalProperties', instancePath: '', params: { additionalProperty: 'retries' }, message: 'must NOT have additional properties' },
    { keyword: 'minLength', instancePath: '/queue', params: { limit: 1 }, message: 'must NOT have fewer than 1 characters' },
    { keyword: 'maxLength', instancePath: '/q', params: { limit: 200 }, message: 'must NOT have more than 200 characters' },
    { keyword: 'const', instancePath: '/kind', params: { allowedValue: 'a' }, message: 'must be equal to constant' },
    { keyword: 'const', instancePath: '/kind', params: { allowedValue: 'b' }, message: 'must be equal to constant' },
    { keyword: 'anyOf', instancePath: '/kind', params: {}, message: 'must match a schema in anyOf' },
    { keyword: 'pattern', instancePath: '/labels', propertyName: 'bad key', params: { pattern: '^x$' }, message: 'must match pattern "^x$"' },
    { keyword: 'propertyNames', instancePath: '/labels', propertyName: 'bad key', params: { propertyName: 'bad key' }, message: 'property name must be valid' },
    { keyword: 'format', instancePath: '/id', params: { format: 'uuid' }, message: 'must match format "uuid"' },
  ], '/querystring'), [
    { pointer: '/querystring/task', message: 'is required' },
    { pointer: '/querystring/retries', message: 'is not a known field' },
    { pointer: '/querystring/queue', message: 'must not be empty' },
    { pointer: '/querystring/q', message: 'must be at most 200 characters' },
    { pointer: '/querystring/kind', message: 'must be one of: a, b' },
    { pointer: '/querystring/labels/bad key', message: 'is not in the expected format (^x$)' },
    { pointer: '/querystring/id', message: 'must be a UUID' },
  ]);
});
