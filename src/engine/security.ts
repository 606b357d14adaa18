// A container's security settings from its HostConfig: --security-opt parsing, the seccomp profile, tmpfs mounts.
import type { HostConfig } from '../wire/docker';
import type { RuntimeMount } from '../wire/oci';
import { defaultSeccomp, goArch, seccompFromJson, type OciSeccomp } from '../runtime/seccomp';
import { allHostDevices, requestedDevices } from '../runtime/devices';
import { InvalidParameterError } from '../errdefs';

export interface SecurityOptions {
  /** 'default' (Docker's profile), 'unconfined', or a user's profile as JSON text. */
  seccomp: 'default' | 'unconfined' | { json: string };
  noNewPrivileges: boolean;
}

/** Parses --security-opt values as moby's parseSecurityOpt does ("key=value" or the older "key:value"). */
export function parseSecurityOpts(opts: string[]): SecurityOptions {
  const out: SecurityOptions = { seccomp: 'default', noNewPrivileges: false };
  opts.forEach((opt, i) => {
    if (opt === 'no-new-privileges') { out.noNewPrivileges = true; return; }
    if (opt === 'disable') return; // label=disable's old form
    const sep = opt.includes('=') ? '=' : ':';
    const at = opt.indexOf(sep);
    if (at < 0) throw new InvalidParameterError(`invalid --security-opt ${i + 1}: "${opt}"`);
    const key = opt.slice(0, at);
    const value = opt.slice(at + 1);
    switch (key) {
      case 'seccomp':
        out.seccomp = value === 'unconfined' ? 'unconfined' : value === 'builtin' || value === '' ? 'default' : { json: value };
        break;
      case 'no-new-privileges':
        if (!['true', 'false'].includes(value)) throw new InvalidParameterError(`invalid --security-opt 2: "${opt}"`);
        out.noNewPrivileges = value === 'true';
        break;
      // No AppArmor or SELinux on Berth's hosts: accepted and ignored, as dockerd does when the LSM is off.
      case 'apparmor': case 'label': case 'systempaths': case 'writable-cgroups':
        break;
      default:
        throw new InvalidParameterError(`invalid --security-opt 2: "${opt}"`);
    }
  });
  return out;
}

/** The OCI seccomp section; none for --privileged and seccomp=unconfined. */
export function seccompFor(hc: HostConfig, capabilities: string[], kernel: string): OciSeccomp | undefined {
  if (hc.Privileged) return undefined;
  const opts = parseSecurityOpts(hc.SecurityOpt ?? []);
  if (opts.seccomp === 'unconfined') return undefined;
  const ctx = { capabilities, arch: goArch(), kernel };
  return opts.seccomp === 'default' ? defaultSeccomp(ctx) : seccompFromJson(opts.seccomp.json, ctx);
}

/** HostConfig.Tmpfs ({"/run": "size=1m,mode=755"}) → tmpfs mounts, noexec,nosuid,nodev unless the options say otherwise. */
export function tmpfsMounts(tmpfs: Record<string, string> | undefined): RuntimeMount[] {
  return Object.entries(tmpfs ?? {}).map(([dest, opts]) => {
    if (!dest.startsWith('/')) throw new InvalidParameterError(`invalid mount config for type "tmpfs": invalid mount path: '${dest}' mount path must be absolute`);
    const user = opts ? opts.split(',').filter(Boolean) : [];
    const has = (o: string) => user.some((u) => u === o || u === o.replace(/^no/, ''));
    const base = ['noexec', 'nosuid', 'nodev'].filter((o) => !has(o));
    return { destination: dest, type: 'tmpfs', source: 'tmpfs', options: [...base, ...user] };
  });
}

/** The security parts of a container's OCI spec: seccomp, no_new_privs, devices and their cgroup rules. */
export async function securitySpecOf(hc: HostConfig, capabilities: string[], kernel: string) {
  const opts = parseSecurityOpts(hc.SecurityOpt ?? []);
  const requested = await requestedDevices(hc.Devices ?? []);
  const devices = hc.Privileged ? await allHostDevices() : requested.devices;
  return {
    seccomp: seccompFor(hc, capabilities, kernel),
    noNewPrivileges: opts.noNewPrivileges,
    devices,
    deviceRules: requested.rules,
  };
}

/** Refuses bad --security-opt, seccomp profiles and tmpfs paths at create time, as dockerd does. */
export function checkSecurity(hc: HostConfig, kernel: string): void {
  tmpfsMounts(hc.Tmpfs);
  seccompFor(hc, [], kernel || '4.8');
}
