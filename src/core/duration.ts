/**
 * The one duration syntax, for settings (`JOBPLANE_LEASE=30s`) and CLI flags (`--timeout 5m`):
 * a number with a unit (`ms`, `s`, `m`, `h`, `d`, `w`; decimals allowed), several of them added
 * up (`1h30m`), or a bare whole number, which means milliseconds (docs/decisions.md #24).
 */

const UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const PART = /(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)/g;
const WHOLE = /^(?:\d+(?:\.\d+)?\s*(?:ms|s|m|h|d|w)\s*)+$/;

/** Whether `text` is a bare whole number (a duration in milliseconds, but no time of day or ago). */
export function isBareNumber(text: string): boolean {
  return /^\d+$/.test(text.trim());
}

/** Milliseconds in `500ms`, `30s`, `1.5m`, `1h30m`, `2d`, `1w` or a bare `1500` (ms); null when `text` is none of these. */
export function parseDuration(text: string): number | null {
  const trimmed = text.trim();
  if (isBareNumber(trimmed)) return Number(trimmed);
  if (!WHOLE.test(trimmed)) return null;
  let total = 0;
  for (const match of trimmed.matchAll(PART)) total += Number(match[1]) * (UNITS[match[2] ?? ''] ?? 0);
  return Math.round(total);
}
