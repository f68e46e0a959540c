/**
 * Server-sent events, the reading side: shared by the typed client, the dashboard and the tests
 * (no Node or DOM APIs here). Frames are separated by a blank line; only `id`, `event` and `data`
 * fields are used, and data is JSON.
 */

/** One server-sent event of `GET /api/v1/events`. */
export interface ApiEvent {
  /** Resume point (absent on a per-job stream's first, snapshot event). */
  id: string | null;
  /** `job`, `job-output`, `schedule`, `queue` or `reset`. */
  type: string;
  data: Record<string, unknown>;
}

/** Parse one frame; comments, frames without data and non-JSON data give null. */
export function parseSseFrame(frame: string): ApiEvent | null {
  let id: string | null = null;
  let type = 'message';
  const data: string[] = [];
  for (const line of frame.split('\n')) {
    if (line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'id') id = value;
    else if (field === 'event') type = value;
    else if (field === 'data') data.push(value);
  }
  if (data.length === 0) return null;
  try {
    return { id, type, data: JSON.parse(data.join('\n')) as Record<string, unknown> };
  } catch {
    return null;
  }
}

/**
 * Feed decoded text in, get the complete events out; an incomplete frame waits for the next
 * chunk.
 */
export class SseReader {
  private buffer = '';

  push(text: string): ApiEvent[] {
    this.buffer += text;
    const events: ApiEvent[] = [];
    let end: number;
    while ((end = this.buffer.indexOf('\n\n')) >= 0) {
      const event = parseSseFrame(this.buffer.slice(0, end));
      this.buffer = this.buffer.slice(end + 2);
      if (event) events.push(event);
    }
    return events;
  }
}
