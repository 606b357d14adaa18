// Compose v2's progress lines on stderr: ` ✔ Container app-web-1  Started` when a step is done (plain, no
// animation); `--progress plain` also prints each step as it begins; `--progress quiet` prints nothing.
import type { ProgressEvent, Reporter } from '../project/operations';

export type ProgressMode = 'auto' | 'tty' | 'plain' | 'json' | 'quiet';

export const PROGRESS_MODES: ProgressMode[] = ['auto', 'tty', 'plain', 'json', 'quiet'];

export class LineReporter implements Reporter {
  constructor(private readonly err: NodeJS.WritableStream, private readonly mode: ProgressMode = 'auto') {}

  event(e: ProgressEvent): void {
    if (this.mode === 'quiet') return;
    if (this.mode === 'json') {
      this.err.write(`${JSON.stringify({ id: `${e.kind} ${e.name}`, status: e.status, text: e.detail ?? '', error: e.error ?? false })}\n`);
      return;
    }
    if (this.mode === 'plain') {
      this.err.write(`${formatEvent(e, false)}\n`);
      return;
    }
    if (e.done || e.error) this.err.write(`${formatEvent(e, true)}\n`);
  }

  warn(message: string): void {
    if (this.mode === 'quiet') return;
    this.err.write(`WARN[0000] ${message}\n`);
  }
}

/** One event as Compose prints it: ` ✔ Container app-web-1  Recreated` (with the reason after, when given). */
export function formatEvent(e: ProgressEvent, mark: boolean): string {
  const sign = e.error ? '✘' : '✔';
  const text = `${e.kind} ${e.name}  ${e.status}${e.detail ? ` ${e.detail}` : ''}`;
  return mark ? ` ${sign} ${text}` : text;
}
