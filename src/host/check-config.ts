// `berth check-config`: what Berth needs from this host, each line with a verdict (like Docker's contrib/check-config.sh).
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { errorMessage } from '../errdefs';
import { CgroupLayout, readCgroupLayout } from './cgroups';

export type Verdict = 'enabled' | 'missing' | 'ok' | 'warning';

export interface Check {
  group: string;
  name: string;
  verdict: Verdict;
  detail?: string;
  /** A required check that is 'missing' makes check-config exit 1; others only warn. */
  required: boolean;
}

/** The oldest kernel Berth supports: overlayfs index=off (4.13) and the v2-era cgroup fixes runc asks for. */
const MIN_KERNEL: [number, number] = [4, 15];

function run(file: string, args: string[]): Promise<string | null> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: 5000, encoding: 'utf8' }, (err, stdout, stderr) => {
      resolve(err ? null : `${stdout}${stderr}`);
    });
  });
}

async function readText(file: string): Promise<string | null> {
  try {
    return await fsp.readFile(file, 'utf8');
  } catch {
    return null;
  }
}

export interface KernelConfig {
  source: string;
  /** CONFIG_* → "y" | "m" | value. */
  options: Map<string, string>;
}

/** The running kernel's build configuration from /boot/config-<release> or /proc/config.gz; null if neither. */
export async function readKernelConfig(release = os.release()): Promise<KernelConfig | null> {
  const boot = `/boot/config-${release}`;
  const text = await readText(boot);
  if (text !== null) return { source: boot, options: parseKernelConfig(text) };
  try {
    // /proc/config.gz is ~100 KiB unpacked, and procfs files do not stream well through gunzip anyway.
    return { source: '/proc/config.gz', options: parseKernelConfig(gunzipSync(await fsp.readFile('/proc/config.gz')).toString('utf8')) };
  } catch {
    return null;
  }
}

export function parseKernelConfig(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^(CONFIG_\w+)=(.*)$/.exec(line.trim());
    if (m) out.set(m[1]!, m[2]!);
  }
  return out;
}

/** "6.1.0-18-amd64" → [6, 1]. */
export function kernelVersion(release: string): [number, number] | null {
  const m = /^(\d+)\.(\d+)/.exec(release);
  return m ? [Number(m[1]), Number(m[2])] : null;
}

/** Which iptables backend `iptables --version` reports: "iptables v1.8.9 (nf_tables)" → nft. */
export function iptablesFlavor(versionOutput: string): { version: string; backend: 'nft' | 'legacy' | 'unknown' } {
  const version = /v(\d[\w.]*)/.exec(versionOutput)?.[1] ?? 'unknown';
  const backend = /nf_tables/.test(versionOutput) ? 'nft' : /legacy/.test(versionOutput) ? 'legacy' : 'unknown';
  return { version, backend };
}

/** Whether a kernel feature is there: kernel config first, else the loaded or installed module. */
async function kernelFeature(config: Map<string, string> | null, option: string, module: string): Promise<{ verdict: Verdict; detail: string }> {
  const v = config?.get(option);
  if (v === 'y') return { verdict: 'enabled', detail: `${option}=y` };
  if (v === 'm') return { verdict: 'enabled', detail: `${option}=m (module)` };
  if (config) return { verdict: 'missing', detail: `${option} is not set` };
  if (fs.existsSync(`/sys/module/${module}`)) return { verdict: 'enabled', detail: `module ${module} loaded` };
  const modDir = `/lib/modules/${os.release()}`;
  const builtin = await readText(path.join(modDir, 'modules.builtin'));
  if (builtin?.split('\n').some((l) => path.basename(l).replace(/\.ko.*$/, '') === module)) return { verdict: 'enabled', detail: 'built in' };
  const dep = await readText(path.join(modDir, 'modules.dep'));
  if (dep?.split('\n').some((l) => path.basename(l.split(':')[0]!).replace(/\.ko.*$/, '') === module)) {
    return { verdict: 'enabled', detail: `module ${module} available` };
  }
  return { verdict: 'warning', detail: 'cannot tell: no kernel config and no module information' };
}

const V1_CONTROLLERS: Array<[string, boolean]> = [
  ['cpu', true], ['cpuacct', true], ['cpuset', false], ['memory', true], ['devices', true],
  ['freezer', true], ['blkio', false], ['pids', true], ['hugetlb', false],
];

