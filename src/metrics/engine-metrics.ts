// The engine's own metrics: API requests, containers by state, image pulls and pushes, build steps, events, berthd's process.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { BuildMeter } from '../build/builder-ports';
import type { ContainerStatus } from '../engine/container-record';
import type { TransferMeter } from '../engine/image-pull';
import type { EventMessage } from '../wire/docker';

/** Every state a container can be in: each is reported, at 0 when no container is in it. */
const CONTAINER_STATES: readonly ContainerStatus[] = ['created', 'running', 'paused', 'restarting', 'removing', 'exited', 'dead'];

/** The methods the API serves; anything else a client sends is counted as "other" (labels stay bounded). */
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']);

/** From a ping (sub-millisecond) to a pull or build that takes minutes; streams count until the client leaves. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

/**
 * The registry /metrics serves and the engine's counters. It is the engine's meter for transfers and builds, the
 * API server's request observer and the event bus's listener; containers by state are counted at each scrape.
 */
export class EngineMetrics implements TransferMeter, BuildMeter {
  readonly registry = new Registry();
  private readonly requests: Counter<'method' | 'route' | 'status'>;
  private readonly latency: Histogram<'method' | 'route'>;
  private readonly transfers: Counter<'kind'>;
  private readonly transferFailures: Counter<'kind'>;
  private readonly transferBytes: Counter<'kind'>;
  private readonly buildSteps: Counter<'instruction' | 'outcome'>;
  private readonly events: Counter<'type' | 'action'>;

  constructor(containerStates: () => Iterable<ContainerStatus>) {
    const registers = [this.registry];
    // berthd's CPU, memory, file descriptors, event loop lag and heap, as prom-client reads them for any Node process.
    collectDefaultMetrics({ register: this.registry });
    // Three of them are gauges named *_total, which Prometheus' linter (promtool check metrics) refuses; their
    // per-type gauges (nodejs_active_handles{type=...} and the like) say the same.
    for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) this.registry.removeSingleMetric(name);
    this.requests = new Counter({ name: 'berth_api_requests_total', help: 'Engine API requests by method, route (as registered, parameters unexpanded) and status code.', labelNames: ['method', 'route', 'status'], registers });
    this.latency = new Histogram({ name: 'berth_api_request_duration_seconds', help: 'Engine API request durations by method and route (a stream lasts until its client leaves).', labelNames: ['method', 'route'], buckets: LATENCY_BUCKETS, registers });
    new Gauge({
      name: 'berth_containers', help: 'Containers by state.', labelNames: ['state'], registers,
      collect() {
        const counts = new Map<ContainerStatus, number>(CONTAINER_STATES.map((s) => [s, 0]));
        for (const s of containerStates()) counts.set(s, (counts.get(s) ?? 0) + 1);
        for (const [state, n] of counts) this.set({ state }, n);
      },
    });
    // pull and push: the kind of transfer, so one family holds both.
    this.transfers = new Counter({ name: 'berth_image_transfers_total', help: 'Image pulls and pushes done (kind="pull" or "push"), failed ones included.', labelNames: ['kind'], registers });
    this.transferFailures = new Counter({ name: 'berth_image_transfer_failures_total', help: 'Image pulls and pushes that ended in an error.', labelNames: ['kind'], registers });
    this.transferBytes = new Counter({ name: 'berth_image_transfer_bytes_total', help: 'Compressed layer bytes received from registries by pulls, sent by pushes.', labelNames: ['kind'], registers });
    this.buildSteps = new Counter({ name: 'berth_build_steps_total', help: 'Dockerfile steps run by builds, by instruction and outcome (built, cached or failed).', labelNames: ['instruction', 'outcome'], registers });
    this.events = new Counter({ name: 'berth_events_total', help: 'Events published (as GET /events sends them) by type and action.', labelNames: ['type', 'action'], registers });
    for (const kind of ['pull', 'push'] as const) {
      // Present from the start at 0, so a rate over a daemon that never pulled is 0 rather than absent.
      this.transfers.inc({ kind }, 0);
      this.transferFailures.inc({ kind }, 0);
      this.transferBytes.inc({ kind }, 0);
    }
  }

  /** The API server's RequestObserver. */
  readonly observeRequest = (r: { method: string; route: string; status: number; seconds: number }): void => {
    const method = METHODS.has(r.method) ? r.method : 'other';
    this.requests.inc({ method, route: r.route, status: String(r.status) });
    this.latency.observe({ method, route: r.route }, r.seconds);
  };

  /** The event bus's listener. An action's detail after ": " (an exec's command, a health status) is left out. */
  readonly observeEvent = (ev: EventMessage): void => {
    const colon = ev.Action.indexOf(':');
    this.events.inc({ type: ev.Type, action: colon < 0 ? ev.Action : ev.Action.slice(0, colon) });
  };

  bytes(kind: 'pull' | 'push', n: number): void {
    this.transferBytes.inc({ kind }, n);
  }

  finished(kind: 'pull' | 'push', failed: boolean): void {
    this.transfers.inc({ kind });
    if (failed) this.transferFailures.inc({ kind });
  }

  step(instruction: string, outcome: 'cached' | 'built' | 'failed'): void {
    this.buildSteps.inc({ instruction, outcome });
  }
}
