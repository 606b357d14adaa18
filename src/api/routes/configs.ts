// Config routes (/configs, API >= 1.30): the secret routes' skin over the backend's configs (whose Data is read back).
import type { ClusterBackend } from '../../cluster/backend';
import { CONFIG_FILTERS } from '../../cluster/spec/filters';
import type { Router } from '../router';
import { configSpec } from '../shapes/swarm';
import { registerSecretLikeRoutes } from './secrets';

export function registerConfigRoutes(router: Router, cluster?: ClusterBackend): void {
  registerSecretLikeRoutes(router, { kind: 'config', base: '/configs', minVersion: '1.30', filters: CONFIG_FILTERS, shape: configSpec }, cluster && {
    list: (f) => cluster.listConfigs(f),
    create: (s) => cluster.createConfig(s),
    inspect: (id) => cluster.inspectConfig(id),
    update: (id, v, s) => cluster.updateConfig(id, v, s),
    remove: (id) => cluster.removeConfig(id),
  });
}
