// Node routes (/nodes): cluster state, which a node in no swarm does not have.
import type { Router } from '../router';
import { notAManager } from './swarm';

export function registerNodeRoutes(router: Router): void {
  router.get('/nodes', () => { throw notAManager(); });
  router.get('/nodes/{id}', () => { throw notAManager(); });
  router.delete('/nodes/{id}', () => { throw notAManager(); });
  router.post('/nodes/{id}/update', () => { throw notAManager(); });
}
