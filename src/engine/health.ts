// Health checks: runs a container's HEALTHCHECK probe on its interval, keeps State.Health, publishes health_status events.
import type { HealthConfig } from '../wire/docker';
import { hasProcess, type ContainerRecord } from './container-record';
import type { ContainerService } from './containers';
import type { EventBus } from './events';
import { errorMessage } from '../errdefs';
import type { ExecService } from './exec';
import { formatGoDuration } from '../wire/durations';

const DEFAULT_INTERVAL_NS = 30e9;
const DEFAULT_TIMEOUT_NS = 30e9;
const DEFAULT_RETRIES = 3;
const DEFAULT_START_INTERVAL_NS = 5e9;
/** Docker keeps the last five probe results in State.Health.Log. */
const MAX_LOG = 5;
const MAX_OUTPUT = 4096;

/** The probe's argv: CMD runs as is, CMD-SHELL through /bin/sh -c; null without a check (none, NONE). */
export function probeCommand(hc: HealthConfig | undefined): string[] | null {
  const test = hc?.Test ?? [];
  if (!test.length) return null;
  switch (test[0]) {
    case 'CMD': return test.length > 1 ? test.slice(1) : null;
    case 'CMD-SHELL': return test.length > 1 ? ['/bin/sh', '-c', test.slice(1).join(' ')] : null;
    case 'NONE': return null;
    default: return ['/bin/sh', '-c', test.join(' ')];
  }
}

interface Monitor { timer?: NodeJS.Timeout; stopped: boolean; startedAt: number }

export class HealthMonitor {
  private readonly monitors = new Map<string, Monitor>();
  private unsubscribe?: () => void;

  /** Probes run as `docker exec` sessions do (exec.ts), with moby's probe settings. */
  constructor(private readonly containers: ContainerService, private readonly execs: Pick<ExecService, 'probe'>, private readonly events: EventBus, private readonly log: { error(msg: string): void }) {}

  /** Follows container starts and exits; containers already running (berthd restarted) are monitored at once. */
  watch(): void {
    this.unsubscribe = this.events.subscribe((ev) => {
      if (ev.Type !== 'container') return;
      if (ev.Action === 'start') {
        const c = this.containers.find(ev.Actor.ID);
        if (c) this.begin(c, true);
      } else if (ev.Action === 'die' || ev.Action === 'destroy') {
        this.end(ev.Actor.ID);
      }
    });
    for (const c of this.containers.all()) if (hasProcess(c.state.status)) this.begin(c, false);
  }

  stop(): void {
    this.unsubscribe?.();
    for (const id of [...this.monitors.keys()]) this.end(id);
  }

  private begin(c: ContainerRecord, fresh: boolean): void {
    const hc = c.config.Healthcheck;
    if (!probeCommand(hc)) return;
    this.end(c.id);
    const m: Monitor = { stopped: false, startedAt: Date.parse(c.state.startedAt) || Date.now() };
    this.monitors.set(c.id, m);
    if (fresh || !c.state.health) {
      c.state.health = { status: 'starting', failingStreak: 0, log: [] };
      void this.containers.saveRecord(c).catch(() => undefined);
    }
    this.schedule(c, m);
  }

  private end(id: string): void {
    const m = this.monitors.get(id);
    if (!m) return;
    m.stopped = true;
    if (m.timer) clearTimeout(m.timer);
    this.monitors.delete(id);
  }

  private schedule(c: ContainerRecord, m: Monitor): void {
    const hc = c.config.Healthcheck ?? {};
    const inStartPeriod = Date.now() - m.startedAt < ns(hc.StartPeriod, 0) / 1e6;
    const interval = inStartPeriod && hc.StartInterval ? ns(hc.StartInterval, DEFAULT_START_INTERVAL_NS) : ns(hc.Interval, DEFAULT_INTERVAL_NS);
    m.timer = setTimeout(() => {
      this.probe(c, m).catch((e) => this.log.error(`health check ${c.id}: ${errorMessage(e)}`)).finally(() => {
        if (!m.stopped) this.schedule(c, m);
      });
    }, interval / 1e6);
  }

  private async probe(c: ContainerRecord, m: Monitor): Promise<void> {
    if (c.state.status !== 'running') return; // paused: Docker skips the probe
    const hc = c.config.Healthcheck ?? {};
    const argv = probeCommand(hc)!;
    const timeoutNs = ns(hc.Timeout, DEFAULT_TIMEOUT_NS);
    const start = new Date();
    let exitCode: number;
    let output: string;
    try {
      const r = await this.execs.probe(c.id, argv, { timeoutMs: timeoutNs / 1e6, maxOutput: MAX_OUTPUT });
      exitCode = r.exitCode;
      output = r.timedOut ? `Health check exceeded timeout (${formatGoDuration(timeoutNs)})${r.output ? `: ${r.output}` : ''}` : r.output;
    } catch (e) {
      exitCode = -1;
      output = errorMessage(e);
    }
    if (m.stopped || c.state.status !== 'running') return;
    const health = c.state.health ?? { status: 'starting', failingStreak: 0, log: [] };
    health.log = [...health.log, { Start: start.toISOString(), End: new Date().toISOString(), ExitCode: exitCode, Output: output }].slice(-MAX_LOG);
    const before = health.status;
    if (exitCode === 0) {
      health.failingStreak = 0;
      health.status = 'healthy';
    } else {
      const inStartPeriod = Date.now() - m.startedAt < ns(hc.StartPeriod, 0) / 1e6;
      // Failures during the start period do not count (moby's handleProbeResult).
      if (!(inStartPeriod && before !== 'healthy')) {
        health.failingStreak++;
        if (health.failingStreak >= (hc.Retries || DEFAULT_RETRIES)) health.status = 'unhealthy';
      }
    }
    c.state.health = health;
    await this.containers.saveRecord(c);
    if (health.status !== before) this.containers.emit(c, `health_status: ${health.status}`);
  }
}

function ns(v: number | undefined, fallback: number): number {
  return v && v > 0 ? v : fallback;
}
