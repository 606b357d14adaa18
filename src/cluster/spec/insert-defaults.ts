// GET /services/{id}?insertDefaults=true: swarmkit's defaults filled into the 7 places dockerd fills them (and no
// others: EndpointSpec in particular stays as stored). `docker service inspect` and docker-py's updates read it.
import type { Service, ServiceSpec, UpdateConfig } from '../../wire/swarm';

const DEFAULT_UPDATE: UpdateConfig = { Parallelism: 1, FailureAction: 'pause', Monitor: 5_000_000_000, MaxFailureRatio: 0, Order: 'stop-first' };

export function withDefaults(spec: ServiceSpec): ServiceSpec {
  const out = structuredClone(spec) as ServiceSpec;
  const task = out.TaskTemplate;
  if (task.ContainerSpec) {
    task.ContainerSpec.StopGracePeriod = task.ContainerSpec.StopGracePeriod ?? 10_000_000_000;
    task.ContainerSpec.DNSConfig = task.ContainerSpec.DNSConfig ?? {};
  }
  task.Resources = task.Resources ?? {};
  if (!task.RestartPolicy) task.RestartPolicy = { Condition: 'any', Delay: 5_000_000_000, MaxAttempts: 0 };
  else if (task.RestartPolicy.Delay === undefined || task.RestartPolicy.Delay === null) task.RestartPolicy.Delay = 5_000_000_000;
  task.Placement = task.Placement ?? {};
  out.UpdateConfig = fill(out.UpdateConfig);
  out.RollbackConfig = fill(out.RollbackConfig);
  return out;
}

function fill(u: UpdateConfig | undefined): UpdateConfig {
  if (!u) return { ...DEFAULT_UPDATE };
  return u.Monitor ? u : { ...u, Monitor: DEFAULT_UPDATE.Monitor };
}

/** A service as inspect answers it with insertDefaults. */
export function serviceWithDefaults(service: Service): Service {
  return { ...service, Spec: withDefaults(service.Spec), ...(service.PreviousSpec ? { PreviousSpec: withDefaults(service.PreviousSpec) } : {}) };
}
