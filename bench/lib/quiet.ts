/**
 * Background-load guard. On a 2-core machine anything else running (a test suite, a linter)
 * changes the figures a lot, so before each measured phase we sample machine-wide CPU use
 * from /proc/stat while the benchmark itself is idle, wait (bounded) for it to drop, and record
 * what we saw next to the figures.
 */
import { readFileSync } from 'node:fs';

function cpuTimes(): { busy: number; total: number } | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    const parts = line.trim().split(/\s+/).slice(1).map(Number);
    if (parts.length < 4 || parts.some((n) => !Number.isFinite(n))) return null;
    const idle = (parts[3] ?? 0) + (parts[4] ?? 0); // idle + iowait
    const total = parts.reduce((a, b) => a + b, 0);
    return { busy: total - idle, total };
  } catch {
    return null;
  }
}

/** Machine-wide CPU busy percentage (0–100, all cores) over `ms`; null where /proc/stat is unavailable. */
export async function cpuBusyPct(ms = 500): Promise<number | null> {
  const a = cpuTimes();
  await new Promise((r) => setTimeout(r, ms));
  const b = cpuTimes();
  if (!a || !b || b.total === a.total) return null;
  return Math.round(((b.busy - a.busy) / (b.total - a.total)) * 1000) / 10;
}

export interface QuietReport {
  /** CPU busy % in the last sample before the measurement started. */
  backgroundCpuPct: number | null;
  /** How long we waited for the machine to become quiet. */
  waitedMs: number;
  /** False when the machine never became quiet within the wait limit. */
  quiet: boolean;
}

/**
 * Wait until machine-wide CPU use is at most `maxBusyPct` (default 15 %, env BENCH_QUIET_PCT) over
 * a 500 ms sample, for at most `maxWaitMs` (default 60 s, env BENCH_QUIET_WAIT_S). Never throws.
 */
export async function waitForQuiet(
  maxBusyPct = Number(process.env['BENCH_QUIET_PCT'] ?? 15),
  maxWaitMs = Number(process.env['BENCH_QUIET_WAIT_S'] ?? 60) * 1000,
): Promise<QuietReport> {
  const t0 = Date.now();
  for (;;) {
    const last = await cpuBusyPct(500);
    if (last == null || last <= maxBusyPct) return { backgroundCpuPct: last, waitedMs: Date.now() - t0, quiet: true };
    if (Date.now() - t0 >= maxWaitMs) return { backgroundCpuPct: last, waitedMs: Date.now() - t0, quiet: false };
  }
}
