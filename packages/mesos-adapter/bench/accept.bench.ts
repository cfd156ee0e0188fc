/**
 * One OFFERS event of 1,000 offers (from 1,000 devcluster agents) with 1,000 pending tasks: the
 * time from the event's bytes to every ACCEPT call handed to the driver — parse, snapshot, placement,
 * the write-ahead claim in the state store (one synced SQLite transaction), TaskInfo building and
 * the ACCEPT bodies serialised. The offers are captured from a real devcluster master once; each
 * run replays them into a fresh adapter (new state file, 1,000 tasks submitted) through a driver
 * whose calls are recorded instead of sent, so only the adapter's own work is timed. Baseline in
 * the same run: parsing the same OFFERS event alone.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { API_VERSION, Resources, type TaskDocument } from '@berth/core';
import { startEngine, startMesosMaster } from '@berth/devcluster';
import type { BenchSuite } from '../../../bench/types.ts';
import { parseMesosJson } from '../src/json.ts';
import { createMesosAdapter } from '../src/mesos-adapter.ts';
import type { Offer } from '../src/proto/common.ts';
import { parseSchedulerEvent } from '../src/proto/parse.ts';
import type { SchedulerEvent } from '../src/proto/scheduler.ts';
import { MesosSchedulerDriver } from '../src/scheduler-driver.ts';

const N = 1000;
const RUNS = 40;
const GiB = 1024 ** 3;

/** Subscribe a real framework to a 1,000-agent devcluster and collect one offer per agent. */
async function captureOffers(): Promise<string> {
  const engine = await startEngine({ nodes: [{ count: N, capacity: { cpu: 16_000, memory: 64 * GiB } }] });
  const master = await startMesosMaster({ engine, agentEndpoints: false, allocationIntervalMs: 100 });
  const driver = new MesosSchedulerDriver({
    masters: [master.url],
    framework: { name: 'bench', user: 'root', roles: ['default'] },
  });
  const offers = new Map<string, Offer>();
  const done = new Promise<void>((resolve) => {
    driver.subscribe((e) => {
      if (e.type !== 'OFFERS') return;
      for (const o of e.offers.offers ?? []) offers.set(o.agent_id.value, o);
      if (offers.size >= N) resolve();
    });
  });
  await driver.start();
  await done;
  await driver.close();
  await master.close();
  await engine.stop({ gracePeriodMs: 0 });
  return JSON.stringify({ type: 'OFFERS', offers: { offers: [...offers.values()].slice(0, N) } });
}

function documents(): TaskDocument[] {
  return Array.from({ length: N }, (_, i) => ({
    apiVersion: API_VERSION,
    kind: 'Task',
    metadata: { name: `bench-${i}`, tenant: 'default', labels: {} },
    spec: {
      name: `bench-${i}`,
      command: 'sleep 3600',
      env: {},
      resources: { requests: Resources.of({ cpu: 1000, memory: GiB }) },
      ports: [{ name: 'http', protocol: 'tcp' }],
      priority: 0,
      tenant: 'default',
      constraints: [],
      nodeSelector: {},
      tolerations: [],
      restartPolicy: { policy: 'never' },
      killGracePeriodSeconds: 5,
      labels: {},
    },
  }));
}

