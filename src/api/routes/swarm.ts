// Swarm routes (/swarm/...): this node is in no swarm, and this build cannot start or join one yet.
import { UnavailableError } from '../../errdefs';
import type { Router } from '../router';

/** What dockerd answers a node in no swarm asked to leave one (docker-py's teardowns ignore the 503). */
export function notInSwarm(): UnavailableError {
  return new UnavailableError('This node is not part of a swarm');
}

/** What dockerd answers, with 503, a node in no swarm asked for cluster state (nodes, services, tasks, ...). */
export function notAManager(): UnavailableError {
  return new UnavailableError('This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.');
}

function swarmModeUnavailable(): UnavailableError {
  return new UnavailableError('swarm mode is not available in this build of Berth yet: this node cannot start or join a swarm');
}

export function registerSwarmRoutes(router: Router): void {
  router.post('/swarm/init', () => { throw swarmModeUnavailable(); });
  router.post('/swarm/join', () => { throw swarmModeUnavailable(); });
  router.post('/swarm/leave', () => { throw notInSwarm(); });
  router.get('/swarm', () => { throw notAManager(); });
  router.get('/swarm/unlockkey', () => { throw notAManager(); });
  router.post('/swarm/update', () => { throw notAManager(); });
  router.post('/swarm/unlock', () => { throw notAManager(); });
}
