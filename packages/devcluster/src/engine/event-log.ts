import { BerthError } from '@berth/core';

/** Something stamped with the engine's monotonic sequence number. */
export interface Sequenced {
  readonly seq: number;
}

export type Listener<E> = (event: E) => void;

export interface IterateOptions {
  /** Replay the buffered events after this sequence number first (0 = everything still buffered). */
  readonly since?: number;
  /** Ends the iteration (without an error) when aborted. */
  readonly signal?: AbortSignal;
}

/**
 * An ordered, bounded event log: every event gets the next sequence number (starting at 1), the
 * newest `capacity` events stay in a ring buffer for `since(seq)` replay, and listeners are called
 * synchronously in publish order.
 */
export class EventLog<E extends Sequenced> {
  readonly capacity: number;
  readonly #ring: (E | undefined)[];
  #next = 1;
  #closed = false;
  readonly #listeners = new Set<Listener<E>>();
  readonly #closeListeners = new Set<() => void>();
  readonly #pending: E[] = [];
  #delivering = false;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new BerthError('SPEC_INVALID', `eventBufferSize must be a positive integer, got ${capacity}`, {
        component: 'devcluster',
        hint: 'Pass eventBufferSize: 10000 (the default) or any integer ≥ 1.',
      });
    }
    this.capacity = capacity;
    this.#ring = new Array<E | undefined>(capacity);
  }

  /** The sequence number of the newest event (0 before the first). */
  get latestSeq(): number {
    return this.#next - 1;
  }

  /** The oldest sequence number still replayable (latestSeq + 1 when the buffer is empty). */
  get oldestSeq(): number {
    return Math.max(1, this.#next - this.capacity);
  }

  /**
   * Stamps `make(seq)` with the next sequence number, buffers it and hands it to every listener.
   * A listener that publishes (re-entrantly) does not jump the queue: its event is delivered to
   * every listener after the current one, so all listeners see one order.
   */
  publish(make: (seq: number) => E): E {
    const seq = this.#next++;
    const event = make(seq);
    this.#ring[seq % this.capacity] = event;
    this.#pending.push(event);
    if (this.#delivering) return event;
    this.#delivering = true;
    try {
      for (let i = 0; i < this.#pending.length; i++) {
        const e = this.#pending[i]!;
        for (const listener of this.#listeners) {
          try {
            listener(e);
          } catch (err) {
            // A faulty observer must not break the engine or starve the other observers.
            queueMicrotask(() => {
              throw err;
            });
          }
        }
      }
    } finally {
      this.#pending.length = 0;
      this.#delivering = false;
    }
    return event;
  }

  /** Calls `listener` for every event published from now on; returns the unsubscribe function. */
  subscribe(listener: Listener<E>): () => void {
    const wrapped: Listener<E> = (e) => listener(e);
    this.#listeners.add(wrapped);
    return () => {
      this.#listeners.delete(wrapped);
    };
  }

  /**
   * The buffered events with a sequence number greater than `seq`, oldest first. Throws a
   * `CONFLICT` BerthError when some of them have already left the ring buffer: the caller must
   * resynchronise from the engine's current state (as a Kubernetes client does on 410 Gone).
   */
  since(seq: number): E[] {
    if (!Number.isInteger(seq) || seq < 0) {
      throw new BerthError('SPEC_INVALID', `since(seq) needs a non-negative integer, got ${seq}`, {
        component: 'devcluster',
        hint: 'Pass 0 to replay everything still buffered, or the seq of the last event you saw.',
      });
    }
    const oldest = this.oldestSeq;
    if (seq + 1 < oldest) {
      throw new BerthError(
        'CONFLICT',
        `events after seq ${seq} are no longer buffered (the oldest kept is ${oldest}, buffer size ${this.capacity})`,
        {
          component: 'devcluster',
          hint: 'Re-read the engine state (nodes(), tasks()) and continue from engine.events.latestSeq, or raise eventBufferSize.',
          details: { since: seq, oldestSeq: oldest, latestSeq: this.latestSeq },
        },
      );
    }
    const out: E[] = [];
    for (let s = seq + 1; s < this.#next; s++) out.push(this.#ring[s % this.capacity]!);
    return out;
  }

  /**
   * Replays `since` (when given) then yields live events until the signal aborts or the log is
   * closed. Events are queued per iterator, so a slow consumer loses nothing.
   */
  async *iterate(options: IterateOptions = {}): AsyncGenerator<E, void, undefined> {
    const { signal } = options;
    if (signal?.aborted) return;
    const queue: E[] = options.since === undefined ? [] : this.since(options.since);
    let wake: (() => void) | undefined;
    const poke = () => {
      const w = wake;
      wake = undefined;
      w?.();
    };
    const unsubscribe = this.subscribe((e) => {
      queue.push(e);
      poke();
    });
    this.#closeListeners.add(poke);
    signal?.addEventListener('abort', poke, { once: true });
    try {
      let i = 0;
      while (true) {
        if (signal?.aborted) return;
        if (i < queue.length) {
          const event = queue[i++]!;
          if (i > 1024) {
            queue.splice(0, i);
            i = 0;
          }
          yield event;
          continue;
        }
        if (this.#closed) return;
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
      }
    } finally {
      unsubscribe();
      this.#closeListeners.delete(poke);
      signal?.removeEventListener('abort', poke);
    }
  }

  /** Ends every running `iterate()` once it has drained its queue. Publishing still works. */
  close(): void {
    this.#closed = true;
    for (const poke of [...this.#closeListeners]) poke();
  }

  /** Re-opens the log after `close()` (an engine restarted with start()). */
  reopen(): void {
    this.#closed = false;
  }
}
