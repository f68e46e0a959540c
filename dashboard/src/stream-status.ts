/**
 * What the layout says about the live event streams the page holds (pure: unit-tested in
 * test/unit/dashboard-stream-status.test.ts): live, connecting or reconnecting, and how long
 * ago the server was last heard from (its `: ping` comes every 15 s, so a live stream is never
 * quiet for long).
 */

/** One stream's state: before its first bytes, receiving, or between connections. */
export type StreamState = 'connecting' | 'live' | 'reconnecting';

/** One stream as the status reads it. */
export interface StreamInfo {
  state: StreamState;
  /** When bytes last arrived (ms since the epoch), or null before the first. */
  lastDataAt: number | null;
}

/** All of a page's streams in one: the worst state, and the latest time any was heard from. */
export function combineStreams(streams: Iterable<StreamInfo>): StreamInfo | null {
  let state: StreamState | null = null;
  let lastDataAt: number | null = null;
  const worse: Record<StreamState, number> = { live: 0, connecting: 1, reconnecting: 2 };
  for (const s of streams) {
    if (state === null || worse[s.state] > worse[state]) state = s.state;
    if (s.lastDataAt !== null && (lastDataAt === null || s.lastDataAt > lastDataAt)) lastDataAt = s.lastDataAt;
  }
  return state === null ? null : { state, lastDataAt };
}

/** "3 s ago", "2 min ago", "1 h ago" (never negative). */
export function sinceText(thenMs: number, nowMs: number): string {
  const s = Math.max(0, Math.floor((nowMs - thenMs) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  return `${Math.floor(s / 3600)} h ago`;
}

/** The status line: a label for the state and, once anything arrived, "updated 3 s ago". */
export function streamStatusText(info: StreamInfo, nowMs: number): { label: string; updated: string | null } {
  const label = info.state === 'live' ? 'Live' : info.state === 'connecting' ? 'Connecting…' : 'Reconnecting…';
  return { label, updated: info.lastDataAt === null ? null : `updated ${sinceText(info.lastDataAt, nowMs)}` };
}
