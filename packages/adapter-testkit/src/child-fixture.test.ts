import { describe, expect, it } from 'vitest';
import { startChildFixture } from './child-fixture.ts';

const CHILD = new URL('./__tests__/child-fixture-child.ts', import.meta.url);

const alive = (pid: number | undefined) => {
  try {
    process.kill(pid ?? 0, 0);
    return true;
  } catch {
    return false;
  }
};

describe('startChildFixture', { timeout: 20_000 }, () => {
  it('starts the child with the env, asks its probe over IPC and closes it', async () => {
    const child = await startChildFixture(CHILD, { env: { CHILD_LAUNCHES: '2' } });
    expect(child.ready).toBe(`pid ${child.pid}`);
    expect(await child.probe.launchCount('web-0')).toBe(2);
    expect(await child.probe.isRunning('running')).toBe(true);
    expect(await child.probe.isRunning('web-0')).toBe(false);
    await child[Symbol.asyncDispose]();
    expect(alive(child.pid)).toBe(false);
    await child.close();
  });

  it('rejects when the child exits before it is ready', async () => {
    await expect(startChildFixture(CHILD, { env: { CHILD_MODE: 'crash' } })).rejects.toThrow(
      'child-fixture-child.ts exited with 3',
    );
  });

  it('kills a child that does not close in time', async () => {
    const child = await startChildFixture(CHILD, { env: { CHILD_MODE: 'hang' }, killAfterMs: 200 });
    const started = Date.now();
    await child.close();
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    expect(alive(child.pid)).toBe(false);
  });
});
