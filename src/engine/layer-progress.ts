// Docker's JSON progress of a pull or push, one line per layer: statuses and a throttled progress bar
// ("[=====>      ]  1.2MB/4.5MB"), fed by a byte counter on the layer's stream.
import { Transform, type TransformCallback } from 'node:stream';
import { humanSize } from '../util/units';
import type { JsonMessage } from '../wire/docker';

const PROGRESS_INTERVAL_MS = 100;

export type Progress = (msg: JsonMessage) => void;

/** jsonmessage's progress text: "[=====>      ]  1.2MB/4.5MB". */
function progressText(current: number, total: number): string {
  if (total <= 0) return humanSize(current).padStart(8);
  const pct = Math.min(50, Math.trunc(Math.trunc((current / total) * 100) / 2));
  return `[${'='.repeat(pct)}>${' '.repeat(Math.max(0, 50 - pct))}] ${humanSize(current).padStart(8)}/${humanSize(total)}`;
}

/** Per-layer progress, throttled: the first and last of each status always go out. */
export class LayerProgress {
  private last = 0;
  constructor(private readonly out: Progress, readonly id: string) {}

  status(status: string): void {
    this.out({ status, progressDetail: {}, id: this.id });
  }

  bytes(status: string, current: number, total: number, force = false): void {
    const now = Date.now();
    if (!force && now - this.last < PROGRESS_INTERVAL_MS) return;
    this.last = now;
    this.out({ status, progressDetail: { current, total }, progress: progressText(current, total), id: this.id });
  }
}

/** Counts bytes flowing through and reports them. */
export class Counter extends Transform {
  count = 0;
  constructor(private readonly onCount: (n: number) => void) { super(); }
  override _transform(chunk: Buffer, _e: BufferEncoding, cb: TransformCallback): void {
    this.count += chunk.length;
    this.onCount(this.count);
    cb(null, chunk);
  }
}
