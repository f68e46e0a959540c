/**
 * A form's answer from the API, shown once: each field's error next to the field (see
 * form-errors.ts), and under the form only what no field shows.
 */
import type { ReactNode } from 'react';
import { ApiError } from '../api';
import { formErrors, type FieldSpec, type FormErrors } from '../form-errors';
import { ErrorBox } from './ui';

/** Share `error`'s field errors among the form's `fields` (any other error: all for the box). */
export function errorsFor(error: unknown, fields: readonly FieldSpec[]): FormErrors {
  return formErrors(error instanceof ApiError ? error.problem : null, fields);
}

/** The box under a form: what no field shows, or a pointer to the marked fields. */
export function FormProblem({ error, errors }: { error: unknown; errors: FormErrors }): ReactNode {
  if (!error) return null;
  if (!(error instanceof ApiError)) return <ErrorBox error={error} />;
  const { unclaimed, fieldCount, message } = errors;
  if (!message && unclaimed.length === 0 && fieldCount === 0) return <ErrorBox error={error} />;
  return (
    <div className="state error form-problem" role="alert">
      {message ? <strong>{message}</strong> : null}
      {fieldCount > 0 ? <div>{fieldCount === 1 ? 'Check the marked field.' : `Check the ${fieldCount} marked fields.`}</div> : null}
      {unclaimed.length > 0 ? (
        <ul>
          {unclaimed.map((f) => (
            <li key={f.pointer + f.message}>
              {f.pointer && f.pointer !== '/' ? <code>{f.pointer}</code> : null} {f.message}
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}
