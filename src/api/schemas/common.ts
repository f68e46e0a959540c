import { Type } from 'typebox';

/** RFC 9457 problem document with our stable code. */
export const Problem = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    code: Type.String(),
    detail: Type.String(),
    instance: Type.Optional(Type.String()),
    requestId: Type.Optional(Type.String()),
    errors: Type.Optional(Type.Array(Type.Object({ pointer: Type.String(), message: Type.String() }))),
  },
  { $id: 'Problem', description: 'RFC 9457 problem details; `code` is stable (see docs/errors.md).' },
);

/** The error answers every protected route can give. */
export const problemResponses = {
  400: Type.Ref('Problem'),
  401: Type.Ref('Problem'),
  403: Type.Ref('Problem'),
  404: Type.Ref('Problem'),
};

/** A UUID path parameter. */
export const IdParams = Type.Object({ id: Type.String({ format: 'uuid', description: 'UUID' }) }, { additionalProperties: false });

/** ISO-8601 timestamp. */
export const Timestamp = Type.String({ format: 'date-time' });
/** Nullable ISO-8601 timestamp. */
export const NullableTimestamp = Type.Union([Timestamp, Type.Null()]);