/** A driver that records calls instead of sending them and delivers the events it is given. */
function recordingDriver() {
  const driver = new MesosSchedulerDriver({
    masters: ['http://127.0.0.1:1'],
    framework: { name: 'bench', user: 'root', roles: ['default'] },
  });
  const listeners: ((e: SchedulerEvent) => void)[] = [];
  const sent = { accepts: 0, launched: 0, declines: 0, bytes: 0 };
  const subscribed = { framework_id: { value: 'bench-framework' }, heartbeat_interval_seconds: 15 };
  Object.defineProperty(driver, 'state', {
    get: () => ({
      phase: 'subscribed',
      leader: 'http://127.0.0.1:1',
      streamId: 's',
      frameworkId: 'bench-framework',
    }),
  });
  Object.defineProperty(driver, 'frameworkId', { get: () => 'bench-framework' });
  Object.assign(driver, {
    subscribe(l: (e: SchedulerEvent) => void) {
      listeners.push(l);
      return () => {};
    },
    async start() {
      for (const l of listeners) l({ type: 'SUBSCRIBED', subscribed });
      return subscribed;
    },
    async close() {},
    accept(offerIds: readonly string[], operations: readonly { launch?: { task_infos?: unknown[] } }[]) {
      sent.accepts++;
      sent.bytes += JSON.stringify({ type: 'ACCEPT', accept: { offer_ids: offerIds, operations } }).length;
      for (const op of operations) sent.launched += op.launch?.task_infos?.length ?? 0;
      return Promise.resolve();
    },
    async decline() {
      sent.declines++;
    },
    async revive() {},
    async suppress() {},
    async reconcile() {},
    async acknowledge() {},
  });
  return {
    driver,
    deliver: (e: SchedulerEvent) => {
      for (const l of listeners) l(e);
    },
    sent,
  };
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const suite: BenchSuite = {
  name: 'mesos-accept',
  description:
    'OFFERS of 1,000 devcluster agents with 1,000 pending tasks → ACCEPT calls, next to parsing the event',
  async run() {
    const text = await captureOffers();
    const dir = mkdtempSync(join(tmpdir(), 'berth-accept-bench-'));
    const docs = documents();
    const parseMs: number[] = [];
    const acceptMs: number[] = [];
    let launchedPerRun = 0;
    let acceptsPerRun = 0;
    try {
      for (let run = 0; run < RUNS; run++) {
        const t0 = performance.now();
        parseSchedulerEvent(parseMesosJson(text));
        parseMs.push(performance.now() - t0);

        const { driver, deliver, sent } = recordingDriver();
        const adapter = createMesosAdapter({
          masters: ['http://127.0.0.1:1'],
          framework: {
            name: 'bench',
            user: 'root',
            roles: ['default'],
            failoverTimeoutSeconds: 60,
            checkpoint: true,
          },
          stateFile: join(dir, `state-${run}.sqlite`),
          reconcileIntervalSeconds: 0,
          clients: { driver },
        });
        await adapter.connect();
        await adapter.submit(docs);
        const t1 = performance.now();
        deliver(parseSchedulerEvent(parseMesosJson(text)));
        acceptMs.push(performance.now() - t1);
        launchedPerRun = sent.launched;
        acceptsPerRun = sent.accepts;
        await adapter.close();
        await driver.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    if (launchedPerRun !== N) throw new Error(`expected ${N} tasks launched per run, got ${launchedPerRun}`);
    // The first runs warm up the JIT; report the steady state.
    const steady = (xs: number[]) => xs.slice(5).sort((a, b) => a - b);
    const p = steady(parseMs);
    const a = steady(acceptMs);
    const p50 = percentile(a, 50);
    const p99 = percentile(a, 99);
    const base50 = percentile(p, 50);
    return [
      { suite: suite.name, name: 'baseline: parse the OFFERS event (p50)', value: base50, unit: 'ms' },
      {
        suite: suite.name,
        name: 'OFFERS → ACCEPT calls (p50)',
        value: p50,
        unit: 'ms',
        ratio: p50 / base50,
        baseline: 'parse the OFFERS event',
      },
      {
        suite: suite.name,
        name: 'OFFERS → ACCEPT calls (p99)',
        value: p99,
        unit: 'ms',
        ratio: p99 / base50,
        baseline: 'parse the OFFERS event',
        goal: '≤ 200 ms',
        notes: `${acceptsPerRun} ACCEPTs launching ${launchedPerRun} tasks per run, ${a.length} runs`,
      },
    ];
  },
};
export default suite;
