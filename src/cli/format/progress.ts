// Docker's jsonmessage display: renders a JSON message stream (pull, push, load, import, build) as
// per-layer "id: status progress" lines redrawn in place on a terminal, or plain lines otherwise.
import type { Readable } from 'node:stream';
import type { JsonMessage } from '../../wire/docker';
import { jsonValues } from '../api-client';
import { humanSize } from '../../util/units';

/** An error the daemon reported inside a JSON message stream. */
export class JsonMessageError extends Error {
  constructor(message: string, readonly code?: number) {
    super(message);
    this.name = 'JsonMessageError';
  }
}

export interface DisplayOptions {
  isTerminal: boolean;
  /** Called for each `aux` message instead of printing it (image IDs from build/commit, etc.). */
  onAux?: (msg: JsonMessage) => void;
  /** Terminal width, for the progress bar when the daemon sends only progressDetail. */
  columns?: number;
}

/** jsonmessage.JSONProgress.String: "[=====>      ]  1.2MB/4.5MB" (the bar only on terminals wider than 110). */
export function progressBar(current: number, total: number, width = 120): string {
  if (current <= 0 && total <= 0) return '';
  if (total <= 0) return humanSize(current).padStart(8);
  const percentage = Math.min(50, Math.trunc(Math.trunc((current / total) * 100) / 2));
  const bar = width > 110 ? `[${'='.repeat(percentage)}>${' '.repeat(Math.max(0, 50 - percentage))}] ` : '';
  const numbers = current > total ? '' : `${humanSize(current).padStart(8)}/${humanSize(total)}`;
  return bar + numbers;
}

function progressText(jm: JsonMessage, columns: number): string {
  if (jm.progress) return jm.progress;
  const d = jm.progressDetail;
  return d ? progressBar(d.current ?? 0, d.total ?? 0, columns) : '';
}

/** jsonmessage.Display for one message. */
function display(jm: JsonMessage, out: NodeJS.WritableStream, opts: DisplayOptions): void {
  const hasProgress = jm.progressDetail !== undefined;
  const progress = progressText(jm, opts.columns ?? 120);
  let endl = '';
  if (opts.isTerminal && !jm.stream && hasProgress) {
    out.write('\x1b[2K');
    endl = '\r';
    out.write(endl);
  } else if (hasProgress && progress !== '') {
    return; // No progress bars off a terminal.
  }
  let line = '';
  if (jm.id) line += `${jm.id}: `;
  if (hasProgress && opts.isTerminal) line += `${jm.status ?? ''} ${progress}${endl}`;
  else if (jm.progress) line += `${jm.status ?? ''} ${jm.progress}${endl}`;
  else if (jm.stream) line += `${jm.stream}${endl}`;
  else line += `${jm.status ?? ''}${endl}\n`;
  out.write(line);
}

/** jsonmessage.DisplayJSONMessagesStream: throws JsonMessageError on the first error message. */
export async function displayJsonMessages(stream: Readable | AsyncIterable<JsonMessage>, out: NodeJS.WritableStream, opts: DisplayOptions): Promise<void> {
  const ids = new Map<string, number>();
  const source = isReadable(stream) ? jsonValues<JsonMessage>(stream) : stream;
  for await (const jm of source) {
    if (jm.error || jm.errorDetail) {
      throw new JsonMessageError(jm.errorDetail?.message ?? jm.error ?? 'unknown error', jm.errorDetail?.code);
    }
    if (jm.aux !== undefined) {
      opts.onAux?.(jm);
      continue;
    }
    let diff = 0;
    if (jm.id && (jm.progressDetail !== undefined || jm.progress)) {
      let line = ids.get(jm.id);
      if (line === undefined) {
        line = ids.size;
        ids.set(jm.id, line);
        if (opts.isTerminal) out.write('\n');
      }
      diff = ids.size - line;
      if (opts.isTerminal && diff > 0) out.write(`\x1b[${diff}A`);
    } else {
      ids.clear();
    }
    display(jm, out, opts);
    if (jm.id && opts.isTerminal && diff > 0) out.write(`\x1b[${diff}B`);
  }
}

function isReadable(s: unknown): s is Readable {
  return typeof (s as Readable).pipe === 'function';
}
