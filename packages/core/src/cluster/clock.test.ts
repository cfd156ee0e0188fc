import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FakeClock, sleep, systemClock } from './clock.ts';
import { isBerthError } from './errors.ts';

describe('FakeClock', () => {
  it('fires timers in due order, ties in the order they were set', () => {
    const clock = new FakeClock(1000);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push('b@20'), 20);
    clock.setTimeout(() => fired.push('a@10'), 10);
    clock.setTimeout(() => fired.push('c@20'), 20);
    clock.advance(15);
    expect(fired).toEqual(['a@10']);
    expect(clock.now()).toBe(1015);
    clock.advance(5);
    expect(fired).toEqual(['a@10', 'b@20', 'c@20']);
    expect(clock.pendingTimers).toBe(0);
  });

  it('shows each callback the time it was due and fires timers set while advancing', () => {
    const clock = new FakeClock();
    const seen: number[] = [];
    clock.setTimeout(() => {
      seen.push(clock.now());
      clock.setTimeout(() => seen.push(clock.now()), 5);
    }, 10);
    clock.advance(100);
    expect(seen).toEqual([10, 15]);
    expect(clock.now()).toBe(100);
  });

  it('never fires a cleared timer', () => {
    const clock = new FakeClock();
    let fired = false;
    const h = clock.setTimeout(() => {
      fired = true;
    }, 1);
    clock.clearTimeout(h);
    clock.runAll();
    expect(fired).toBe(false);
  });

  it('lets promise continuations run between timers with advanceAsync', async () => {
    const clock = new FakeClock();
    const log: number[] = [];
    const loop = (async () => {
      for (let i = 0; i < 3; i++) {
        await sleep(clock, 10);
        log.push(clock.now());
      }
    })();
    await clock.advanceAsync(30);
    await loop;
    expect(log).toEqual([10, 20, 30]);
  });

  it('rejects a negative advance and a timer that re-arms forever', () => {
    const clock = new FakeClock();
    expect(() => clock.advance(-1)).toThrow(/ms must be a finite number >= 0/);
    const rearm = () => clock.setTimeout(rearm, 1);
    rearm();
    let err: unknown;
    try {
      clock.runAll(50);
    } catch (e) {
      err = e;
    }
    expect(isBerthError(err, 'INTERNAL')).toBe(true);
  });

  it('fires any set of timers exactly once, in non-decreasing due time', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 1000 }), { maxLength: 50 }),
        fc.integer({ min: 1, max: 7 }),
        (delays, steps) => {
          const clock = new FakeClock();
          const fired: number[] = [];
          for (const d of delays) clock.setTimeout(() => fired.push(clock.now()), d);
          for (let i = 0; i < steps; i++) clock.advance(1000 / steps);
          clock.advance(1);
          expect(fired).toEqual([...delays].sort((a, b) => a - b));
        },
      ),
    );
  });
});

describe('sleep', () => {
  it('rejects with the abort reason and clears its timer', async () => {
    const clock = new FakeClock();
    const ac = new AbortController();
    const p = sleep(clock, 1000, ac.signal);
    ac.abort(new Error('stopped'));
    await expect(p).rejects.toThrow('stopped');
    expect(clock.pendingTimers).toBe(0);
    await expect(sleep(clock, 5, ac.signal)).rejects.toThrow('stopped');
  });

  it('waits on real time with the system clock', async () => {
    const start = systemClock.now();
    await sleep(systemClock, 5);
    expect(systemClock.now() - start).toBeGreaterThanOrEqual(4);
  });
});
