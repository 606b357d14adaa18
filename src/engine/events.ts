// The events bus: every state change is published here, kept in a bounded ring for --since, and streamed by GET /events.
import { EventEmitter } from 'node:events';
import type { EventMessage } from '../wire/docker';

const RING_SIZE = 1024;

export class EventBus {
  private readonly emitter = new EventEmitter();
  private readonly ring: EventMessage[] = [];

  constructor() {
    this.emitter.setMaxListeners(0);
  }

  publish(type: EventMessage['Type'], action: string, id: string, attributes: Record<string, string> = {}): EventMessage {
    const nowNs = BigInt(Date.now()) * 1_000_000n + process.hrtime.bigint() % 1_000_000n;
    const ev: EventMessage = {
      Type: type,
      Action: action,
      Actor: { ID: id, Attributes: attributes },
      scope: 'local',
      time: Number(nowNs / 1_000_000_000n),
      timeNano: Number(nowNs),
    };
    // Docker still sends the deprecated status/id/from fields on container and image events.
    if (type === 'container' || type === 'image') {
      ev.status = action;
      ev.id = id;
      if (type === 'container' && attributes.image) ev.from = attributes.image;
    }
    this.ring.push(ev);
    if (this.ring.length > RING_SIZE) this.ring.shift();
    this.emitter.emit('event', ev);
    return ev;
  }

  /** Events already published at or after `sinceNano`. */
  past(sinceNano: number): EventMessage[] {
    return this.ring.filter((e) => e.timeNano >= sinceNano);
  }

  subscribe(listener: (ev: EventMessage) => void): () => void {
    this.emitter.on('event', listener);
    return () => this.emitter.off('event', listener);
  }
}

/** An image event as moby writes it: the image's labels and its name. */
export function publishImageEvent(events: EventBus, images: { labels(id: string): Record<string, string> }, action: string, id: string, name: string): void {
  events.publish('image', action, id, { ...images.labels(id), name });
}