/** The cgroup lines of the report, from the host's layout. */
export function cgroupChecks(layout: CgroupLayout): Check[] {
  const group = 'Cgroups';
  const checks: Check[] = [];
  const where = layout.mode === 'v2' ? `cgroup2 at ${layout.root}`
    : layout.mode === 'hybrid' ? `v1 controllers at ${layout.root}, cgroup2 at ${layout.v2Mount}` : `v1 at ${layout.root}`;
  checks.push({ group, name: `mode ${layout.mode}`, verdict: 'ok', detail: where, required: true });
  if (layout.mode === 'v2') {
    const has = new Set(layout.v2Controllers);
    for (const [c, required] of [['cpu', true], ['cpuset', false], ['memory', true], ['io', false], ['pids', true], ['hugetlb', false]] as const) {
      checks.push({ group, name: c, verdict: has.has(c) ? 'enabled' : required ? 'missing' : 'warning', required });
    }
    checks.push({ group, name: 'cpuacct', verdict: 'ok', detail: 'part of cpu.stat on cgroup v2', required: false });
    checks.push({ group, name: 'devices', verdict: 'ok', detail: 'eBPF device filter on cgroup v2', required: false });
    checks.push({ group, name: 'freezer', verdict: 'ok', detail: 'cgroup.freeze on cgroup v2', required: false });
    return checks;
  }
  for (const [c, required] of V1_CONTROLLERS) {
    const v1 = layout.v1.get(c);
    const onV2 = layout.v2Controllers.includes(c === 'blkio' ? 'io' : c);
    if (v1) checks.push({ group, name: c, verdict: 'enabled', detail: `mounted on ${v1.mountPoint}`, required });
    else if (onV2) checks.push({ group, name: c, verdict: 'warning', detail: `on cgroup2 at ${layout.v2Mount}, not on v1`, required });
    else checks.push({ group, name: c, verdict: required ? 'missing' : 'warning', detail: 'not mounted', required });
  }
  if (layout.mode === 'hybrid') {
    const name = 'crun in hybrid mode';
    if (layout.v2Controllers.length === 0) {
      checks.push({ group, name, verdict: 'ok', detail: 'cgroup2 holds no controller, crun accepts this host', required: false });
    } else {
      const fix = layout.v2Controllers
        .map((c) => (c === 'io' ? 'blkio' : c))
        .map((c) => `mkdir -p ${layout.root}/${c} && mount -t cgroup -o ${c} cgroup ${layout.root}/${c}`)
        .join('; ');
      checks.push({
        group, name, verdict: 'warning', required: false,
        detail: `cgroup2 at ${layout.v2Mount} holds ${layout.v2Controllers.join(', ')}: crun 1.8 refuses to run containers ` +
          `("cgroups in hybrid mode not supported, drop all controllers from cgroupv2"); berthd fixes this at start by ` +
          `mounting a v1 hierarchy for each: ${fix}`,
      });
    }
  }
  return checks;
}

async function versionCheck(group: string, tool: string, required: boolean): Promise<Check> {
  const out = await run(tool, ['--version']);
  if (out === null) return { group, name: tool, verdict: required ? 'missing' : 'warning', detail: 'not found or not runnable', required };
  return { group, name: tool, verdict: 'ok', detail: out.split('\n')[0]!.trim(), required };
}

