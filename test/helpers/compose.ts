// `docker compose` as a user types it, for the compose integration tests: this checkout's plugin installed in a
// TestDaemon's DOCKER_CONFIG (by the script make up uses), project directories, and runs to the end or in the
// background (attached up, logs -f, events) with their output watched and a signal sent as a terminal sends it.
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DOCKER, ROOT, TestDaemon, type RunResult } from './daemon';
import { tempDir } from './tmp';

/** Installs this worktree's plugin as the daemon's DOCKER_CONFIG's cli-plugins/docker-compose. */
export function installComposePlugin(d: TestDaemon): void {
  execFileSync(path.join(ROOT, 'scripts/install-compose-plugin.sh'), [path.join(d.env.DOCKER_CONFIG!, 'cli-plugins', 'docker-compose')]);
}

/** A TestDaemon with busybox and this checkout's plugin, cleaned up after the test `t`. */
export async function composeDaemon(t: { after(fn: () => unknown): void }, name: string): Promise<TestDaemon> {
  const d = new TestDaemon(name);
  t.after(() => d.cleanup());
  await d.startWithBusybox();
  installComposePlugin(d);
  return d;
}

/** The container's state (running, exited...). */
export function containerState(d: TestDaemon, name: string): string {
  return d.dockerOk(['inspect', '-f', '{{.State.Status}}', name]).trim();
}

/** A project directory holding these files (removed when the test process exits). */
export function composeDir(files: Record<string, string>): string {
  const dir = tempDir('compose-');
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

/** `docker compose ARGS` run to its end in DIR. */
export function dc(d: TestDaemon, dir: string, args: string[], env: NodeJS.ProcessEnv = {}, timeout = 180_000): RunResult {
  const r = spawnSync(DOCKER, ['compose', ...args], { cwd: dir, env: { ...d.env, ...env }, encoding: 'utf8', timeout });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The output of a run that must succeed (the message shows everything it printed otherwise). */
export function ok(r: RunResult, what: string): string {
  assert.equal(r.code, 0, `${what}: exit ${r.code}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** A `docker compose` left running: its output so far, a wait for a line, signals, its end. */
export class BackgroundCompose {
  readonly proc: ChildProcess;
  stdout = '';
  stderr = '';
  readonly ended: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(d: TestDaemon, dir: string, args: string[]) {
    // Its own process group, as a terminal's job: the docker CLI and its plugin child in it.
    this.proc = spawn(DOCKER, ['compose', ...args], { cwd: dir, env: d.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc.stdout!.on('data', (b: Buffer) => { this.stdout += b.toString('utf8'); });
    this.proc.stderr!.on('data', (b: Buffer) => { this.stderr += b.toString('utf8'); });
    this.ended = new Promise((resolve) => this.proc.on('close', (code, signal) => resolve({ code, signal })));
  }

  /** Resolves once stdout or stderr matches, or fails after `ms` showing what was printed. */
  async waitFor(re: RegExp, ms = 60_000): Promise<void> {
    const until = Date.now() + ms;
    while (!re.test(this.stdout) && !re.test(this.stderr)) {
      if (Date.now() > until) throw new Error(`no ${re} within ${ms} ms:\n${this.stdout}\n${this.stderr}`);
      if (this.proc.exitCode !== null) throw new Error(`ended (${this.proc.exitCode}) without ${re}:\n${this.stdout}\n${this.stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Ctrl-C as a terminal sends it: to the whole process group. */
  interruptGroup(): void { process.kill(-this.proc.pid!, 'SIGINT'); }

  /** A signal to the docker CLI alone (which then closes its plugin socket). */
  signalCli(signal: NodeJS.Signals = 'SIGINT'): void { this.proc.kill(signal); }

  /** Its end within `ms` (killing the group past that, so a hung run cannot outlive the test). */
  async end(ms = 60_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    const timer = setTimeout(() => { try { process.kill(-this.proc.pid!, 'SIGKILL'); } catch { /* gone */ } }, ms);
    try { return await this.ended; } finally { clearTimeout(timer); }
  }
}
