/**
 * `pnpm --filter dashboard start`: serves the built app over two in-memory demo clusters until the
 * CLI hands real contexts to {@link startDashboard}. `BERTH_DASHBOARD_PORT` (default 7070),
 * `BERTH_DASHBOARD_HOST` and `BERTH_DASHBOARD_TOKEN` configure it.
 */
import { createDemoContexts } from './demo-contexts.ts';
import { startDashboard } from './start-dashboard.ts';

const demo = await createDemoContexts();
const token = process.env.BERTH_DASHBOARD_TOKEN;
const dashboard = await startDashboard({
  contexts: demo.contexts,
  port: Number(process.env.BERTH_DASHBOARD_PORT ?? 7070),
  ...(process.env.BERTH_DASHBOARD_HOST ? { host: process.env.BERTH_DASHBOARD_HOST } : {}),
  ...(token ? { token } : {}),
});
process.stdout.write(
  `Berth dashboard on ${dashboard.url}${token ? ' (open it once with ?token=<your token>)' : ''} — demo contexts: ${demo.contexts.map((c) => c.name).join(', ')}\n`,
);
const stop = async () => {
  await dashboard.close();
  await demo.close();
  process.exit(0);
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
