/**
 * `pnpm --filter dashboard dev`: the API over two in-memory demo clusters on 127.0.0.1:7071 and
 * Vite's dev server (hot reload) proxying /api to it. Run with `--conditions=@berth/source`.
 */
import { createServer } from 'vite';
import { createDemoContexts } from './demo-contexts.ts';
import { startDashboard } from './start-dashboard.ts';

const apiPort = Number(process.env.BERTH_DASHBOARD_API_PORT ?? 7071);
process.env.BERTH_DASHBOARD_API = `http://127.0.0.1:${apiPort}`;
const demo = await createDemoContexts({ nodes: Number(process.env.BERTH_DEMO_NODES ?? 12) });
const api = await startDashboard({ contexts: demo.contexts, port: apiPort, version: 'dev' });
const vite = await createServer({
  configFile: new URL('../../vite.config.ts', import.meta.url).pathname,
});
await vite.listen();
vite.printUrls();
process.stdout.write(`API (demo contexts ${demo.contexts.map((c) => c.name).join(', ')}) on ${api.url}\n`);
const stop = async () => {
  await vite.close();
  await api.close();
  await demo.close();
  process.exit(0);
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
