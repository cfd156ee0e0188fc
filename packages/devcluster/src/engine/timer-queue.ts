import type { Clock, TimerHandle } from '@berth/core';

/** A cancellable entry of a {@link TimerQueue}. */
export interface Scheduled {
  cancel(): void;
}

/** One heap entry; it is its own cancel handle, so scheduling allocates one object. */
class Entry implements Scheduled {
  readonly at: number;
  /** Insertion order: entries due at the same time fire in the order they were scheduled. */
  readonly order: number;
  fn: (() => void) | undefined;
  readonly queue: TimerQueue;

  constructor(queue: TimerQueue, at: number, order: number, fn: () => void) {
    this.queue = queue;
    this.at = at;
    this.order = order;
    this.fn = fn;
  }

  cancel(): void {
    if (this.fn === undefined) return;
    this.fn = undefined;
    this.queue.cancelled();
  }
}

/**
 * Many deadlines behind one host timer: a binary min-heap ordered by (due time, insertion order).
 * 50,000 simulated tasks with durations cost 50,000 small heap entries, not 50,000 timers.
 */
export class TimerQueue {
  readonly #host: Clock;
  readonly #heap: Entry[] = [];
  #order = 0;
  #armedAt: number | undefined;
  #handle: TimerHandle | undefined;
  #live = 0;

  constructor(host: Clock) {
    this.#host = host;
  }

  /** Number of pending (not cancelled, not fired) entries. */
  get size(): number {
    return this.#live;
  }

  /** Runs `fn` once `delayMs` from now. */
  schedule(delayMs: number, fn: () => void): Scheduled {
    const entry = new Entry(this, this.#host.now() + Math.max(0, delayMs), this.#order++, fn);
    this.#push(entry);
    this.#live += 1;
    this.#arm();
    return entry;
  }

  /** Bookkeeping for {@link Entry.cancel}. */
  cancelled(): void {
    this.#live -= 1;
  }

  /** Cancels everything and releases the host timer. */
  clear(): void {
    for (const e of this.#heap) e.fn = undefined;
    this.#heap.length = 0;
    this.#live = 0;
    this.#disarm();
  }

  #disarm(): void {
    if (this.#handle !== undefined) this.#host.clearTimeout(this.#handle);
    this.#armedAt = undefined;
    this.#handle = undefined;
  }

  #arm(): void {
    while (this.#heap.length > 0 && this.#heap[0]!.fn === undefined) this.#pop();
    const head = this.#heap[0];
    if (head === undefined) {
      this.#disarm();
      return;
    }
    if (this.#armedAt !== undefined && this.#armedAt <= head.at) return;
    this.#disarm();
    this.#armedAt = head.at;
    this.#handle = this.#host.setTimeout(() => this.#fire(), Math.max(0, head.at - this.#host.now()));
  }

  #fire(): void {
    this.#armedAt = undefined;
    this.#handle = undefined;
    const now = this.#host.now();
    while (this.#heap.length > 0 && this.#heap[0]!.at <= now) {
      const e = this.#pop()!;
      const fn = e.fn;
      if (fn === undefined) continue;
      e.fn = undefined;
      this.#live -= 1;
      fn();
    }
    this.#arm();
  }

  #less(a: Entry, b: Entry): boolean {
    return a.at < b.at || (a.at === b.at && a.order < b.order);
  }

  #push(e: Entry): void {
    const h = this.#heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.#less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  #pop(): Entry | undefined {
    const h = this.#heap;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last !== undefined) {
      h[0] = last;
      let i = 0;
      while (true) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.#less(h[l]!, h[m]!)) m = l;
        if (r < h.length && this.#less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}
