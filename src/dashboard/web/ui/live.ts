// The page's live state: one /events stream and one /berth/stats stream for the whole page, whatever the number of
// containers; the container list refetched on container events (throttled); views subscribe to changes.
import type { ContainerSummary, EventMessage } from '../../../wire/docker';
import { NdjsonSplitter } from '../model/ndjson';
import { SERVICE_NAME_LABEL } from '../model/grouping';
import { StatsHistory, type StatsTick } from '../model/stats-history';
import { EventLog, Throttle, changesContainerList } from '../model/events';
import { getJson, keepStreaming } from './api';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';

/** Ticks kept per container: five minutes at the stream's one tick a second. */
const HISTORY_TICKS = 300;
/** At most two container-list refetches a second, however many events arrive. */
const LIST_REFETCH_MS = 500;
/** berthd sends no event when the node joins or leaves a swarm: /info is asked again this often (and when a task shows up). */
const INFO_RECHECK_MS = 30_000;

export class LiveState {
  containers: ContainerSummary[] = [];
  containersLoaded = false;
  swarmActive = false;
  readonly stats = new StatsHistory(HISTORY_TICKS);
  readonly events = new EventLog(1000);
  /** Bumped by every change: views compare it to know they must redraw. */
  version = 0;
  private readonly listeners = new Set<() => void>();
  private readonly eventListeners = new Set<(ev: EventMessage) => void>();
  private readonly refetch = new Throttle(() => void this.loadContainers(), LIST_REFETCH_MS);
  private notifyQueued = false;

  start(signal: AbortSignal): void {
    void this.loadContainers();
    void this.loadInfo();
    const events = new NdjsonSplitter<EventMessage>();
    // Containers that changed while the stream was down are caught by a refetch when it reopens.
    keepStreaming('/events', signal, (chunk) => events.push(chunk).forEach((ev) => this.onEvent(ev)), () => this.refetch.request());
    const ticks = new NdjsonSplitter<StatsTick>();
    keepStreaming('/berth/stats', signal, (chunk) => {
      for (const tick of ticks.push(chunk)) this.stats.push(tick);
      this.changed();
    });
    const infoTimer = setInterval(() => void this.loadInfo(), INFO_RECHECK_MS);
    signal.addEventListener('abort', () => { this.refetch.cancel(); clearInterval(infoTimer); });
  }

  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  onEvents(fn: (ev: EventMessage) => void): () => void {
    this.eventListeners.add(fn);
    return () => this.eventListeners.delete(fn);
  }

  /** Asks for a container-list refetch (after an action), folded with those events ask for. */
  refreshContainers(): void {
    this.refetch.request();
  }

  private onEvent(ev: EventMessage): void {
    this.events.add(ev);
    if (changesContainerList(ev)) this.refetch.request();
    if (ev.Type === 'node' || (ev.Type === 'daemon' && ev.Action === 'update')) void this.loadInfo();
    for (const fn of this.eventListeners) fn(ev);
    this.changed();
  }

  private async loadContainers(): Promise<void> {
    try {
      this.containers = await getJson<ContainerSummary[]>('/containers/json?all=1');
      this.containersLoaded = true;
      if (!this.swarmActive && this.containers.some((c) => c.Labels?.[SERVICE_NAME_LABEL])) void this.loadInfo();
      this.changed();
    } catch (err) {
      console.warn(`container list: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private async loadInfo(): Promise<void> {
    try {
      const info = await getJson<{ Swarm?: { LocalNodeState?: string } }>('/info');
      this.swarmActive = info.Swarm?.LocalNodeState === 'active';
      this.changed();
    } catch { /* the next node event or reload tries again */ }
  }

  /** Listeners run once per animation frame at most, however many changes came in between. */
  private changed(): void {
    this.version++;
    if (this.notifyQueued) return;
    this.notifyQueued = true;
    requestAnimationFrame(() => {
      this.notifyQueued = false;
      for (const fn of this.listeners) fn();
    });
  }
}

export const live = new LiveState();

/** Re-renders the calling component whenever the live state changes; returns its version. */
export function useLive(): number {
  const [version, setVersion] = useState(live.version);
  useEffect(() => live.subscribe(() => setVersion(live.version)), []);
  return version;
}

/** Calls `fn` for every event while the component is mounted. */
export function useEvents(fn: (ev: EventMessage) => void): void {
  useEffect(() => live.onEvents(fn), [fn]);
}

/** After a failed load, the next try: berthd restarting or a request cut leaves no view on its error. */
const RELOAD_AFTER_FAILURE_MS = 2000;

/**
 * Loads with `fetch` (a function that stays the same between renders) on mount, again on events of `type`, on
 * reload(), and 2 s after a failure, until the component goes.
 */
export function useListing<T>(fetch: () => Promise<T>, type: EventMessage['Type']): { data: T | undefined; error: string; reload: () => void } {
  const [data, setData] = useState<T | undefined>();
  const [error, setError] = useState('');
  const retry = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const reload = useCallback(() => {
    fetch().then((d) => { setData(d); setError(''); }, (err: unknown) => {
      setError(err instanceof Error ? err.message : String(err));
      retry.current = setTimeout(reload, RELOAD_AFTER_FAILURE_MS);
    });
  }, [fetch]);
  useEffect(() => {
    reload();
    return () => clearTimeout(retry.current);
  }, [reload]);
  useEvents(useCallback((ev: EventMessage) => { if (ev.Type === type) reload(); }, [reload, type]));
  return { data, error, reload };
}
