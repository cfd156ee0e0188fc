import { FakeClock } from '@berth/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TimerQueue } from './timer-queue.ts';

describe('TimerQueue', () => {
  it('fires every entry at its due time, ties in scheduling order, behind one host timer (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ delay: fc.integer({ min: 0, max: 1000 }), cancel: fc.boolean() }), {
          maxLength: 60,
        }),
        (entries) => {
          const clock = new FakeClock(0);
          const q = new TimerQueue(clock);
          const fired: { i: number; at: number }[] = [];
          entries.forEach((e, i) => {
            const s = q.schedule(e.delay, () => fired.push({ i, at: clock.now() }));
            if (e.cancel) s.cancel();
          });
          expect(clock.pendingTimers).toBeLessThanOrEqual(1);
          clock.advance(1000);
          const expected = entries
            .map((e, i) => ({ ...e, i }))
            .filter((e) => !e.cancel)
            .sort((a, b) => a.delay - b.delay || a.i - b.i)
            .map((e) => ({ i: e.i, at: e.delay }));
          expect(fired).toEqual(expected);
          expect(q.size).toBe(0);
          expect(clock.pendingTimers).toBe(0);
        },
      ),
    );
  });

  it('runs entries scheduled by a firing entry, and clear() cancels everything', () => {
    const clock = new FakeClock(0);
    const q = new TimerQueue(clock);
    const log: string[] = [];
    q.schedule(10, () => {
      log.push('a');
      q.schedule(0, () => log.push('b'));
    });
    q.schedule(50, () => log.push('never'));
    clock.advance(10);
    expect(log).toEqual(['a', 'b']);
    q.clear();
    clock.advance(100);
    expect(log).toEqual(['a', 'b']);
    expect(clock.pendingTimers).toBe(0);
  });
});
