import { isBerthError } from '@berth/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EventLog } from './event-log.ts';

interface E {
  readonly seq: number;
  readonly n: number;
}

function fill(capacity: number, count: number): EventLog<E> {
  const log = new EventLog<E>(capacity);
  for (let n = 0; n < count; n++) log.publish((seq) => ({ seq, n }));
  return log;
}

describe('EventLog', () => {
  it('replays exactly the buffered suffix after any seq, or refuses with CONFLICT (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 0, max: 60 }),
        fc.nat(70),
        (cap, count, since) => {
          const log = fill(cap, count);
          const oldest = Math.max(1, count - cap + 1);
          if (since >= count) {
            expect(log.since(since)).toEqual([]);
          } else if (since + 1 < oldest) {
            expect(() => log.since(since)).toThrowError(/no longer buffered/);
          } else {
            const got = log.since(since).map((e) => e.seq);
            expect(got).toEqual(Array.from({ length: count - since }, (_, i) => since + 1 + i));
          }
        },
      ),
    );
  });

  it('keeps delivering to the other listeners when one throws, and unsubscribes', async () => {
    const log = new EventLog<E>(4);
    const got: number[] = [];
    const errors: unknown[] = [];
    const onError = (e: unknown) => errors.push(e);
    process.on('uncaughtException', onError);
    try {
      const offBad = log.subscribe(() => {
        throw new Error('bad observer');
      });
      const off = log.subscribe((e) => got.push(e.seq));
      log.publish((seq) => ({ seq, n: 0 }));
      off();
      offBad();
      log.publish((seq) => ({ seq, n: 1 }));
      await new Promise((r) => setTimeout(r, 0));
    } finally {
      process.off('uncaughtException', onError);
    }
    expect(got).toEqual([1]);
    expect(errors).toHaveLength(1);
  });

  it('delivers an event published from inside a listener after the current one, to every listener', () => {
    const log = new EventLog<E>(16);
    const a: number[] = [];
    const b: number[] = [];
    log.subscribe((e) => {
      a.push(e.seq);
      if (e.n === 0) log.publish((seq) => ({ seq, n: 1 }));
    });
    log.subscribe((e) => b.push(e.seq));
    log.publish((seq) => ({ seq, n: 0 }));
    expect(a).toEqual([1, 2]);
    expect(b).toEqual([1, 2]);
  });

  it('rejects a non-positive capacity and a negative since', () => {
    expect(() => new EventLog<E>(0)).toThrowError(/eventBufferSize/);
    const error = (() => {
      try {
        fill(2, 1).since(-1);
      } catch (e) {
        return e;
      }
    })();
    expect(isBerthError(error, 'SPEC_INVALID')).toBe(true);
  });

  it('an iterator does not lose events published faster than it reads', async () => {
    const log = new EventLog<E>(2);
    const seen: number[] = [];
    const it = log.iterate();
    const first = it.next();
    for (let n = 0; n < 100; n++) log.publish((seq) => ({ seq, n }));
    log.close();
    seen.push((await first).value!.seq);
    for await (const e of it) seen.push(e.seq);
    expect(seen).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
  });
});
