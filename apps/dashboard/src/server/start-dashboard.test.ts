import { describe, expect, it } from 'vitest';
import { startDashboard } from './start-dashboard.ts';

describe('startDashboard', () => {
  it('listens on 127.0.0.1 by default and serves the API over a real socket', async () => {
    const d = await startDashboard({ version: '9.9.9', staticDir: new URL('.', import.meta.url).pathname });
    try {
      expect(d.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      const res = await fetch(new URL('api/health', d.url));
      expect(await res.json()).toEqual({ status: 'ok', version: '9.9.9' });
    } finally {
      await d.close();
    }
  });

  it('refuses to listen beyond loopback without a token, naming the token', async () => {
    await expect(startDashboard({ host: '0.0.0.0' })).rejects.toMatchObject({
      code: 'SPEC_INVALID',
      issues: [expect.objectContaining({ path: 'token' })],
    });
  });

  it('listens beyond loopback when given a token', async () => {
    const d = await startDashboard({ host: '0.0.0.0', token: 't0ken' });
    try {
      expect(d.url).toMatch(/^http:\/\/0\.0\.0\.0:\d+\/$/);
      const port = new URL(d.url).port;
      expect((await fetch(`http://127.0.0.1:${port}/api/contexts`)).status).toBe(401);
    } finally {
      await d.close();
    }
  });
});
