// Config routes (/configs): cluster state, which a node in no swarm does not have.
import type { Router } from '../router';
import { notAManager } from './swarm';

export function registerConfigRoutes(router: Router): void {
  router.get('/configs', () => { throw notAManager(); });
  router.post('/configs/create', () => { throw notAManager(); });
  router.get('/configs/{id}', () => { throw notAManager(); });
  router.delete('/configs/{id}', () => { throw notAManager(); });
  router.post('/configs/{id}/update', () => { throw notAManager(); });
}
