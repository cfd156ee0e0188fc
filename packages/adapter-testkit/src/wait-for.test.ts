import { describe, expect, it } from 'vitest';
import { WaitForTimeoutError, waitFor } from './wait-for.ts';

describe('waitFor', () => {
  it('resolves with the first defined value', async () => {
    let n = 0;
    await expect(waitFor('n to reach 3', () => (++n >= 3 ? n : undefined), { intervalMs: 1 })).resolves.toBe(
      3,
    );
  });

  it('names what it waited for and the last error when it times out', async () => {
    const err = await waitFor(
      'task web-1 to be RUNNING',
      () => {
        throw new Error('task is STAGING');
      },
      { timeoutMs: 30, intervalMs: 5 },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WaitForTimeoutError);
    expect((err as Error).message).toMatch(
      /waiting for task web-1 to be RUNNING; last error: task is STAGING/,
    );
  });

  it('stops when aborted', async () => {
    const ac = new AbortController();
    ac.abort(new Error('closed'));
    await expect(waitFor('never', () => undefined, { signal: ac.signal })).rejects.toThrow('closed');
  });
});
