import { describe, expect, it } from 'vitest';
import { createDashboardApp } from './app.ts';

describe('dashboard API', () => {
  it('reports health with its version', async () => {
    const res = await createDashboardApp({ version: '1.2.3' }).request('/api/health');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok', version: '1.2.3' });
  });

  it('answers unknown API routes with a JSON NOT_FOUND naming the route', async () => {
    const res = await createDashboardApp({ version: '0' }).request('/api/nope', { method: 'POST' });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ code: 'NOT_FOUND', message: 'no API route POST /api/nope' });
  });
});
