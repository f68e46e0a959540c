/**
 * Named shapes of the API, all read from the generated src/client/api-types.ts (itself generated
 * from docs/api/openapi.json), so the typed client and the dashboard never restate a shape by hand.
 */
import type { components, paths } from './api-types.js';

type Method = 'get' | 'put' | 'post' | 'patch' | 'delete';
type Operation<P extends keyof paths, M extends Method> = NonNullable<paths[P][M]>;

/** The JSON body an operation answers with `status` (201 for most creates). */
export type ResponseOf<P extends keyof paths, M extends Method, S extends number = 200> =
  Operation<P, M> extends { responses: { [K in S]: { content: { 'application/json': infer T } } } } ? T : never;

/** The JSON body an operation takes. */
export type BodyOf<P extends keyof paths, M extends Method> =
  Operation<P, M> extends { requestBody?: { content: { 'application/json': infer T } } } ? T : never;

/** An operation's query parameters (each optional: the server fills in defaults). */
export type QueryOf<P extends keyof paths, M extends Method> =
  Operation<P, M> extends { parameters: { query?: infer Q } } ? Partial<NonNullable<Q>> : never;

/** A job as the API returns it. */
export type ApiJob = components['schemas']['Job'];
/** What can be submitted (see JobSpec in the SDK; dates as RFC 3339 strings). */
export type ApiJobSubmit = components['schemas']['JobSubmit'];
/** A schedule as the API returns it. */
export type ApiSchedule = components['schemas']['Schedule'];
/** A schedule to create, and the fields a change may give. */
export type ApiScheduleCreate = components['schemas']['ScheduleCreate'];
export type ApiSchedulePatch = components['schemas']['SchedulePatch'];
/** A tenant secret as the API shows it: metadata only, never the value. */
export type ApiSecret = components['schemas']['Secret'];
/** An RFC 9457 problem document. */
export type ApiProblem = components['schemas']['Problem'];
/** One entry of the tamper-evident audit log. */
export type ApiAuditEntry = ResponseOf<'/api/v1/audit', 'get'>['entries'][number];
/** A tenant as the API lists it. */
export type TenantInfo = ResponseOf<'/api/v1/tenants', 'get'>['tenants'][number];
/** One log line of a job. */
export type ApiLogLine = ResponseOf<'/api/v1/jobs/{id}/logs', 'get'>['lines'][number];
/** A page of jobs. */
export type ApiJobList = ResponseOf<'/api/v1/jobs', 'get'>;
