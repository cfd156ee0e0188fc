/**
 * A bounded-concurrency queue: at most `limit` tasks run at once, the rest wait in FIFO order.
 * The kubelet sends every API request through one, so 5,000 nodes renewing leases never open
 * 5,000 connections at once.
 */
export class Limiter {
  readonly #limit: number;
  #active = 0;
  readonly #queue: (() => void)[] = [];

  constructor(limit: number) {
    this.#limit = Math.max(1, Math.floor(limit));
  }

  /** Tasks running now. */
  get active(): number {
    return this.#active;
  }

  /** Tasks waiting for a slot. */
  get queued(): number {
    return this.#queue.length;
  }

  run<T>(task: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const start = () => {
        this.#active++;
        let result: Promise<T>;
        try {
          result = task();
        } catch (error) {
          result = Promise.reject(error);
        }
        result.then(resolve, reject).finally(() => {
          this.#active--;
          this.#queue.shift()?.();
        });
      };
      if (this.#active < this.#limit) start();
      else this.#queue.push(start);
    });
  }
}
