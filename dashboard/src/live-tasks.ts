/** The tasks live workers handle (GET /api/v1/tasks), for the job page's notice and the submit form's task list. */
import { api } from './api';
import { useResource } from './hooks';

/** A task at least one live worker handles. */
export interface LiveTask {
  task: string;
  workers: number;
  zones: string[];
}

/** The names of the tasks live workers handle; null until known (or when the caller may not list workers). */
export function useLiveTaskNames(enabled: boolean, key = ''): Set<string> | null {
  const { data } = useResource(async () => (enabled ? (await api<{ tasks: LiveTask[] }>('GET', '/api/v1/tasks')).tasks : null), `${String(enabled)}:${key}`);
  return data ? new Set(data.map((t) => t.task)) : null;
}
