/** The wall clock, for services that get no clock injected (the Clock type is in src/core/deps.ts; core itself never reads the time). */
import type { Clock } from '../core/deps.js';

/** The wall clock. */
export const systemClock: Clock = { nowMs: () => Date.now() };
