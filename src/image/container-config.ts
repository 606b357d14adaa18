// The container config as Docker writes it into an image config and shows it in inspect (container.Config).
import type { ContainerConfig } from '../wire/docker';

/** A container config in Docker's field order with the fields it always writes. */
export function dockerContainerConfig(c: ContainerConfig): ContainerConfig {
  const out: ContainerConfig = {
    Hostname: c.Hostname ?? '',
    Domainname: c.Domainname ?? '',
    User: c.User ?? '',
    AttachStdin: c.AttachStdin ?? false,
    AttachStdout: c.AttachStdout ?? false,
    AttachStderr: c.AttachStderr ?? false,
  };
  if (c.ExposedPorts && Object.keys(c.ExposedPorts).length) out.ExposedPorts = c.ExposedPorts;
  out.Tty = c.Tty ?? false;
  out.OpenStdin = c.OpenStdin ?? false;
  out.StdinOnce = c.StdinOnce ?? false;
  out.Env = c.Env?.length ? c.Env : null;
  out.Cmd = c.Cmd ?? null;
  if (c.Healthcheck) out.Healthcheck = c.Healthcheck;
  if (c.ArgsEscaped) out.ArgsEscaped = c.ArgsEscaped;
  out.Image = c.Image ?? '';
  out.Volumes = c.Volumes && Object.keys(c.Volumes).length ? c.Volumes : null;
  out.WorkingDir = c.WorkingDir ?? '';
  out.Entrypoint = c.Entrypoint ?? null;
  if (c.NetworkDisabled) out.NetworkDisabled = c.NetworkDisabled;
  if (c.MacAddress) out.MacAddress = c.MacAddress;
  out.OnBuild = c.OnBuild?.length ? c.OnBuild : null;
  out.Labels = c.Labels && Object.keys(c.Labels).length ? c.Labels : null;
  if (c.StopSignal) out.StopSignal = c.StopSignal;
  if (c.StopTimeout !== undefined && c.StopTimeout !== null) out.StopTimeout = c.StopTimeout;
  if (c.Shell?.length) out.Shell = c.Shell;
  return out;
}