/** Runs every check; reads the host, changes nothing. */
export async function collectChecks(): Promise<Check[]> {
  const checks: Check[] = [];
  const release = os.release();
  const kv = kernelVersion(release);
  const kernelOk = kv !== null && (kv[0] > MIN_KERNEL[0] || (kv[0] === MIN_KERNEL[0] && kv[1] >= MIN_KERNEL[1]));
  checks.push({
    group: 'Kernel', name: `version ${release}`, verdict: kernelOk ? 'ok' : 'missing', required: true,
    detail: kernelOk ? undefined : `Berth needs ${MIN_KERNEL.join('.')} or newer`,
  });
  const kconfig = await readKernelConfig(release);
  const config = kconfig?.options ?? null;
  checks.push({
    group: 'Kernel', name: 'kernel config', verdict: kconfig ? 'ok' : 'warning', required: false,
    detail: kconfig ? `from ${kconfig.source}` : `neither /boot/config-${release} nor /proc/config.gz; some checks below are guesses`,
  });

  for (const [ns, file, required] of [
    ['pid', 'pid', true], ['mnt', 'mnt', true], ['uts', 'uts', true], ['ipc', 'ipc', true],
    ['net', 'net', true], ['user', 'user', false], ['cgroup', 'cgroup', false],
  ] as const) {
    const ok = fs.existsSync(`/proc/self/ns/${file}`);
    checks.push({ group: 'Namespaces', name: ns, verdict: ok ? 'enabled' : required ? 'missing' : 'warning', required });
  }

  try {
    checks.push(...cgroupChecks(await readCgroupLayout()));
  } catch (err) {
    checks.push({ group: 'Cgroups', name: 'cgroup filesystem', verdict: 'missing', detail: errorMessage(err), required: true });
  }

  const filesystems = (await readText('/proc/filesystems')) ?? '';
  const overlay = filesystems.split('\n').some((l) => l.trim().split(/\s+/).pop() === 'overlay');
  if (overlay) {
    checks.push({ group: 'Storage', name: 'overlay', verdict: 'enabled', detail: 'in /proc/filesystems', required: true });
  } else {
    const f = await kernelFeature(config, 'CONFIG_OVERLAY_FS', 'overlay');
    const loadable = f.verdict === 'enabled';
    checks.push({
      group: 'Storage', name: 'overlay', verdict: loadable ? 'warning' : 'missing', required: true,
      detail: loadable ? `not loaded (${f.detail}); berthd runs modprobe overlay at start` : 'not in /proc/filesystems and no module',
    });
  }

  const status = (await readText('/proc/self/status')) ?? '';
  const seccompMode = /^Seccomp:\s*(\d)/m.exec(status)?.[1];
  checks.push({
    group: 'Security', name: 'seccomp', verdict: seccompMode !== undefined ? 'enabled' : 'warning', required: false,
    detail: seccompMode !== undefined ? `Seccomp field in /proc/self/status (this process: mode ${seccompMode})` : 'no Seccomp field in /proc/self/status',
  });
  if (config) {
    for (const opt of ['CONFIG_SECCOMP', 'CONFIG_SECCOMP_FILTER']) {
      const v = config.get(opt);
      checks.push({ group: 'Security', name: opt, verdict: v === 'y' ? 'enabled' : 'warning', detail: v ? `${opt}=${v}` : 'not set', required: false });
    }
  }

  for (const [name, option, module] of [
    ['veth', 'CONFIG_VETH', 'veth'], ['bridge', 'CONFIG_BRIDGE', 'bridge'],
    ['br_netfilter', 'CONFIG_BRIDGE_NETFILTER', 'br_netfilter'], ['nf_nat', 'CONFIG_NF_NAT', 'nf_nat'],
  ] as const) {
    const f = await kernelFeature(config, option, module);
    checks.push({ group: 'Networking', name, verdict: f.verdict === 'missing' ? 'warning' : f.verdict, detail: f.detail, required: false });
  }
  const ipt = await run('iptables', ['--version']);
  if (ipt === null) {
    checks.push({ group: 'Networking', name: 'iptables', verdict: 'warning', detail: 'not found; needed for bridge networking', required: false });
  } else {
    const { version, backend } = iptablesFlavor(ipt);
    const flavor = backend === 'nft' ? 'iptables-nft' : backend === 'legacy' ? 'iptables-legacy' : 'unknown backend';
    checks.push({ group: 'Networking', name: 'iptables', verdict: 'ok', detail: `${version} (${flavor})`, required: false });
  }

  checks.push(await versionCheck('Runtime', 'crun', true));
  checks.push(await versionCheck('Runtime', 'runc', false));
  checks.push(await versionCheck('Runtime', 'conmon', true));
  return checks;
}

const COLORS: Record<Verdict, string> = { enabled: '32', ok: '32', warning: '33', missing: '31' };

export function renderChecks(checks: Check[], color = false): string {
  const lines: string[] = ['Berth check-config: what Berth needs from this host', ''];
  let group = '';
  for (const c of checks) {
    if (c.group !== group) {
      if (group) lines.push('');
      lines.push(`${c.group}:`);
      group = c.group;
    }
    const verdict = color ? `\x1b[${COLORS[c.verdict]}m${c.verdict}\x1b[0m` : c.verdict;
    const tag = c.required || c.verdict === 'ok' || c.verdict === 'enabled' ? '' : ' (optional)';
    lines.push(`  - ${c.name}: ${verdict}${tag}${c.detail ? ` (${c.detail})` : ''}`);
  }
  const missing = checks.filter((c) => c.required && c.verdict === 'missing');
  const warnings = checks.filter((c) => c.verdict === 'warning').length;
  lines.push('');
  lines.push(missing.length
    ? `Missing required: ${missing.map((c) => `${c.group}/${c.name}`).join(', ')}`
    : `All required features are present${warnings ? ` (${warnings} warning${warnings > 1 ? 's' : ''})` : ''}.`);
  return lines.join('\n') + '\n';
}

/** Writes the report to `out`; returns the exit code: 0 if everything required is there, 1 otherwise. */
export async function runCheckConfig(out: NodeJS.WritableStream & { isTTY?: boolean } = process.stdout): Promise<number> {
  const checks = await collectChecks();
  out.write(renderChecks(checks, out.isTTY === true && !process.env.NO_COLOR));
  return checks.some((c) => c.required && c.verdict === 'missing') ? 1 : 0;
}
