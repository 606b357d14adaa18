// Prometheus in tests: its text exposition read into samples, and Debian's prometheus server run as a process of
// the test's own (own config, storage and port), queried through its HTTP API.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

export interface Sample { name: string; labels: Record<string, string>; value: number }

/** The samples of a text exposition (comments skipped); label values unescaped as the format writes them. */
export function parseExposition(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    }
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

/** The samples named `name` whose labels include `want`. */
export function samplesOf(samples: Sample[], name: string, want: Record<string, string> = {}): Sample[] {
  return samples.filter((s) => s.name === name && Object.entries(want).every(([k, v]) => s.labels[k] === v));
}

/** The one value of `name` with labels `want`, or undefined when there is none. */
export function valueOf(samples: Sample[], name: string, want: Record<string, string> = {}): number | undefined {
  const found = samplesOf(samples, name, want);
  if (found.length > 1) throw new Error(`${found.length} samples of ${name} match ${JSON.stringify(want)}`);
  return found[0]?.value;
}

/** A loopback port nobody listens on at the moment of asking. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** Debian's prometheus scraping `target` (host:port) as job "berth" every second; stop() kills it by its PID. */
export class TestPrometheus {
  readonly base = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-prometheus-'));
  readonly logFile = path.join(this.base, 'prometheus.log');
  proc: ChildProcess | undefined;
  url = '';

  constructor(private readonly target: string) {}

  async start(): Promise<this> {
    const port = await freePort();
    const config = path.join(this.base, 'prometheus.yml');
    fs.writeFileSync(config, [
      'global:', '  scrape_interval: 1s', '  scrape_timeout: 1s',
      'scrape_configs:', '  - job_name: berth', '    static_configs:', `      - targets: ['${this.target}']`, '',
    ].join('\n'));
    const out = fs.openSync(this.logFile, 'a');
    this.url = `http://127.0.0.1:${port}`;
    this.proc = spawn('/usr/bin/prometheus', [
      `--config.file=${config}`, `--storage.tsdb.path=${path.join(this.base, 'data')}`, `--web.listen-address=127.0.0.1:${port}`,
    ], { stdio: ['ignore', out, out] });
    for (let i = 0; i < 300; i++) {
      if (this.proc.exitCode !== null) break;
      if (await fetch(`${this.url}/-/ready`).then((r) => r.ok, () => false)) return this;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`prometheus did not start:\n${this.logTail()}`);
  }

  /** An instant query's result vector. */
  async query(promql: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
    const res = await fetch(`${this.url}/api/v1/query?query=${encodeURIComponent(promql)}`);
    const body = await res.json() as { status: string; data?: { result: { metric: Record<string, string>; value: [number, string] }[] }; error?: string };
    if (body.status !== 'success') throw new Error(`prometheus query ${promql}: ${body.error ?? res.status}`);
    return body.data!.result;
  }

  logTail(lines = 20): string {
    const text = fs.existsSync(this.logFile) ? fs.readFileSync(this.logFile, 'utf8') : '';
    return `prometheus's log (${this.logFile}) ends:\n${text.split('\n').slice(-lines).join('\n')}`;
  }

  async stop(): Promise<void> {
    const proc = this.proc;
    if (proc && proc.exitCode === null && !proc.signalCode) {
      const exited = new Promise((r) => proc.once('exit', r));
      process.kill(proc.pid!, 'SIGTERM');
      const late = setTimeout(() => { try { process.kill(proc.pid!, 'SIGKILL'); } catch { /* gone */ } }, 5000);
      await exited;
      clearTimeout(late);
    }
    fs.rmSync(this.base, { recursive: true, force: true });
  }
}
