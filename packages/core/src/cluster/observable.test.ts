import { describe, expect, it } from 'vitest';
import { Subject, toAsyncIterable } from './observable.ts';

describe('Subject', () => {
  it('delivers to every subscriber until it unsubscribes', () => {
    const s = new Subject<number>();
    const a: number[] = [];
    const b: number[] = [];
    const offA = s.subscribe((v) => a.push(v));
    s.subscribe({ next: (v) => b.push(v) });
    s.emit(1);
    offA();
    s.emit(2);
    expect(a).toEqual([1]);
    expect(b).toEqual([1, 2]);
    expect(s.observerCount).toBe(1);
  });

  it('keeps delivering when one listener throws and reports the error', () => {
    const errors: unknown[] = [];
    const s = new Subject<number>({ onListenerError: (e) => errors.push(e) });
    const got: number[] = [];
    s.subscribe(() => {
      throw new Error('bad listener');
    });
    s.subscribe((v) => got.push(v));
    s.emit(7);
    expect(got).toEqual([7]);
    expect(errors).toHaveLength(1);
  });

  it('completes current and later subscribers and drops them', () => {
    const s = new Subject<number>();
    let completed = 0;
    s.subscribe({ next: () => {}, complete: () => completed++ });
    s.complete();
    s.subscribe({ next: () => {}, complete: () => completed++ });
    s.emit(1);
    expect(completed).toBe(2);
    expect(s.observerCount).toBe(0);
  });
});

describe('toAsyncIterable', () => {
  it('yields initial then live values in order and ends when the source completes', async () => {
    const s = new Subject<number>();
    const it = toAsyncIterable(s, { initial: [0] });
    s.emit(1);
    s.emit(2);
    setTimeout(() => {
      s.emit(3);
      s.complete();
    }, 1);
    const got: number[] = [];
    for await (const v of it) got.push(v);
    expect(got).toEqual([0, 1, 2, 3]);
  });

  it('ends cleanly, without throwing, when the signal aborts', async () => {
    const s = new Subject<number>();
    const ac = new AbortController();
    const got: number[] = [];
    const done = (async () => {
      for await (const v of toAsyncIterable(s, { signal: ac.signal })) got.push(v);
    })();
    s.emit(1);
    await new Promise((r) => setTimeout(r, 1));
    ac.abort();
    await done;
    expect(got).toEqual([1]);
    expect(s.observerCount).toBe(0);
  });

  it('unsubscribes when the consumer breaks out of the loop', async () => {
    const s = new Subject<number>();
    const it = toAsyncIterable(s);
    s.emit(1);
    for await (const _ of it) break;
    expect(s.observerCount).toBe(0);
  });

  it('ends at once for an already-aborted signal', async () => {
    const s = new Subject<number>();
    const it = toAsyncIterable(s, { signal: AbortSignal.abort() });
    await expect(it.next()).resolves.toEqual({ value: undefined, done: true });
    expect(s.observerCount).toBe(0);
  });
});
