// The container service seen as the builder's RUN engine: the adapter daemon.ts hands the builder.
import type { BuildContainerEngine } from '../build/builder-ports';
import type { ContainerService } from './containers';

/** The RUN side of the container service, as the builder uses it. */
export function containerEngineOf(containers: ContainerService): BuildContainerEngine {
  return {
    create: (body) => containers.create(body),
    start: (id) => containers.start(id),
    output: async function* (id) {
      for await (const e of containers.logs(id, { follow: true }).entries) yield { stream: e.stream, data: e.data };
    },
    wait: (id) => containers.wait(id),
    remove: (id) => containers.remove(id, { force: true, volumes: true }),
    upperDir: (id) => containers.upperDir(containers.get(id)),
  };
}
