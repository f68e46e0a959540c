/**
 * Placement policies: pure choices of a zone for a job. Pluggable — a policy is a function of the
 * job and the zones that have a live worker able to run it.
 */

/** A zone with a live worker. */
export interface ZoneCandidate {
  zone: string;
  /** Tasks its live workers have handlers for. */
  tasks: readonly string[];
  /** Carbon intensity in gCO2eq/kWh, if known. */
  intensity: number | null;
}

/** A policy picks a zone, or null to leave the job waiting. */
export type PlacementPolicy = (job: { task: string }, zones: readonly ZoneCandidate[]) => string | null;

/**
 * Greenest: among zones with a live worker that runs the task, the one with the lowest known
 * carbon intensity (ties by name, for stable choices). Zones without a reading come after all
 * zones with one; if no zone has a reading, the first zone by name is used rather than waiting.
 */
export const greenestZone: PlacementPolicy = (job, zones) => {
  const able = zones.filter((z) => z.tasks.includes(job.task));
  const sorted = [...able].sort((a, b) => {
    const ia = a.intensity ?? Number.POSITIVE_INFINITY;
    const ib = b.intensity ?? Number.POSITIVE_INFINITY;
    return ia === ib ? a.zone.localeCompare(b.zone) : ia - ib;
  });
  return sorted[0]?.zone ?? null;
};
