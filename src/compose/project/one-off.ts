// `run`: a one-off container of a service (`<project>-<service>-run-<hex>`, oneoff=True), its dependencies
// brought up first unless --no-deps; the service's ports only with --service-ports, -p publishes more.
import { parsePortSpecs } from '../../wire/ports';
import type { ProjectContext } from './context';
import { createServiceContainer } from './converge';
import { ensureImages } from './images';
import { ComposeProjectError, oneOffName } from './naming';
import type { RunOptions } from './operations';
import { ensureNetworks, ensureVolumes } from './resources';
import { up } from './up';

export async function createOneOff(ctx: ProjectContext, o: RunOptions): Promise<{ id: string; name: string }> {
  const { project } = ctx;
  const service = project.services[o.service] ?? project.disabled_services[o.service];
  if (!service) throw new ComposeProjectError(`no such service: ${o.service}`);
  const deps = Object.keys(service.depends_on ?? {}).filter((d) => project.services[d]);
  if (!o.noDeps && deps.length) {
    await up(ctx, {
      services: deps, noDeps: false, build: 'auto', pull: 'policy', recreate: 'diverged', start: true,
      scale: {}, removeOrphans: false, wait: false,
    });
  } else {
    await ensureNetworks(ctx, Object.keys(project.networks));
    await ensureVolumes(ctx, Object.keys(project.volumes));
  }
  const withRunService = { ...ctx, project: { ...project, services: { ...project.services, [service.name]: service } } };
  const imageId = (await ensureImages(withRunService, [service.name], { build: 'auto', pull: 'policy' })).get(service.name) ?? '';
  const name = o.name ?? oneOffName(project, service);
  const id = await createServiceContainer(withRunService, service, {
    number: 1, name, imageId, oneoff: true, ports: o.servicePorts,
    adjust: (body) => {
      if (o.command?.length) body.Cmd = o.command;
      if (o.entrypoint) { body.Entrypoint = o.entrypoint; if (!o.command?.length) body.Cmd = null; }
      if (o.env.length) body.Env = [...(body.Env ?? []), ...o.env.map((e) => (e.includes('=') ? e : `${e}=${ctx.env[e] ?? ''}`))];
      if (o.user) body.User = o.user;
      if (o.workdir) body.WorkingDir = o.workdir;
      body.Tty = o.tty;
      body.OpenStdin = o.interactive;
      body.AttachStdin = o.interactive && !o.detach;
      body.AttachStdout = !o.detach;
      body.AttachStderr = !o.detach;
      body.StdinOnce = o.interactive && !o.detach;
      for (const l of o.labels) {
        const i = l.indexOf('=');
        body.Labels = { ...body.Labels, [i < 0 ? l : l.slice(0, i)]: i < 0 ? '' : l.slice(i + 1) };
      }
      const host = (body.HostConfig ??= {});
      if (o.remove) host.AutoRemove = true;
      // A one-off keeps no restart policy: it would restart after it is done.
      delete host.RestartPolicy;
      if (o.volumes.length) host.Binds = [...(host.Binds ?? []), ...o.volumes];
      if (o.publish.length) {
        const { exposed, bindings } = parsePortSpecs(o.publish);
        body.ExposedPorts = { ...body.ExposedPorts, ...exposed };
        host.PortBindings = { ...host.PortBindings, ...bindings };
      }
    },
  });
  return { id, name };
}
