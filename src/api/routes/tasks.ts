import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { TaskService } from '../../engine/task-service.js';
import { principalOf } from '../plugins/auth.js';
import { problemResponses } from '../schemas/common.js';

/** What a submit answer says about a task no live worker handles (the job is stored all the same). */
export const TaskWarning = Type.Object({
  code: Type.Literal('TASK_UNKNOWN'),
  message: Type.String(),
  task: Type.String(),
});

/** Dependencies of the task routes. */
export interface TaskRouteDeps {
  tasks: TaskService;
}

/** GET /api/v1/tasks: the tasks the tenant's live workers announced. */
export async function taskRoutes(app: FastifyInstance, deps: TaskRouteDeps): Promise<void> {
  app.withTypeProvider<TypeBoxTypeProvider>().get('/api/v1/tasks', {
    config: { permission: 'workers:read' },
    schema: {
      tags: ['workers'],
      summary: 'Tasks the live workers handle, with how many live workers handle each and in which zones',
      description: 'A job for a task not listed here stays queued until a worker that handles it starts.',
      response: {
        200: Type.Object({ tasks: Type.Array(Type.Object({ task: Type.String(), workers: Type.Integer(), zones: Type.Array(Type.String()) })) }),
        ...problemResponses,
      },
    },
  }, async (request) => ({ tasks: await deps.tasks.list(principalOf(request).tenantId) }));
}
