// The log shippers of all containers whose driver forwards (syslog, gelf, fluentd, journald): one per container,
// started with the container and at berthd's start-up (resuming where the last berthd stopped), gone with it.
import * as path from 'node:path';
import { errorMessage } from '../errdefs';
import type { LogDialer } from '../network/log-links';
import type { ContainerRecord } from './container-record';
import type { EventBus } from './events';
import { destinationOf, type LogHostProbe } from './log-destinations';
import { isForwarding, presentedLogConfig, shippingBufferBytes } from './log-drivers';
import { LogShipper, type LogShippingStatus } from './log-shipper';

export interface LogShippingOptions {
  containers: {
    all(): ContainerRecord[];
    find(id: string): ContainerRecord | undefined;
    logPath(c: ContainerRecord): string;
    dirOf(c: ContainerRecord): string;
    stopped(c: ContainerRecord): Promise<void>;
  };
  events: EventBus;
  dial: LogDialer;
  probe: LogHostProbe;
  log: { info(msg: string): void; error(msg: string): void };
  confirmMs?: number;
}

/** The shipper's position, beside the container's log in its directory (removed with it). */
export const SHIPPER_STATE_FILE = 'log-shipper.json';

export class LogShippingService {
  private readonly shippers = new Map<string, LogShipper>();
  private unsubscribe?: () => void;

  constructor(private readonly o: LogShippingOptions) {}

  /** Follows container starts and removals. */
  watch(): void {
    this.unsubscribe = this.o.events.subscribe((ev) => {
      if (ev.Type !== 'container') return;
      const id = ev.Actor.ID;
      if (ev.Action === 'start') {
        const c = this.o.containers.find(id);
        if (c) void this.ensure(c);
      } else if (ev.Action === 'destroy') {
        const s = this.shippers.get(id);
        this.shippers.delete(id);
        void s?.retire();
      }
    });
  }

  /** At start-up: every forwarding container's shipper, running or not, to send what was written meanwhile. */
  async restoreAll(): Promise<void> {
    await Promise.all(this.o.containers.all().map((c) => this.ensure(c)));
  }

  status(id: string): LogShippingStatus | undefined {
    return this.shippers.get(id)?.status();
  }

  async close(): Promise<void> {
    this.unsubscribe?.();
    await Promise.all([...this.shippers.values()].map((s) => s.close()));
    this.shippers.clear();
  }

  private async ensure(c: ContainerRecord): Promise<void> {
    const lc = presentedLogConfig(c.hostConfig.LogConfig);
    if (!isForwarding(lc)) return;
    const existing = this.shippers.get(c.id);
    if (existing) {
      existing.resume();
      return;
    }
    try {
      const destination = destinationOf(lc.Type, lc.Config, {
        id: c.id, name: c.name, imageName: c.config.Image ?? '', imageId: c.imageId, created: c.created,
        command: [c.path, ...c.args].join(' '), daemonName: 'berth', labels: c.config.Labels ?? {}, env: c.config.Env ?? [],
      }, this.o.probe);
      const lines = Number(lc.Config['fluentd-buffer-limit'] ?? 0);
      const shipper = new LogShipper({
        id: c.id.slice(0, 12), driver: lc.Type, logPath: this.o.containers.logPath(c),
        statePath: path.join(this.o.containers.dirOf(c), SHIPPER_STATE_FILE), destination, dial: this.o.dial,
        bufferBytes: shippingBufferBytes(lc), ...(lines > 0 ? { bufferLines: lines } : {}),
        running: () => { const s = this.o.containers.find(c.id)?.state.status; return s === 'running' || s === 'paused' || s === 'restarting'; },
        stopped: () => this.o.containers.stopped(c), log: this.o.log, confirmMs: this.o.confirmMs,
      });
      this.shippers.set(c.id, shipper);
      await shipper.start();
    } catch (e) {
      // A destination whose socket went away since create (a unix syslog socket, the journal): the local log keeps
      // every line; the daemon log says why none is shipped.
      this.o.log.error(`log shipping for ${c.id.slice(0, 12)} (${lc.Type}): ${errorMessage(e)}`);
    }
  }
}
