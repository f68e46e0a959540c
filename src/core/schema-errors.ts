/**
 * Validator issues (TypeBox's compiler in the SDK, Ajv behind the API's route schemas) turned into
 * the field errors both answer with: a JSON pointer to the field and a message in words ("must not
 * be empty", "must be one of: a, b"), never the validator's own wording. One function for both,
 * so `jp.jobs.add` and `POST /api/v1/jobs` report the same pointer and message for the same
 * mistake. Pure.
 */
import type { Static, TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import { Settings } from 'typebox/system';
import type { FieldError } from '../errors/app-error.js';
import { NAME_PATTERN, TASK_PATTERN } from './validate.js';

/** What TypeBox and Ajv both report for a failed keyword (Ajv's and TypeBox's params differ; both are read). */
export interface SchemaIssue {
  keyword: string;
  /** JSON pointer to the value that failed (for `required`/`additionalProperties`: its object). */
  instancePath: string;
  params?: Record<string, unknown>;
  /** Ajv: the offending property name when a `propertyNames` rule failed. */
  propertyName?: string;
  message?: string;
}

/** Patterns the schemas use, with what they mean in words. */
const PATTERN_HINTS = new Map<string, string>([
  [NAME_PATTERN.source, 'must be letters, digits and . _ : - (starting with a letter or digit)'],
  [TASK_PATTERN.source, 'must be letters, digits and . _ : / - (starting with a letter or digit)'],
]);

/** Register what a pattern used in a schema means, for its error message. */
export function describePattern(pattern: RegExp | string, hint: string): string {
  PATTERN_HINTS.set(typeof pattern === 'string' ? pattern : pattern.source, hint);
  return typeof pattern === 'string' ? pattern : pattern.source;
}

const TYPE_WORDS: Record<string, string> = {
  integer: 'an integer', number: 'a number', string: 'a string', boolean: 'true or false', object: 'an object', array: 'an array', null: 'null',
};
const FORMAT_WORDS: Record<string, string> = {
  'date-time': 'an RFC 3339 date-time with an offset, e.g. 2026-05-01T12:00:00Z',
  uuid: 'a UUID',
  uri: 'an absolute URI',
  email: 'an email address',
};

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
const num = (value: unknown): number => Number(value);
const escapeSegment = (key: string): string => key.replaceAll('~', '~0').replaceAll('/', '~1');

/** The message for one issue that is not part of a union, or null to drop it. */
function messageOf(issue: SchemaIssue): string | null {
  const p = issue.params ?? {};
  switch (issue.keyword) {
    case 'type': {
      const types = (Array.isArray(p.type) ? p.type : String(p.type).split(',')) as string[];
      return `must be ${types.map((t) => TYPE_WORDS[t] ?? t).join(' or ')}`;
    }
    case 'minLength':
      return num(p.limit) <= 1 ? 'must not be empty' : `must be at least ${plural(num(p.limit), 'character')}`;
    case 'maxLength':
      return `must be at most ${plural(num(p.limit), 'character')}`;
    case 'minimum':
      return `must be at least ${num(p.limit)}`;
    case 'maximum':
      return `must be at most ${num(p.limit)}`;
    case 'exclusiveMinimum':
      return `must be greater than ${num(p.limit)}`;
    case 'exclusiveMaximum':
      return `must be less than ${num(p.limit)}`;
    case 'multipleOf':
      return `must be a multiple of ${num(p.multipleOf ?? p.limit)}`;
    case 'minItems':
      return num(p.limit) <= 1 ? 'must not be empty' : `must have at least ${plural(num(p.limit), 'item')}`;
    case 'maxItems':
      return `must have at most ${plural(num(p.limit), 'item')}`;
    case 'minProperties':
      return num(p.limit) <= 1 ? 'must not be empty' : `must have at least ${num(p.limit)} entries`;
    case 'maxProperties':
      return `must have at most ${num(p.limit)} ${num(p.limit) === 1 ? 'entry' : 'entries'}`;
    case 'pattern':
      return PATTERN_HINTS.get(String(p.pattern)) ?? `is not in the expected format (${String(p.pattern)})`;
    case 'format':
      return `must be ${FORMAT_WORDS[String(p.format)] ?? `a valid ${String(p.format)}`}`;
    case 'const':
      return `must be ${JSON.stringify(p.allowedValue)}`;
    case 'enum':
      return `must be one of: ${((p.allowedValues ?? []) as unknown[]).map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(', ')}`;
    case 'uniqueItems':
      return 'must not repeat an item';
    // Summaries of issues reported on their own (the property, the name, the branch).
    case 'boolean':
    case 'propertyNames':
    case 'anyOf':
    case 'oneOf':
    case 'if':
      return null;
    default:
      return issue.message ?? 'is invalid';
  }
}

/** Issues at one pointer under an `anyOf`: the right-typed branch's complaint, else every type or value allowed. */
function unionMessages(issues: readonly SchemaIssue[]): string[] {
  const specific = issues.filter((i) => i.keyword !== 'type' && i.keyword !== 'const' && i.keyword !== 'enum' && messageOf(i) !== null);
  if (specific.length > 0) return specific.map((i) => messageOf(i)!);
  const values = issues.flatMap((i) => (i.keyword === 'const' ? [i.params?.allowedValue] : i.keyword === 'enum' ? ((i.params?.allowedValues ?? []) as unknown[]) : []));
  const types = issues.filter((i) => i.keyword === 'type').flatMap((i) => String(i.params?.type).split(','));
  const words = [...values.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))), ...types.map((t) => TYPE_WORDS[t] ?? t)];
  if (values.length > 0 && types.length === 0) return [`must be one of: ${words.join(', ')}`];
  return [`must be ${words.join(' or ')}`];
}

