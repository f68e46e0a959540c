/**
 * Live events from `GET /api/v1/events` (SSE). EventSource cannot send an Authorization header,
 * so this reads the stream with fetch, reconnects with Last-Event-ID, and reports `reset` (events
 * were missed: re-read) to the caller.
 */
import { useEffect, useRef } from 'react';
import { SseReader, type ApiEvent } from '../../src/client/sse.js';
import { accessToken, refresh } from './api';

/** `type` is `job`, `job-output`, `schedule`, `queue` or `reset`. */
export type LiveEvent = ApiEvent;

export interface StreamOptions {
  /** `/api/v1/events` (default) or `/api/v1/jobs/{id}/events`. */
  path?: string;
  query?: Record<string, string | undefined>;
}

/**
 * Called once per connection when the server has subscribed (its first bytes arrived); `resumed`
 * says the server will replay what was missed (or send `reset`). A fresh subscription replays
 * nothing, so whatever the page read before it may already be stale: read it again.
 */
export type OnOpen = (resumed: boolean) => void;

/** Follow a stream until `signal` aborts; calls `onEvent` for each event (including `reset`). */
export async function follow(options: StreamOptions, onEvent: (event: LiveEvent) => void, signal: AbortSignal, onOpen?: OnOpen): Promise<void> {
  let lastId: string | null = null;
  let delayMs = 500;
  while (!signal.aborted) {
    try {
      const url = new URL(options.path ?? '/api/v1/events', window.location.origin);
      for (const [k, v] of Object.entries(options.query ?? {})) if (v) url.searchParams.set(k, v);
      const headers: Record<string, string> = { accept: 'text/event-stream' };
      const token = accessToken();
      if (token) headers.authorization = `Bearer ${token}`;
      if (lastId) headers['last-event-id'] = lastId;
      const response = await fetch(url, { headers, signal });
      if (response.status === 401) {
        if (!(await refresh())) return;
        continue;
      }
      if (!response.ok || !response.body) throw new Error(`event stream answered ${response.status}`);
      delayMs = 500;
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      const frames = new SseReader();
      const resumed = lastId !== null;
      let opened = false;
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        if (!opened) {
          opened = true;
          onOpen?.(resumed);
        }
        for (const event of frames.push(value)) {
          if (event.id) lastId = event.id;
          onEvent(event);
        }
      }
    } catch {
      if (signal.aborted) return;
    }
    // The server ended the stream or the network dropped: come back, resuming after lastId.
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    delayMs = Math.min(delayMs * 2, 10_000);
  }
}

/**
 * React hook: follow a stream while the component is mounted. `key` restarts it (e.g. when
 * filters change); the latest `onEvent` is always the one called.
 */
export function useLiveEvents(options: StreamOptions, onEvent: (event: LiveEvent) => void, key = '', onOpen?: OnOpen): void {
  const handler = useRef(onEvent);
  handler.current = onEvent;
  const openHandler = useRef(onOpen);
  openHandler.current = onOpen;
  const optionsKey = JSON.stringify(options) + key;
  useEffect(() => {
    const controller = new AbortController();
    void follow(options, (event) => handler.current(event), controller.signal, (resumed) => openHandler.current?.(resumed));
    return () => controller.abort();
  // eslint-disable-next-line react-hooks/exhaustive-deps -- keyed by the options' JSON: a new object with equal content must not reconnect
  }, [optionsKey]);
}
