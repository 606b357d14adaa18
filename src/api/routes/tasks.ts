// Task routes (/tasks): cluster state, which a node in no swarm does not have.
import type { Router } from '../router';
import { notAManager } from './swarm';

export function registerTaskRoutes(router: Router): void {
  router.get('/tasks', () => { throw notAManager(); });
  router.get('/tasks/{id}', () => { throw notAManager(); });
  router.get('/tasks/{id}/logs', () => { throw notAManager(); });
}
