/** The tasks live workers handle (GET /api/v1/tasks), for the job page's notice and the submit form's task list. */
import { useMemo } from 'react';
import type { ResponseOf } from '../../src/client/api-shapes.js';
import { api } from './api';
import { useCan } from './session';
import { useResource } from './hooks';

/** A task at least one live worker handles. */
export type LiveTask = ResponseOf<'/api/v1/tasks', 'get'>['tasks'][number];

/** Built-in tasks the forms always offer; `shell` only when a live worker runs it (installations switch it on explicitly). */
const BUILT_IN_TASKS = ['http', 'fibonacci', 'sleep', 'noop'];

/** The names of the tasks live workers handle; null until known (or when the caller may not list workers). */
export function useLiveTaskNames(enabled: boolean, key = ''): Set<string> | null {
  const { data } = useResource(async () => (enabled ? (await api<{ tasks: LiveTask[] }>('GET', '/api/v1/tasks')).tasks : null), `${String(enabled)}:${key}`);
  return data ? new Set(data.map((t) => t.task)) : null;
}

/** The task names a form offers: the built-ins, and whatever live workers announce (`shell` among them only then). */
export function useOfferedTasks(): string[] {
  const liveTasks = useLiveTaskNames(useCan()('workers:read'));
  return useMemo(() => [...new Set([...BUILT_IN_TASKS, ...(liveTasks ?? [])])], [liveTasks]);
}
