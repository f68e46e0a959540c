/**
 * Which field shows which of a problem's errors (pure: unit-tested in
 * test/unit/dashboard-form-errors.test.ts). Every error is shown once: next to the field whose
 * JSON pointer is its own or the closest one above it, or, when no field claims it, in the box
 * under the form. A problem without a pointer list goes to the field that owns its code (a name
 * that is taken), else to the box.
 */

/** A problem's error at one JSON pointer (as the API answers it). */
export interface PointerError {
  pointer: string;
  message: string;
}

/** The parts of a problem (RFC 9457 JSON) this reads. */
export interface ProblemLike {
  code: string;
  detail?: string;
  title?: string;
  errors?: readonly PointerError[];
}

/** A form field: the pointer its value is sent at, and problem codes that are about it. */
export interface FieldSpec {
  pointer: string;
  codes?: readonly string[];
}

/** What each field shows, and what is left for the box under the form. */
export interface FormErrors {
  /** The message for the field at `pointer` (several joined by "; "), or null. */
  at(pointer: string): string | null;
  /** Errors no field claimed, to list under the form. */
  unclaimed: PointerError[];
  /** How many fields show an error. */
  fieldCount: number;
  /** The problem's own message when neither a field nor the list shows it; else null. */
  message: string | null;
}

const within = (pointer: string, field: string): boolean => pointer === field || pointer.startsWith(`${field}/`);

/** Share out `problem`'s errors among `fields` (null problem: no errors anywhere). */
export function formErrors(problem: ProblemLike | null, fields: readonly FieldSpec[]): FormErrors {
  const byField = new Map<string, string[]>();
  const unclaimed: PointerError[] = [];
  const list = problem?.errors ?? [];
  for (const error of list) {
    // The most specific field wins: /jobOptions/priority over /jobOptions.
    const owner = fields.filter((f) => within(error.pointer, f.pointer)).sort((a, b) => b.pointer.length - a.pointer.length)[0];
    if (!owner) {
      unclaimed.push(error);
      continue;
    }
    const below = error.pointer.slice(owner.pointer.length);
    const messages = byField.get(owner.pointer) ?? [];
    messages.push(below ? `${below}: ${error.message}` : error.message);
    byField.set(owner.pointer, messages);
  }
  let message: string | null = null;
  if (problem && list.length === 0) {
    const text = problem.detail ?? problem.title ?? problem.code;
    const owner = fields.find((f) => f.codes?.includes(problem.code));
    if (owner) byField.set(owner.pointer, [text]);
    else message = text;
  }
  return {
    at: (pointer) => byField.get(pointer)?.join('; ') ?? null,
    unclaimed,
    fieldCount: byField.size,
    message,
  };
}
