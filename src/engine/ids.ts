/** Time-ordered ids (UUID v7) for what the engine's callers name: jobs, requests. */
export { uuidv7 } from '../db/ids.js';
