/** Hooks shared by the pages: loading a resource, and throttling refetches on live events. */
import { useCallback, useEffect, useRef, useState, type Dispatch, type SetStateAction } from 'react';

export interface Resource<T> {
  data: T | null;
  error: unknown;
  loading: boolean;
  /** Fetch again (an answer to an older call that arrives late is ignored). */
  reload: () => Promise<void>;
  /** Replace the data locally (after an action whose answer is the new state). */
  setData: Dispatch<SetStateAction<T | null>>;
}

/** Load `fetch` on mount and whenever `key` changes; errors keep the last data visible. */
export function useResource<T>(fetch: () => Promise<T>, key = ''): Resource<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const latest = useRef(fetch);
  latest.current = fetch;
  const sequence = useRef(0);
  const reload = useCallback(async () => {
    const mine = ++sequence.current;
    setLoading(true);
    try {
      const value = await latest.current();
      if (mine !== sequence.current) return;
      setData(value);
      setError(null);
    } catch (err) {
      if (mine === sequence.current) setError(err);
    } finally {
      if (mine === sequence.current) setLoading(false);
    }
  }, []);
  useEffect(() => {
    void reload();
  }, [reload, key]);
  return { data, error, loading, reload, setData };
}

/**
 * A throttled caller: runs `fn` at once, then at most every `ms`; calls made meanwhile collapse
 * into one trailing run. For refetching on bursts of live events.
 */
export function useThrottled(fn: () => void, ms = 1000): () => void {
  const latest = useRef(fn);
  latest.current = fn;
  const last = useRef(0);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(() => () => {
    if (timer.current) clearTimeout(timer.current);
  }, []);
  return useCallback(() => {
    if (timer.current) return;
    const wait = Math.max(0, last.current + ms - Date.now());
    timer.current = setTimeout(() => {
      timer.current = null;
      last.current = Date.now();
      latest.current();
    }, wait);
  }, [ms]);
}
