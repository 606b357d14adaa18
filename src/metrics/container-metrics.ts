// Per-container CPU, memory, pids, network and block I/O for /metrics, from the sampler `docker stats` uses.
import { Counter, Gauge, type Registry } from 'prom-client';
import type { ContainerRecord } from '../engine/container-record';
import type { StatsJSON } from '../engine/container-stats';

/** Where the samples come from: engine/container-stats.ts's ContainerStats.current. */
export interface ContainerSamples {
  current(maxAgeMs: number): Promise<{ container: ContainerRecord; sample: StatsJSON }[]>;
}

/**
 * A sample this recent (a `docker stats` stream's tick, the scrape of another Prometheus) is used as it is: the
 * collector samples each streamed container once a second, so a scrape while `docker stats` runs reads nothing.
 */
export const SAMPLE_REUSE_MS = 2000;

/** The labels every per-container series has: who it is, what it runs, which Compose service it belongs to. */
const CONTAINER_LABELS = ['id', 'name', 'image', 'compose_project', 'compose_service'] as const;
type ContainerLabel = (typeof CONTAINER_LABELS)[number];
type Labels = Record<ContainerLabel, string>;

/** Docker's zeroed sample (a container that stopped between the listing and its sample) has this read time. */
const ZERO_TIME = '0001-01-01T00:00:00Z';

function labelsOf(c: ContainerRecord): Labels {
  const l = c.config.Labels ?? {};
  return {
    id: c.id, name: c.name, image: c.config.Image ?? '',
    compose_project: l['com.docker.compose.project'] ?? '', compose_service: l['com.docker.compose.service'] ?? '',
  };
}

interface Snapshot { labels: Labels; sample: StatsJSON }

/** One family: its name, help, type and how it reads a sample (one value, or one per network interface). */
interface Family {
  name: string;
  help: string;
  counter: boolean;
  perInterface?: (n: NonNullable<StatsJSON['networks']>[string]) => number;
  value?: (s: StatsJSON) => number | undefined;
}

const blkio = (s: StatsJSON, op: string) => s.blkio_stats.io_service_bytes_recursive?.filter((e) => e.op === op).reduce((n, e) => n + e.value, 0);

const FAMILIES: Family[] = [
  { name: 'berth_container_cpu_usage_seconds_total', help: 'CPU time the container\'s cgroup used, in seconds.', counter: true, value: (s) => s.cpu_stats.cpu_usage.total_usage / 1e9 },
  { name: 'berth_container_memory_usage_bytes', help: 'Memory the container\'s cgroup uses (page cache included, as docker stats reads it).', counter: false, value: (s) => s.memory_stats.usage },
  { name: 'berth_container_memory_limit_bytes', help: 'The container\'s memory limit (the host\'s memory when it has none).', counter: false, value: (s) => s.memory_stats.limit },
  { name: 'berth_container_pids', help: 'Processes and threads in the container\'s cgroup.', counter: false, value: (s) => s.pids_stats.current },
  { name: 'berth_container_blkio_read_bytes_total', help: 'Bytes the container read from block devices.', counter: true, value: (s) => blkio(s, 'read') },
  { name: 'berth_container_blkio_write_bytes_total', help: 'Bytes the container wrote to block devices.', counter: true, value: (s) => blkio(s, 'write') },
  { name: 'berth_container_network_receive_bytes_total', help: 'Bytes received on the container\'s interface.', counter: true, perInterface: (n) => n.rx_bytes },
  { name: 'berth_container_network_transmit_bytes_total', help: 'Bytes sent on the container\'s interface.', counter: true, perInterface: (n) => n.tx_bytes },
  { name: 'berth_container_network_receive_packets_total', help: 'Packets received on the container\'s interface.', counter: true, perInterface: (n) => n.rx_packets },
  { name: 'berth_container_network_transmit_packets_total', help: 'Packets sent on the container\'s interface.', counter: true, perInterface: (n) => n.tx_packets },
  { name: 'berth_container_network_receive_dropped_total', help: 'Packets dropped on receipt on the container\'s interface.', counter: true, perInterface: (n) => n.rx_dropped },
];

/**
 * Registers the per-container families on `registry`. Every family of one scrape reads the same snapshot (one
 * call to the sampler however many families, and however many scrapes arrive together); the series of a container
 * that is gone go with it, as each family is rebuilt from the snapshot.
 */
export function registerContainerMetrics(registry: Registry, samples: ContainerSamples): void {
  let inflight: Promise<Snapshot[]> | undefined;
  // This scrape's own figures: their collect waits for the snapshot that sets them.
  const sampleSeconds = new Gauge({ name: 'berth_container_sampling_seconds', help: 'Time this scrape spent sampling the running containers.', registers: [registry], async collect() { await snapshot(); } });
  const sampled = new Gauge({ name: 'berth_container_samples', help: 'Running containers sampled by this scrape.', registers: [registry], async collect() { await snapshot(); } });
  const snapshot = (): Promise<Snapshot[]> => {
    if (!inflight) {
      const started = process.hrtime.bigint();
      inflight = samples.current(SAMPLE_REUSE_MS).then((all) => {
        const live = all.filter((t) => t.sample.read !== ZERO_TIME).map((t) => ({ labels: labelsOf(t.container), sample: t.sample }));
        sampleSeconds.set(Number(process.hrtime.bigint() - started) / 1e9);
        sampled.set(live.length);
        return live;
      }).finally(() => { inflight = undefined; });
    }
    return inflight;
  };
  for (const f of FAMILIES) {
    // Rebuilt at each scrape from the snapshot: reset, then each container's figure added once (a counter's is the
    // cgroup's own running total, so the series is a counter all the same).
    const config = {
      name: f.name, help: f.help, registers: [registry],
      labelNames: f.perInterface ? [...CONTAINER_LABELS, 'interface'] : [...CONTAINER_LABELS],
      async collect(this: { reset(): void; inc(labels: Record<string, string>, v: number): void }) {
        const snap = await snapshot();
        this.reset();
        forEachValue(f, snap, (labels, v) => this.inc(labels, v));
      },
    };
    if (f.counter) new Counter(config);
    else new Gauge(config);
  }
}

function forEachValue(f: Family, snap: Snapshot[], put: (labels: Record<string, string>, v: number) => void): void {
  for (const { labels, sample } of snap) {
    if (f.perInterface) {
      for (const [iface, n] of Object.entries(sample.networks ?? {})) put({ ...labels, interface: iface }, f.perInterface(n));
    } else {
      const v = f.value!(sample);
      if (v !== undefined && Number.isFinite(v)) put(labels, v);
    }
  }
}
