// Real crun containers for the runtime's and host's own tests: a busybox bundle run detached by crun itself, no daemon.
import type { TestContext } from 'node:test';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { prepareHost } from '../../src/host/prepare';
import type { RuntimeResources, RuntimeSpec } from '../../src/wire/oci';

export const busybox = ['/bin/busybox', '/usr/bin/busybox'].find((p) => fs.existsSync(p));
/** Why the tests that run containers are skipped here, or false. */
export const crunSkip = process.getuid!() !== 0 ? 'needs root' : !busybox ? 'needs busybox-static' : false;

/** What `crun state` says of a container (the fields read here). */
export interface CrunState { pid: number; status: string }

export type ProcessSpec = Required<RuntimeSpec>['process'];

/** Runs a detached crun container from a busybox bundle; deleted with its bundle after the test, even on failure. */
export function runContainer(t: TestContext, args: string[], resources: RuntimeResources = {}) {
  if (!busybox) throw new Error('no busybox');
  const id = `berth-it-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const bundle = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-bundle-it-'));
  t.after(() => {
    try { execFileSync('crun', ['delete', '-f', id], { stdio: 'ignore' }); } catch { /* never created */ }
    fs.rmSync(bundle, { recursive: true, force: true });
  });
  fs.mkdirSync(path.join(bundle, 'rootfs/bin'), { recursive: true });
  fs.copyFileSync(busybox, path.join(bundle, 'rootfs/bin/busybox'));
  fs.chmodSync(path.join(bundle, 'rootfs/bin/busybox'), 0o755);
  execFileSync('crun', ['spec'], { cwd: bundle });
  const config = JSON.parse(fs.readFileSync(path.join(bundle, 'config.json'), 'utf8')) as Required<Pick<RuntimeSpec, 'process' | 'linux'>>;
  config.process.args = ['/bin/busybox', ...args];
  config.process.terminal = false;
  config.linux.cgroupsPath = `/berth/${id}`;
  config.linux.resources = { ...config.linux.resources, ...resources };
  fs.writeFileSync(path.join(bundle, 'config.json'), JSON.stringify(config));
  // The container inherits crun's stdio: a pipe here would keep execFileSync waiting until the container exits.
  execFileSync('crun', ['run', '-d', '--bundle', bundle, id], { stdio: 'ignore' });
  return {
    id, cgroupsPath: `/berth/${id}`, process: config.process as ProcessSpec,
    state: (): CrunState => JSON.parse(execFileSync('crun', ['state', id], { encoding: 'utf8' })) as CrunState,
  };
}

/** What berthd does at start; on this hybrid host it moves hugetlb off cgroup2 so crun accepts the host. */
export async function prepareHostForCrun(): Promise<void> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-prep-'));
  try {
    await prepareHost({ dataRoot: path.join(tmp, 'data'), runRoot: path.join(tmp, 'run') });
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
