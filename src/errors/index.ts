export { AppError, isAppError, invalidField, type FieldError } from './app-error.js';
export { ERROR_CODES, type ErrorCode } from './codes.js';
export { PermanentError, RetryAfterError, CancelError, classifyTaskError, type TaskErrorKind } from './task-errors.js';
