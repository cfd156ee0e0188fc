/**
 * Live state as `subscribe(listener) → unsubscribe`, so the CLI's `-w`, the dashboard and tests
 * share one observer shape; and the bridge to `for await`, which is how adapters expose watches.
 */
import type { AbortSignalLike } from './clock.ts';

export type Unsubscribe = () => void;

export interface Observer<T> {
  next(value: T): void;
  /** The source ended (adapter closed); no more values follow. */
  complete?(): void;
}

export interface Subscribable<T> {
  subscribe(observer: Observer<T> | ((value: T) => void)): Unsubscribe;
}

/**
 * A multicast source. `emit` delivers synchronously to current subscribers, in subscription order;
 * a listener that throws does not stop delivery to the others (the error is reported through
 * `onListenerError`). `complete` ends the subject: subscribers are told and dropped, and later
 * subscribers are completed at once.
 */
export class Subject<T> implements Subscribable<T> {
  #observers = new Set<Observer<T>>();
  #completed = false;
  readonly #onListenerError: (error: unknown) => void;

  constructor(options: { onListenerError?: (error: unknown) => void } = {}) {
    this.#onListenerError = options.onListenerError ?? (() => {});
  }

  get completed(): boolean {
    return this.#completed;
  }

  get observerCount(): number {
    return this.#observers.size;
  }

  subscribe(observer: Observer<T> | ((value: T) => void)): Unsubscribe {
    const o: Observer<T> = typeof observer === 'function' ? { next: observer } : observer;
    if (this.#completed) {
      o.complete?.();
      return () => {};
    }
    this.#observers.add(o);
    return () => {
      this.#observers.delete(o);
    };
  }

  emit(value: T): void {
    if (this.#completed) return;
    for (const o of [...this.#observers]) {
      try {
        o.next(value);
      } catch (err) {
        this.#onListenerError(err);
      }
    }
  }

  complete(): void {
    if (this.#completed) return;
    this.#completed = true;
    const observers = [...this.#observers];
    this.#observers.clear();
    for (const o of observers) {
      try {
        o.complete?.();
      } catch (err) {
        this.#onListenerError(err);
      }
    }
  }
}

export interface ToAsyncIterableOptions<T> {
  /** Ends the iteration (cleanly, without throwing) when aborted. */
  readonly signal?: AbortSignalLike | undefined;
  /** Values to yield before live ones (e.g. the current state for `watchTasks({ initial: true })`). */
  readonly initial?: readonly T[] | undefined;
}

/**
 * Iterate a subscribable with `for await`. Values emitted while the consumer is busy are queued in
 * order. The iteration ends when the source completes, when `signal` aborts, or when the consumer
 * breaks out of the loop; in every case the subscription is removed.
 */
export function toAsyncIterable<T>(
  source: Subscribable<T>,
  options: ToAsyncIterableOptions<T> = {},
): AsyncIterableIterator<T> {
  const queue: T[] = [...(options.initial ?? [])];
  let done = false;
  let wake: (() => void) | undefined;
  const signal = options.signal;

  const finish = () => {
    if (done) return;
    done = true;
    unsubscribe();
    signal?.removeEventListener('abort', finish);
    const w = wake;
    wake = undefined;
    w?.();
  };

  const unsubscribe = source.subscribe({
    next(value) {
      if (done) return;
      queue.push(value);
      const w = wake;
      wake = undefined;
      w?.();
    },
    complete: finish,
  });
  if (signal?.aborted) finish();
  else signal?.addEventListener('abort', finish, { once: true });

  const iterator: AsyncIterableIterator<T> = {
    async next(): Promise<IteratorResult<T>> {
      for (;;) {
        if (queue.length > 0) return { value: queue.shift() as T, done: false };
        if (done) return { value: undefined, done: true };
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
      }
    },
    async return(): Promise<IteratorResult<T>> {
      finish();
      queue.length = 0;
      return { value: undefined, done: true };
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}
