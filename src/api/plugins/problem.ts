import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from '../../core/deps.js';
import { fieldErrorsOf, type SchemaIssue } from '../../core/schema-errors.js';
import { databaseFault } from '../../engine/database-status.js';
import { AppError, type FieldError } from '../../errors/index.js';

/** Send an AppError as RFC 9457 problem JSON. */
export function sendProblem(reply: FastifyReply, request: FastifyRequest, error: AppError): FastifyReply {
  const problem = error.toProblem(request.url);
  const retryAfter = (error as AppError & { retryAfterS?: number }).retryAfterS;
  if (retryAfter !== undefined) void reply.header('retry-after', String(Math.ceil(retryAfter)));
  return reply.code(error.status).type('application/problem+json').send({ ...problem, requestId: request.id });
}

/** Field errors listed in one answer: an object with 100,000 unknown keys must not get a 5 MB reply. */
const MAX_FIELD_ERRORS = 100;

/** Fastify's own error codes mapped to ours: bad input is never a 5xx. */
function fromFastifyError(error: FastifyError): AppError | null {
  if (error.validation) {
    // Worded as the SDK words its own schema errors (core/schema-errors.ts): "must not be empty", not Ajv's text.
    const where = error.validationContext === 'body' ? '' : `/${error.validationContext ?? ''}`;
    const issues = error.validation.slice(0, MAX_FIELD_ERRORS * 2) as unknown as SchemaIssue[];
    const errors: FieldError[] = fieldErrorsOf(issues, where).slice(0, MAX_FIELD_ERRORS);
    return new AppError('VALIDATION_FAILED', `${errors[0]?.pointer ?? '/'}: ${errors[0]?.message ?? 'invalid'}`, { errors });
  }
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new AppError('PAYLOAD_TOO_LARGE', 'the request body is larger than the limit');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new AppError('UNSUPPORTED_MEDIA_TYPE', 'send the body as application/json');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new AppError('VALIDATION_FAILED', `the body is not valid JSON: ${error.message}`);
    default:
      break;
  }
  if (error instanceof SyntaxError || error.statusCode === 400) return new AppError('VALIDATION_FAILED', error.message);
  if (error.statusCode === 413) return new AppError('PAYLOAD_TOO_LARGE', error.message);
  if (error.statusCode === 415) return new AppError('UNSUPPORTED_MEDIA_TYPE', error.message);
  return null;
}

/** A database that is down or refuses writes is the server's trouble, not the caller's: 503, never 500. */
export function fromDatabaseFault(error: unknown): AppError | null {
  switch (databaseFault(error)) {
    case 'unavailable':
      return new AppError('DATABASE_UNAVAILABLE', 'the database is not reachable right now; nothing was changed. Retry shortly', { cause: error });
    case 'read-only':
      return new AppError('DATABASE_READ_ONLY', 'the database accepts no writes right now (read-only or out of disk); nothing was changed. Retry later', { cause: error });
    case null:
      return null;
  }
}

/**
 * Errors the router raises before a route is found (Fastify's `frameworkErrors`): a malformed URL
 * or a path parameter over the router's length limit is bad input, not a plain-JSON 400/414.
 */
export function onFrameworkError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  switch (error.code) {
    case 'FST_ERR_BAD_URL':
      return sendProblem(reply, request, new AppError('VALIDATION_FAILED', 'the URL is not valid (bad percent-encoding)'));
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return sendProblem(reply, request, new AppError('VALIDATION_FAILED', 'a path parameter is too long'));
    default:
      return sendProblem(reply, request, new AppError('INTERNAL', 'internal error; the request id identifies it in the logs'));
  }
}

/**
 * Every error leaves as problem JSON with a stable code. Unknown errors are logged with the
 * request id and answered with INTERNAL, without internals in the body.
 */
export function installProblemHandlers(app: FastifyInstance, logger: Logger): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const known = error instanceof AppError ? error : (fromDatabaseFault(error) ?? fromFastifyError(error));
    if (known) return sendProblem(reply, request, known);
    logger.error({ err: error.message, stack: error.stack, requestId: request.id, url: request.url }, 'unhandled error');
    return sendProblem(reply, request, new AppError('INTERNAL', 'internal error; the request id identifies it in the logs'));
  });
  app.setNotFoundHandler((request, reply) => sendProblem(reply, request, new AppError('NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0] ?? ''}`)));
}