/**
 * Field errors for validator issues, each pointer prefixed with `prefix` (`''`, `/jobs/3`,
 * `/querystring`; the value itself is `root`). One error per pointer (the first the validator found: an empty name is
 * "must not be empty", not also "must be letters…"), in the validator's order.
 */
export function fieldErrorsOf(issues: readonly SchemaIssue[], prefix = '', root = '/'): FieldError[] {
  const unions = new Set(issues.filter((i) => i.keyword === 'anyOf' || i.keyword === 'oneOf').map((i) => i.instancePath));
  const out: FieldError[] = [];
  const seen = new Set<string>();
  const push = (path: string, message: string): void => {
    const pointer = `${prefix}${path}` || root;
    if (seen.has(pointer)) return;
    seen.add(pointer);
    out.push({ pointer, message });
  };
  const doneUnions = new Set<string>();
  for (const issue of issues) {
    const p = issue.params ?? {};
    const path = issue.propertyName !== undefined ? `${issue.instancePath}/${escapeSegment(issue.propertyName)}` : issue.instancePath;
    if (issue.keyword === 'required') {
      const names = (p.requiredProperties ?? [p.missingProperty]) as unknown[];
      for (const name of names) push(`${path}/${escapeSegment(String(name))}`, 'is required');
    } else if (issue.keyword === 'additionalProperties') {
      const names = (p.additionalProperties ?? [p.additionalProperty]) as unknown[];
      for (const name of names) push(`${path}/${escapeSegment(String(name))}`, 'is not a known field');
    } else if (unions.has(path) && issue.propertyName === undefined) {
      if (doneUnions.has(path)) continue;
      doneUnions.add(path);
      for (const message of unionMessages(issues.filter((i) => i.instancePath === path && i.propertyName === undefined))) push(path, message);
    } else {
      const message = messageOf(issue);
      if (message !== null) push(path, message);
    }
  }
  return out;
}

/** Issues gathered for one value: enough to list every field of a large form, bounded against hostile input. */
const MAX_ISSUES = 100;

/** A compiled schema: `check` is the fast path, `errors` the field errors of a value that failed it. */
export interface CompiledSchema<T> {
  check(value: unknown): value is T;
  /** Field errors under `prefix`; a problem with the value itself is at `root`. */
  errors(value: unknown, prefix?: string, root?: string): FieldError[];
}

/** Compile a TypeBox schema once (module load), for checks with humanised field errors. */
export function compileSchema<S extends TSchema>(schema: S): CompiledSchema<Static<S>> {
  const validator = Compile(schema);
  return {
    check: (value: unknown): value is Static<S> => validator.Check(value),
    errors: (value, prefix = '', root = '/') => {
      // TypeBox buffers 8 issues by default (a global setting): raised for this synchronous call only.
      const previous = Settings.Get().maxErrors;
      Settings.Set({ maxErrors: MAX_ISSUES });
      try {
        return fieldErrorsOf(validator.Errors(value), prefix, root);
      } finally {
        Settings.Set({ maxErrors: previous });
      }
    },
  };
}
