/**
 * The child for `child-fixture.test.ts`: a fixture whose probe counts `CHILD_LAUNCHES` launches of
 * every task and runs only `running`. `CHILD_MODE=crash` exits before ready, `hang` ignores close.
 */
import { serveChildFixture } from '../child-fixture.ts';

const mode = process.env.CHILD_MODE;
if (mode === 'crash') process.exit(3);
serveChildFixture({
  ready: `pid ${process.pid}`,
  probe: {
    launchCount: async () => Number(process.env.CHILD_LAUNCHES ?? 0),
    isRunning: (taskId) => taskId === 'running',
  },
  close: () => (mode === 'hang' ? new Promise<void>(() => {}) : Promise.resolve()),
});
