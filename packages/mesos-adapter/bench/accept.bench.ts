/**
 * One OFFERS event of 1,000 offers (from 1,000 devcluster agents) with 1,000 pending tasks: the
 * time from the event's bytes to the last ACCEPT call sent to the devcluster master — parse,
 * snapshot, placement, the write-ahead claim in the state store (one SQLite transaction), TaskInfo
 * building, serialising the ACCEPT bodies and writing them to the master's sockets.
 *
 * Each round is a fresh adapter (new state file, new framework) built exactly as in production,
 * subscribed to a devcluster master that runs in a child process (`devcluster-master.ts`), so the
 * master's handling of the ACCEPTs does not run on the event loop being timed. The adapter's OFFERS
 * event from the master is held back until its 1,000 tasks are submitted, then replayed from its
 * JSON text: the clock starts before the parse. "Sent" is undici's `bodySent` of the last ACCEPT
 * request; the time until the master answered every ACCEPT (202) is reported beside it. Each round
 * ends with TEARDOWN so the next framework gets every agent again. Baseline in the same run:
 * parsing the same OFFERS event alone.
 *
 * Allocation: V8's heap in use at the start and at the end of a window, plus what each garbage
 * collection in between freed (`v8.GCProfiler`), is what the window allocated; reported for the
 * handling of the event (parse to the last ACCEPT handed to its socket: the synchronous part of
 * "sent") and until every ACCEPT is answered. A GC inside the window is what allocation costs in
 * the tail.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GCProfiler, getHeapStatistics } from 'node:v8';
import { API_VERSION, Resources, type TaskDocument } from '@berth/core';
import type { BenchRow, BenchSuite } from '../../../bench/types.ts';
import { parseMesosJson } from '../src/json.ts';
import { createMesosAdapter } from '../src/mesos-adapter.ts';
import type { Offer } from '../src/proto/common.ts';
import { parseSchedulerEvent } from '../src/proto/parse.ts';
import type { SchedulerEvent } from '../src/proto/scheduler.ts';

const N = 1000;
const ROUNDS = Number(process.env.BERTH_BENCH_ROUNDS ?? '105');
/** The first rounds warm up the JIT; the steady state is reported. */
const WARMUP = 5;
const GiB = 1024 ** 3;

