/**
 * Live events from `GET /api/v1/events` (SSE). EventSource cannot send an Authorization header,
 * so this reads the stream with fetch, reconnects with Last-Event-ID, and reports `reset` (events
 * were missed: re-read) to the caller. Every open stream's state is kept here too, so the layout
 * can say whether the page is live ({@link useStreamStatus}).
 */
import { useEffect, useRef, useSyncExternalStore } from 'react';
import { SseReader, type ApiEvent } from '../../src/client/sse.js';
import { accessToken, refresh } from './api';
import { combineStreams, type StreamInfo, type StreamState } from './stream-status';

const streams = new Map<number, StreamInfo>();
const statusListeners = new Set<() => void>();
let nextStream = 0;
let combined: StreamInfo | null = null;

function setStream(id: number, info: StreamInfo | null): void {
  if (info) streams.set(id, info);
  else streams.delete(id);
  combined = combineStreams(streams.values());
  for (const listener of statusListeners) listener();
}

/** The page's streams in one (null when it holds none); re-renders when any changes. */
export function useStreamStatus(): StreamInfo | null {
  return useSyncExternalStore(
    (listener) => {
      statusListeners.add(listener);
      return () => void statusListeners.delete(listener);
    },
    () => combined,
  );
}

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
  const streamId = ++nextStream;
  let state: StreamState = 'connecting';
  let lastDataAt: number | null = null;
  const report = (next: StreamState): void => {
    state = next;
    setStream(streamId, { state, lastDataAt });
  };
  report('connecting');
  try {
    await followStream(options, onEvent, signal, (resumed) => {
      report('live');
      onOpen?.(resumed);
    }, () => {
      lastDataAt = Date.now();
      report(state);
    }, () => report('reconnecting'));
  } finally {
    setStream(streamId, null);
  }
}

async function followStream(options: StreamOptions, onEvent: (event: LiveEvent) => void, signal: AbortSignal, onOpen: OnOpen, onData: () => void, onDrop: () => void): Promise<void> {
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
        onData();
        if (!opened) {
          opened = true;
          onOpen(resumed);
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
    onDrop();
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
