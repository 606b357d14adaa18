// Service routes (/services): cluster state, which a node in no swarm does not have.
import type { Router } from '../router';
import { notAManager } from './swarm';

export function registerServiceRoutes(router: Router): void {
  router.get('/services', () => { throw notAManager(); });
  router.post('/services/create', () => { throw notAManager(); });
  router.get('/services/{id}', () => { throw notAManager(); });
  router.delete('/services/{id}', () => { throw notAManager(); });
  router.post('/services/{id}/update', () => { throw notAManager(); });
  router.get('/services/{id}/logs', () => { throw notAManager(); });
}