/** The devcluster master in a child process; resolves once it listens. */
async function startMaster(): Promise<{ url: string; child: ChildProcess }> {
  const child = fork(new URL('./devcluster-master.ts', import.meta.url), {
    env: { ...process.env, BERTH_BENCH_AGENTS: String(N) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    child.once('message', (m) => resolve((m as { url: string }).url));
    child.once('exit', (code) => reject(new Error(`the devcluster master exited (${code})`)));
  });
  return { url, child };
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

/** Requests whose body is a scheduler ACCEPT call, as undici hands them to the socket. */
function isAccept(request: { method?: string; path?: string; body?: unknown }): boolean {
  if (request.method !== 'POST' || request.path !== '/api/v1/scheduler') return false;
  const body = request.body;
  const head =
    typeof body === 'string'
      ? body.slice(0, 200)
      : Buffer.isBuffer(body)
        ? body.toString('utf8', 0, 200)
        : '';
  return head.includes('"type":"ACCEPT"');
}

interface Round {
  /** The baseline: parsing the same OFFERS text alone, just before and just after the round (mean). */
  readonly parseMs: number;
  readonly sentMs: number;
  /** Until the adapter's event handler returned (the ACCEPTs are in the sockets' buffers by then). */
  readonly syncMs: number;
  readonly answeredMs: number;
  readonly accepts: number;
  readonly launched: number;
  /** Bytes allocated while the event is handled (parse to the last ACCEPT handed to the socket). */
  readonly syncAllocatedBytes: number;
  /** Garbage collections while the event is handled. */
  readonly syncGcs: number;
  /** Bytes allocated from the parse until every ACCEPT was answered. */
  readonly allocatedBytes: number;
  /** Garbage collections in that window. */
  readonly gcs: number;
}

async function round(masterUrl: string, stateFile: string, docs: readonly TaskDocument[]): Promise<Round> {
  const adapter = createMesosAdapter({
    masters: [masterUrl],
    framework: {
      name: 'bench',
      user: 'root',
      roles: ['default'],
      failoverTimeoutSeconds: 60,
      checkpoint: true,
    },
    stateFile,
    reconcileIntervalSeconds: 0,
  });
  const { driver } = adapter.getClient();

  // Hold the master's OFFERS back until the tasks are submitted; everything else flows through.
  const held: Offer[] = [];
  let holding = true;
  let gotOffers: () => void = () => {};
  const offered = new Promise<void>((resolve) => {
    gotOffers = resolve;
  });
  let listener: ((e: SchedulerEvent) => void) | undefined;
  const subscribeEvents = driver.subscribe.bind(driver);
  driver.subscribe = (l) => {
    listener = l;
    return subscribeEvents((e) => {
      if (e.type === 'OFFERS' && holding) {
        held.push(...(e.offers.offers ?? []));
        if (held.length >= N) gotOffers();
        return;
      }
      l(e);
    });
  };

  // Count the ACCEPTs the adapter hands to the driver, and when each is answered.
  const acceptCalls: Promise<void>[] = [];
  let launched = 0;
  let failed = 0;
  const accept = driver.accept.bind(driver);
  driver.accept = (offerIds, operations, filters) => {
    for (const op of operations) launched += op.launch?.task_infos?.length ?? 0;
    const p = accept(offerIds, operations, filters);
    acceptCalls.push(
      p.catch(() => {
        failed++;
      }),
    );
    return p;
  };

  await adapter.connect();
  await adapter.submit(docs);
  await offered;
  holding = false;
  const text = JSON.stringify({ type: 'OFFERS', offers: { offers: held } });

  let sent = 0;
  let lastSentAt = 0;
  const onBodySent = (message: unknown) => {
    if (!isAccept((message as { request: { method?: string; path?: string; body?: unknown } }).request))
      return;
    sent++;
    lastSentAt = performance.now();
  };
  const tb = performance.now();
  parseSchedulerEvent(parseMesosJson(text));
  const parseBefore = performance.now() - tb;
  subscribe('undici:request:bodySent', onBodySent);
  const gcProfiler = new GCProfiler();
  gcProfiler.start();
  const heapBefore = getHeapStatistics().used_heap_size;
  const t0 = performance.now();
  listener!(parseSchedulerEvent(parseMesosJson(text)));
  const syncMs = performance.now() - t0;
  const heapSync = getHeapStatistics().used_heap_size;
  const syncGcs = gcProfiler.stop()?.statistics ?? [];
  const restProfiler = new GCProfiler();
  restProfiler.start();
  const expected = acceptCalls.length;
  await Promise.all(acceptCalls);
  const answeredAt = performance.now();
  const heapAfter = getHeapStatistics().used_heap_size;
  const restGcs = restProfiler.stop()?.statistics ?? [];
  const freed = (gcs: typeof syncGcs) =>
    gcs.reduce(
      (sum, gc) => sum + gc.beforeGC.heapStatistics.usedHeapSize - gc.afterGC.heapStatistics.usedHeapSize,
      0,
    );
  unsubscribe('undici:request:bodySent', onBodySent);
  // More sent than made would be retries (they only make the last one later); fewer, or a failed
  // ACCEPT, makes the round meaningless.
  if (sent < expected || failed > 0) {
    throw new Error(`${sent} of ${expected} ACCEPT requests sent, ${failed} failed`);
  }
  const t1 = performance.now();
  parseSchedulerEvent(parseMesosJson(text));
  const parseMs = (parseBefore + performance.now() - t1) / 2;
  await driver.teardown();
  await adapter.close();
  // Calls written inside the adapter's batch leave the process when it returns (uncork): never
  // report a time before that.
  return {
    parseMs,
    sentMs: Math.max(lastSentAt - t0, syncMs),
    syncMs,
    answeredMs: answeredAt - t0,
    accepts: expected,
    launched,
    syncAllocatedBytes: heapSync - heapBefore + freed(syncGcs),
    allocatedBytes: heapAfter - heapBefore + freed(syncGcs) + freed(restGcs),
    syncGcs: syncGcs.length,
    gcs: syncGcs.length + restGcs.length,
  };
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const suite: BenchSuite = {
  name: 'mesos-accept',
  description:
    'OFFERS of 1,000 devcluster agents with 1,000 pending tasks → ACCEPT calls sent to the master, next to parsing the event',
  async run() {
    const { url, child } = await startMaster();
    const dir = mkdtempSync(join(tmpdir(), 'berth-accept-bench-'));
    const docs = documents();
    const rounds: Round[] = [];
    try {
      for (let i = 0; i < ROUNDS; i++) {
        const r = await round(url, join(dir, `state-${i}.sqlite`), docs);
        if (r.launched !== N) throw new Error(`round ${i}: expected ${N} tasks launched, got ${r.launched}`);
        rounds.push(r);
      }
    } finally {
      child.disconnect();
      rmSync(dir, { recursive: true, force: true });
    }
    return summarise(rounds);
  },
};

function summarise(rounds: readonly Round[]): BenchRow[] {
  const steady = (xs: number[]) => xs.slice(WARMUP).sort((a, b) => a - b);
  const sent = steady(rounds.map((r) => r.sentMs));
  const answered = steady(rounds.map((r) => r.answeredMs));
  const sync = steady(rounds.map((r) => r.syncMs));
  const base = steady(rounds.map((r) => r.parseMs));
  const base50 = percentile(base, 50);
  const allocated = steady(rounds.map((r) => r.allocatedBytes / 1024 ** 2));
  const gcs = steady(rounds.map((r) => r.gcs));
  const syncAllocated = steady(rounds.map((r) => r.syncAllocatedBytes / 1024 ** 2));
  const syncGcs = steady(rounds.map((r) => r.syncGcs));
  const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const row = (name: string, value: number, extra: Partial<BenchRow> = {}): BenchRow => ({
    suite: suite.name,
    name,
    value,
    unit: 'ms',
    ratio: value / base50,
    baseline: 'parse the OFFERS event (p50)',
    ...extra,
  });
  const last = rounds.at(-1)!;
  return [
    { suite: suite.name, name: 'baseline: parse the OFFERS event (p50)', value: base50, unit: 'ms' },
    row('OFFERS → ACCEPT calls sent (p50)', percentile(sent, 50)),
    row('OFFERS → ACCEPT calls sent (p90)', percentile(sent, 90)),
    row('OFFERS → ACCEPT calls sent (p99)', percentile(sent, 99), {
      goal: '≤ 200 ms',
      notes: `${last.accepts} ACCEPTs launching ${last.launched} tasks per round, ${sent.length} rounds after ${WARMUP} warm-up; max ${sent.at(-1)!.toFixed(1)} ms`,
    }),
    row('OFFERS handled, event handler returned (p99)', percentile(sync, 99)),
    row('OFFERS → every ACCEPT answered 202 (p99)', percentile(answered, 99)),
    {
      suite: suite.name,
      name: 'MB allocated handling the OFFERS event, until it returns (p50)',
      value: percentile(syncAllocated, 50),
      unit: 'MB',
      notes: `p90 ${percentile(syncAllocated, 90).toFixed(1)} MB`,
    },
    {
      suite: suite.name,
      name: 'garbage collections handling the OFFERS event (mean)',
      value: mean(syncGcs),
      unit: 'GCs',
      notes: `max ${syncGcs.at(-1)}`,
    },
    {
      suite: suite.name,
      name: 'MB allocated from the parse until every ACCEPT is answered (p50)',
      value: percentile(allocated, 50),
      unit: 'MB',
      notes: `p90 ${percentile(allocated, 90).toFixed(1)} MB`,
    },
    {
      suite: suite.name,
      name: 'garbage collections from the parse until every ACCEPT is answered (mean)',
      value: mean(gcs),
      unit: 'GCs',
      notes: `max ${gcs.at(-1)}`,
    },
  ];
}
export default suite;
