// Profiles: a service with `profiles:` is active only when one of them is enabled (--profile or
// COMPOSE_PROFILES, `*` for all) or when it is named on the command line; what an active service depends on
// is activated with it. The rest go to disabled_services.
import type { Service } from '../model';

export function activeProfiles(given: string[] | undefined, composeProfiles: string | undefined): string[] {
  if (given && given.length > 0) return given;
  return (composeProfiles ?? '').split(',').map((p) => p.trim()).filter((p) => p !== '');
}

export function applyProfiles(
  services: Record<string, Service>,
  profiles: string[],
  named: string[] = [],
): { enabled: Record<string, Service>; disabled: Record<string, Service> } {
  const all = profiles.includes('*');
  const on = new Set<string>();
  const visit = (name: string) => {
    if (on.has(name) || !(name in services)) return;
    on.add(name);
    for (const dep of Object.keys(services[name].depends_on ?? {})) visit(dep);
    for (const link of services[name].links ?? []) visit(link.split(':')[0]);
  };
  for (const [name, svc] of Object.entries(services)) {
    const p = svc.profiles ?? [];
    if (p.length === 0 || all || p.some((x) => profiles.includes(x)) || named.includes(name)) visit(name);
  }
  const enabled: Record<string, Service> = {};
  const disabled: Record<string, Service> = {};
  for (const [name, svc] of Object.entries(services)) (on.has(name) ? enabled : disabled)[name] = svc;
  return { enabled, disabled };
}
