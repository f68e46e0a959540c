/**
 * Built-in tasks any worker can enable: `http`, `fibonacci`, `sleep`, `noop` and (only when
 * explicitly enabled) `shell`. Payloads are validated by `core/builtin-payloads.ts`, at submit
 * time by the API and again here before running. See docs/built-in-tasks.md.
 */
import { AppError } from '../../errors/index.js';
import type { TaskHandler, TaskList } from '../types.js';
import { fibonacciTask } from './fibonacci-task.js';
import { httpTask } from './http-task.js';
import { noopTask } from './noop-task.js';
import { resolveBuiltinTaskOptions, type BuiltinTaskOptions, type BuiltinTaskOverrides } from './options.js';
import { shellTask } from './shell-task.js';
import { sleepTask } from './sleep-task.js';

export {
  DEFAULT_BUILTIN_TASK_OPTIONS,
  resolveBuiltinTaskOptions,
  type AsyncTaskHandler,
  type BuiltinTaskOptions,
  type BuiltinTaskOverrides,
  type FibonacciTaskOptions,
  type HttpTaskOptions,
  type LookupAddress,
  type LookupFn,
  type ShellTaskOptions,
} from './options.js';
export { httpTask, retryAfterMs, type HttpTaskResult } from './http-task.js';
export { shellTask, SHELL_TASK_PATH, type ShellTaskResult } from './shell-task.js';
export { fibonacciTask, type FibonacciResult } from './fibonacci-task.js';
export { sleepTask } from './sleep-task.js';
export { noopTask } from './noop-task.js';

/** Names of the built-in tasks. */
export const BUILTIN_TASK_NAMES = ['http', 'fibonacci', 'sleep', 'noop', 'shell'] as const;

/** One of {@link BUILTIN_TASK_NAMES}. */
export type BuiltinTaskName = (typeof BUILTIN_TASK_NAMES)[number];

/** Whether `name` is a built-in task name. */
export function isBuiltinTaskName(name: string): name is BuiltinTaskName {
  return (BUILTIN_TASK_NAMES as readonly string[]).includes(name);
}

function handlerFor(name: BuiltinTaskName, options: BuiltinTaskOptions): TaskHandler<unknown, unknown> {
  switch (name) {
    case 'http':
      return httpTask(options.http);
    case 'fibonacci':
      return fibonacciTask(options.fibonacci);
    case 'sleep':
      return sleepTask();
    case 'noop':
      return noopTask;
    case 'shell':
      return shellTask(options.shell);
  }
}

/**
 * Handlers for the named built-ins, ready to merge into a worker's task list.
 * Throws AppError `VALIDATION_FAILED` for names that are not built-ins (all listed at once), and
 * `TASK_DISABLED` for `shell` unless `options.shell.enabled` is true.
 */
export function builtinTasks(names: readonly string[], options: BuiltinTaskOverrides = {}): TaskList {
  const unknown = names
    .map((name, index) => ({ name, index }))
    .filter(({ name }) => !isBuiltinTaskName(name))
    .map(({ name, index }) => ({ pointer: `/${index}`, message: `"${name}" is not a built-in task (known: ${BUILTIN_TASK_NAMES.join(', ')})` }));
  if (unknown.length > 0) {
    throw new AppError('VALIDATION_FAILED', unknown.map((error) => error.message).join('; '), { errors: unknown });
  }
  const resolved = resolveBuiltinTaskOptions(options);
  const tasks: TaskList = {};
  for (const name of names) {
    if (isBuiltinTaskName(name)) tasks[name] = handlerFor(name, resolved);
  }
  return tasks;
}
