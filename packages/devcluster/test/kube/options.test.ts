import { describe, expect, it } from 'vitest';
import { KubeApi, startKubeApiServer } from '../../src/index.ts';

describe('startKubeApiServer options', () => {
  it('rejects bad options with a SPEC_INVALID BerthError naming the option', async () => {
    await expect(startKubeApiServer({ port: 70000 })).rejects.toMatchObject({
      code: 'SPEC_INVALID',
      message: expect.stringContaining('`port` is 70000'),
    });
    await expect(startKubeApiServer({ token: 'has space' })).rejects.toMatchObject({ code: 'SPEC_INVALID' });
    await expect(startKubeApiServer({ serviceCIDR: '10.0.0.0/33' })).rejects.toMatchObject({
      code: 'SPEC_INVALID',
      message: expect.stringContaining('`serviceCIDR`'),
    });
    expect(() => new KubeApi({ retainedEvents: 0 })).toThrow('`retainedEvents` is 0');
    expect(() => new KubeApi({ podTerminationMs: -5 })).toThrow('`podTerminationMs` is -5');
  });

  it('reports a port in use with the fix', async () => {
    const first = await startKubeApiServer({});
    try {
      const port = Number(new URL(first.url).port);
      await expect(startKubeApiServer({ port })).rejects.toMatchObject({
        code: 'SPEC_INVALID',
        message: expect.stringContaining('EADDRINUSE'),
        hint: 'choose another `port`, or 0 for an ephemeral one',
      });
    } finally {
      await first.close();
    }
  });
});
