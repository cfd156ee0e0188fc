/**
 * A devcluster Mesos master for the ACCEPT bench, run in a child process (`fork`) so that the
 * master's own work (decoding the ACCEPTs, launching, status updates) does not run on the event
 * loop being timed. Tasks run simulated: the master validates and launches them as usual, but the
 * engine does not start 1,000 real processes per round on the shared machine.
 *
 * Protocol: sends `{ url }` once the master listens; exits when the parent disconnects.
 */
import { startEngine, startMesosMaster, type TaskLaunch } from '@berth/devcluster';

const agents = Number(process.env.BERTH_BENCH_AGENTS ?? '1000');
const GiB = 1024 ** 3;

const engine = await startEngine({ nodes: [{ count: agents, capacity: { cpu: 16_000, memory: 64 * GiB } }] });
const launch = engine.launch.bind(engine);
engine.launch = (l: TaskLaunch) => launch({ ...l, mode: 'simulated' });
const master = await startMesosMaster({
  engine,
  agentEndpoints: false,
  allocationIntervalMs: 200,
  heartbeatIntervalSeconds: 15,
});

const stop = async () => {
  await master.close();
  await engine.stop({ gracePeriodMs: 0 });
  process.exit(0);
};
process.on('disconnect', () => void stop());
process.send?.({ url: master.url });
