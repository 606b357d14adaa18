// Which container actions apply in which state, which ask before running (and why), and the API call each makes.

export type Action = 'start' | 'stop' | 'restart' | 'pause' | 'unpause' | 'kill' | 'remove';

/** The actions offered for a container in `state`, in the order the buttons show. */
export function actionsFor(state: string): Action[] {
  switch (state) {
    case 'running': return ['stop', 'restart', 'pause', 'kill', 'remove'];
    case 'paused': return ['unpause', 'kill', 'remove'];
    case 'restarting': return ['stop', 'kill', 'remove'];
    default: return ['start', 'remove'];
  }
}

/** What a destructive action does, said in its confirmation; undefined for actions that run without asking. */
export const CONSEQUENCE: Record<Action, string | undefined> = {
  start: undefined, pause: undefined, unpause: undefined,
  stop: 'Its processes get SIGTERM, then SIGKILL after the stop timeout.',
  restart: 'Its processes are stopped and started again.',
  kill: 'Its processes get SIGKILL at once.',
  remove: 'The container and its writable layer are deleted (it is killed first if it runs); named volumes stay.',
};

/** The method and API path of an action on a container. */
export function actionRequest(action: Action, id: string): ['POST' | 'DELETE', string] {
  const ref = encodeURIComponent(id);
  return action === 'remove' ? ['DELETE', `/containers/${ref}?force=1`] : ['POST', `/containers/${ref}/${action}`];
}
