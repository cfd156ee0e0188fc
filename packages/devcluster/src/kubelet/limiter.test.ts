import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Limiter } from './limiter.ts';

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('Limiter', () => {
  it('never runs more than its limit at once and runs every task in FIFO order', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 0, max: 40 }), async (limit, n) => {
        const limiter = new Limiter(limit);
        let running = 0;
        let peak = 0;
        const started: number[] = [];
        const results = await Promise.all(
          Array.from({ length: n }, (_, i) =>
            limiter.run(async () => {
              started.push(i);
              running++;
              peak = Math.max(peak, running);
              await tick();
              running--;
              return i * 2;
            }),
          ),
        );
        expect(peak).toBeLessThanOrEqual(limit);
        expect(started).toEqual(Array.from({ length: n }, (_, i) => i));
        expect(results).toEqual(Array.from({ length: n }, (_, i) => i * 2));
      }),
      { numRuns: 30 },
    );
  });

  it('passes a failure to its caller and keeps serving the queue', async () => {
    const limiter = new Limiter(1);
    const failed = limiter.run(async () => {
      throw new Error('boom');
    });
    const next = limiter.run(async () => 'ok');
    await expect(failed).rejects.toThrow('boom');
    await expect(next).resolves.toBe('ok');
    expect(limiter.active).toBe(0);
  });
});
