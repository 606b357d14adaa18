// Secret routes (/secrets): cluster state, which a node in no swarm does not have.
import type { Router } from '../router';
import { notAManager } from './swarm';

export function registerSecretRoutes(router: Router): void {
  router.get('/secrets', () => { throw notAManager(); });
  router.post('/secrets/create', () => { throw notAManager(); });
  router.get('/secrets/{id}', () => { throw notAManager(); });
  router.delete('/secrets/{id}', () => { throw notAManager(); });
  router.post('/secrets/{id}/update', () => { throw notAManager(); });
}
