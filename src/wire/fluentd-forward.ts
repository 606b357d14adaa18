// Fluentd's forward protocol (v1) in Message Mode, as Docker's fluentd driver sends it (fluent-logger-golang):
// a msgpack array [tag, time, record]; time an integer, or an EventTime (ext type 0) with sub-second precision.
import { encode, ExtData } from '@msgpack/msgpack';

/** EventTime: seconds and nanoseconds as two big-endian uint32, msgpack extension type 0. */
export const EVENT_TIME_EXT = 0;

export interface ForwardEvent {
  tag: string;
  timeNano: bigint;
  record: Record<string, string>;
}

export function encodeEventTime(timeNano: bigint): Uint8Array {
  const out = new Uint8Array(8);
  const view = new DataView(out.buffer);
  view.setUint32(0, Number(timeNano / 1_000_000_000n));
  view.setUint32(4, Number(timeNano % 1_000_000_000n));
  return out;
}

/** One Message Mode entry; `subSecond` (fluentd-sub-second-precision) sends the time as an EventTime. */
export function encodeForwardMessage(e: ForwardEvent, subSecond: boolean): Buffer {
  const time = subSecond ? new ExtData(EVENT_TIME_EXT, encodeEventTime(e.timeNano)) : Number(e.timeNano / 1_000_000_000n);
  const bytes = encode([e.tag, time, e.record]);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
