// Waiting on containers: depends_on conditions before a dependent starts, and `up --wait`. Polls inspect (a
// health status has no event of its own that every daemon sends); failures say why, with the last health
// probe's output for an unhealthy one, and the exit code for one that did not complete.
import type { DependsOn } from '../model';
import type { ComposeApi, ContainerDetails } from './compose-api';

export class WaitError extends Error {
  constructor(message: string) { super(message); this.name = 'WaitError'; }
}

export interface WaitTiming {
  /** Give up after this many milliseconds (undefined: never). */
  timeoutMs?: number;
  /** The longest pause between two inspects (default 100 ms); the first pauses are shorter. */
  pollMs?: number;
  /** Aborted waits end with the timeout's error. */
  signal?: AbortSignal;
}

function lastProbe(c: ContainerDetails): string {
  const log = c.State.Health?.Log ?? [];
  const out = log.length ? log[log.length - 1].Output.trim() : '';
  return out ? `: last health check output: ${out}` : '';
}

/** undefined while still waiting; true when met; a message when it can no longer be met. */
type Verdict = true | string | undefined;

export function conditionVerdict(c: ContainerDetails, condition: DependsOn['condition'] | 'up'): Verdict {
  const s = c.State;
  const name = c.Name.replace(/^\//, '');
  const exited = s.Status === 'exited' || s.Status === 'dead';
  switch (condition) {
    case 'service_started':
      return s.Status === 'created' ? undefined : true;
    case 'service_completed_successfully':
      if (!exited) return undefined;
      return s.ExitCode === 0 ? true : `service "${c.Config.Labels?.['com.docker.compose.service'] ?? name}" didn't complete successfully: exit ${s.ExitCode}`;
    case 'service_healthy':
      if (!s.Health) return `container ${name} has no healthcheck configured`;
      if (s.Health.Status === 'healthy') return true;
      if (s.Health.Status === 'unhealthy') return `container ${name} is unhealthy${lastProbe(c)}`;
      if (exited) return `container ${name} exited (${s.ExitCode})${lastProbe(c)}`;
      return undefined;
    case 'up':
      // --wait: healthy when there is a healthcheck, running otherwise; a one-shot that exited 0 is done.
      if (exited) return s.ExitCode === 0 ? true : `container ${name} exited (${s.ExitCode})`;
      if (s.Health) {
        if (s.Health.Status === 'healthy') return true;
        if (s.Health.Status === 'unhealthy') return `container ${name} is unhealthy${lastProbe(c)}`;
        return undefined;
      }
      return s.Running ? true : undefined;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until `condition` holds for the container; throws WaitError when it cannot or on timeout. */
export async function waitFor(api: ComposeApi, id: string, condition: DependsOn['condition'] | 'up', timing: WaitTiming = {}): Promise<ContainerDetails> {
  const deadline = timing.timeoutMs === undefined ? Infinity : Date.now() + timing.timeoutMs;
  // 25, 50, 100, 100… ms: a one-shot that ends at once, or a quick first health probe, is seen without a
  // whole interval's delay (an inspect is a millisecond or two on the daemon).
  let pause = Math.min(25, timing.pollMs ?? 100);
  for (;;) {
    const c = await api.inspectContainer(id);
    if (!c) throw new WaitError(`container ${id} is gone`);
    const v = conditionVerdict(c, condition);
    if (v === true) return c;
    if (typeof v === 'string') throw new WaitError(v);
    if (Date.now() >= deadline || timing.signal?.aborted) {
      throw new WaitError(`timeout waiting for container ${c.Name.replace(/^\//, '')} (${condition === 'up' ? 'running or healthy' : condition})`);
    }
    await sleep(pause);
    pause = Math.min(pause * 2, timing.pollMs ?? 100);
  }
}
