import { Ajv, type Options } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FastifyInstance } from 'fastify';

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
}
