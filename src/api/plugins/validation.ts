import { Ajv, type Options } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FastifyInstance } from 'fastify';
import { badTextReason } from '../../core/validate.js';
import { AppError, type FieldError } from '../../errors/index.js';

// ajv-formats is CommonJS with a default export.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

/**
 * Two validators: query strings, path parameters and headers arrive as text, so they are coerced
 * (`?limit=20` → 20); JSON bodies are validated strictly, so `"priority": "3"` is a 400, not a 3.
 * Unknown body fields are rejected, never silently removed.
 */
export function installValidation(app: FastifyInstance): void {
  const common: Options = { allErrors: true, useDefaults: true, removeAdditional: false, strict: false };
  const coercing = addFormats(new Ajv({ ...common, coerceTypes: 'array' }));
  const strict = addFormats(new Ajv({ ...common, coerceTypes: false }));
  app.setValidatorCompiler(({ schema, httpPart }) => {
    const ajv = httpPart === 'body' ? strict : coercing;
    // A custom compiler does not see schemas added with app.addSchema: register them once.
    for (const shared of Object.values(app.getSchemas()) as Array<{ $id?: string }>) {
      if (shared.$id && !ajv.getSchema(shared.$id)) ajv.addSchema(shared);
    }
    return ajv.compile(schema);
  });
  // `?queue=%00` decodes to text PostgreSQL cannot store: refused before a handler puts it in SQL.
  app.addHook('preValidation', (request) => {
    const errors = [...unstorable(request.query, '/querystring'), ...unstorable(request.params, '/params')];
    const first = errors[0];
    return first ? Promise.reject(new AppError('VALIDATION_FAILED', `${first.pointer}: ${first.message}`, { errors })) : Promise.resolve();
  });
}

/** Query or path values (strings, or arrays of them for repeated parameters) with NUL or lone surrogates. */
function unstorable(values: unknown, where: string): FieldError[] {
  if (typeof values !== 'object' || values === null) return [];
  const errors: FieldError[] = [];
  for (const [name, value] of Object.entries(values)) {
    for (const text of Array.isArray(value) ? (value as unknown[]) : [value]) {
      const reason = typeof text === 'string' ? badTextReason(text) : null;
      if (reason) errors.push({ pointer: `${where}/${name.replaceAll('~', '~0').replaceAll('/', '~1')}`, message: reason });
    }
  }
  return errors;
}
