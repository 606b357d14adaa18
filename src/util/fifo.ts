// A first-in first-out queue with O(1) push and shift: Array#shift copies the array, which makes a queue of many
// thousand entries (a log shipper's buffer) quadratic.

export class Fifo<T> {
  private items: (T | undefined)[] = [];
  private head = 0;

  get length(): number { return this.items.length - this.head; }

  push(...xs: T[]): void {
    for (const x of xs) this.items.push(x);
  }

  peek(): T | undefined {
    return this.items[this.head];
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const x = this.items[this.head];
    this.items[this.head++] = undefined;
    // Compact once the dead front is most of the array: amortized O(1).
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return x;
  }

  /** Puts `xs` back at the front, in their order (rare: what a broken link had sent goes out again). */
  unshift(xs: T[]): void {
    this.items = [...xs, ...this.items.slice(this.head)];
    this.head = 0;
  }

  /** Takes everything out, in order. */
  drain(): T[] {
    const out = this.items.slice(this.head) as T[];
    this.items = [];
    this.head = 0;
    return out;
  }

  *[Symbol.iterator](): Iterator<T> {
    for (let i = this.head; i < this.items.length; i++) yield this.items[i] as T;
  }
}
