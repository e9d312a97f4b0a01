// Small data hooks over the GraphQL client: a query (optionally polled while a page watches something change),
// an action (a mutation with its busy state and the server's error), and the hash route.
import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError, gql } from './api';

export interface QueryState<T> {
  data: T | null;
  error: ApiError | null;
  loading: boolean;
  reload: () => void;
}

/** Runs `query`; with `pollMs`, again every pollMs while `poll` holds (e.g. while a run is not finished). */
export function useQuery<T>(query: string, variables: Record<string, unknown>, opts: { pollMs?: number; poll?: (d: T) => boolean; skip?: boolean } = {}): QueryState<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [loading, setLoading] = useState(!opts.skip);
  const [tick, setTick] = useState(0);
  const vars = JSON.stringify(variables);
  const pollRef = useRef(opts.poll);
  pollRef.current = opts.poll;
  useEffect(() => {
    if (opts.skip) return;
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const load = async () => {
      try {
        const d = await gql<T>(query, JSON.parse(vars) as Record<string, unknown>);
        if (!live) return;
        setData(d);
        setError(null);
        if (opts.pollMs && (!pollRef.current || pollRef.current(d))) timer = setTimeout(() => void load(), opts.pollMs);
      } catch (err) {
        if (!live) return;
        setError(err instanceof ApiError ? err : new ApiError(String(err), 'INTERNAL'));
        if (opts.pollMs) timer = setTimeout(() => void load(), opts.pollMs * 3);
      } finally {
        if (live) setLoading(false);
      }
    };
    void load();
    return () => {
      live = false;
      if (timer) clearTimeout(timer);
    };
  }, [query, vars, tick, opts.pollMs, opts.skip]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data, error, loading, reload };
}

export interface ActionState {
  busy: boolean;
  error: ApiError | null;
  run: <R>(fn: () => Promise<R>) => Promise<R | undefined>;
  clear: () => void;
}

/** Wraps a mutation: shows it as busy, keeps the server's refusal (FORBIDDEN, CONFLICT, …) to display. */
export function useAction(): ActionState {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const run = useCallback(async <R,>(fn: () => Promise<R>) => {
    setBusy(true);
    setError(null);
    try {
      return await fn();
    } catch (err) {
      setError(err instanceof ApiError ? err : new ApiError(String(err), 'INTERNAL'));
      return undefined;
    } finally {
      setBusy(false);
    }
  }, []);
  return { busy, error, run, clear: () => setError(null) };
}

/** The part of the URL after `#/`, split on `/` (e.g. ['runs', '<id>']). Only ids go here, never a key. */
export function useRoute(): string[] {
  const read = () => window.location.hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  const [route, setRoute] = useState(read);
  useEffect(() => {
    const on = () => setRoute(read());
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return route;
}

export function href(...parts: string[]): string {
  return `#/${parts.map(encodeURIComponent).join('/')}`;
}

export function navigate(...parts: string[]): void {
  window.location.hash = href(...parts);
}
