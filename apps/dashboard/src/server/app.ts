import { Hono } from 'hono';

export interface DashboardOptions {
  /** Version string reported by /api/health. */
  readonly version: string;
}

/** The dashboard's HTTP API (a Hono app: framework-free to test with `app.request`). */
export function createDashboardApp(options: DashboardOptions): Hono {
  const app = new Hono();
  app.get('/api/health', (c) => c.json({ status: 'ok', version: options.version }));
  app.notFound((c) =>
    c.req.path.startsWith('/api/')
      ? c.json({ code: 'NOT_FOUND', message: `no API route ${c.req.method} ${c.req.path}` }, 404)
      : c.text('Not Found', 404),
  );
  return app;
}
