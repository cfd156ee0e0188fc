/**
 * Injectable time. Everything in Berth that waits — back-off, heartbeats, leases, Permit waits,
 * autoscaler windows, kill grace periods — takes a {@link Clock}, so tests drive it with a
 * {@link FakeClock} instead of sleeping.
 */
import { BerthError } from './errors.ts';

declare const timerBrand: unique symbol;

/** An opaque timer handle; only the clock that made it can clear it. */
export type TimerHandle = { readonly [timerBrand]: true };

export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  setTimeout(callback: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** The standard timers every JS runtime has (declared here because core compiles without DOM/Node types). */
interface TimerGlobals {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const timers = globalThis as unknown as TimerGlobals;

/** Real time: `Date.now()` and the runtime's timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => timers.setTimeout(callback, ms) as TimerHandle,
  clearTimeout: (handle) => timers.clearTimeout(handle),
};

/** The subset of `AbortSignal` core relies on (core compiles without DOM types; a real AbortSignal fits). */
export interface AbortSignalLike {
  readonly aborted: boolean;
  readonly reason?: unknown;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/**
 * Resolve after `ms` on `clock`. Rejects with the signal's reason when aborted, and clears its timer
 * either way, so nothing outlives the wait.
 */
export function sleep(clock: Clock, ms: number, signal?: AbortSignalLike): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clock.clearTimeout(handle);
      reject(signal?.reason);
    };
    const handle = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

interface FakeTimer {
  readonly id: number;
  readonly at: number;
  readonly callback: () => void;
}

/**
 * A clock that only moves when told. Timers fire in due-time order (ties in the order they were
 * set), including timers set by callbacks while advancing. `advance` runs callbacks synchronously;
 * `advanceAsync` also lets promise continuations run between timers, which is what async code
 * under test usually needs.
 */
export class FakeClock implements Clock {
  #now: number;
  #nextId = 1;
  #timers = new Map<number, FakeTimer>();

  constructor(start = 0) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(callback: () => void, ms: number): TimerHandle {
    const id = this.#nextId++;
    const delay = Number.isFinite(ms) && ms > 0 ? ms : 0;
    this.#timers.set(id, { id, at: this.#now + delay, callback });
    return id as unknown as TimerHandle;
  }

  clearTimeout(handle: TimerHandle): void {
    this.#timers.delete(handle as unknown as number);
  }

  /** Timers not yet fired or cleared. */
  get pendingTimers(): number {
    return this.#timers.size;
  }

  /** Move time forward by `ms`, firing every timer that falls due on the way. */
  advance(ms: number): void {
    const target = this.#target(ms);
    for (let t = this.#due(target); t !== undefined; t = this.#due(target)) this.#fire(t);
    this.#now = target;
  }

  /** Like `advance`, but yields to pending promise jobs before and after each timer. */
  async advanceAsync(ms: number): Promise<void> {
    const target = this.#target(ms);
    await flushMicrotasks();
    for (let t = this.#due(target); t !== undefined; t = this.#due(target)) {
      this.#fire(t);
      await flushMicrotasks();
    }
    this.#now = target;
  }

  /** Fire timers until none is left (fails after `limit` firings, which means a timer keeps re-arming). */
  runAll(limit = 10_000): void {
    for (let i = 0; i < limit; i++) {
      const t = this.#due(Number.POSITIVE_INFINITY);
      if (t === undefined) return;
      this.#fire(t);
    }
    throw new BerthError('INTERNAL', `FakeClock.runAll fired ${limit} timers and more keep coming`, {
      component: 'core/clock',
      hint: 'A timer re-arms itself forever; advance by a fixed amount with advance(ms) instead.',
    });
  }

  #target(ms: number): number {
    if (!Number.isFinite(ms) || ms < 0) {
      throw new BerthError(
        'SPEC_INVALID',
        `FakeClock.advance(ms): ms must be a finite number >= 0, got ${ms}`,
        {
          component: 'core/clock',
        },
      );
    }
    return this.#now + ms;
  }

  #due(target: number): FakeTimer | undefined {
    let best: FakeTimer | undefined;
    for (const t of this.#timers.values()) {
      if (t.at <= target && (best === undefined || t.at < best.at || (t.at === best.at && t.id < best.id))) {
        best = t;
      }
    }
    return best;
  }

  #fire(t: FakeTimer): void {
    this.#timers.delete(t.id);
    if (t.at > this.#now) this.#now = t.at;
    t.callback();
  }
}

async function flushMicrotasks(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}
