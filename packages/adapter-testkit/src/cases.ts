/**
 * The conformance cases, as plain async functions over a {@link ConformanceContext}. The vitest
 * registration in `conformance.ts` wraps them; the suite's own tests call them directly to prove
 * that each one fails, naming the broken behaviour, against a deliberately broken adapter.
 */
import {
  type Capability,
  type ClusterAdapter,
  type ClusterEvent,
  isTerminal,
  type ServiceDocument,
  TASK_STATES,
  type TaskDocument,
  type TaskState,
  type TaskStatus,
} from '@berth/core';
import { type ConformanceCommands, IMPOSSIBLE_REQUEST, type TaskFixtureOptions } from './fixtures.ts';
import { trackHandles } from './handle-tracker.ts';
import type { BackendProbe } from './probe.ts';

export interface ConformanceTimeouts {
  /** How long a task may take to reach an expected state (default 10 000 ms). */
  readonly stateMs: number;
  /** How long a state must hold to count as stable, e.g. an impossible task staying PENDING (default 500 ms). */
  readonly settleMs: number;
}

export interface ConformanceContext {
  readonly probe: BackendProbe;
  readonly commands: ConformanceCommands;
  readonly timeouts: ConformanceTimeouts;
  /** A fresh adapter, connected; the case runner kills what the case started and closes it afterwards. */
  open(): Promise<ClusterAdapter>;
  /** A fresh adapter, not connected and not tracked: the case owns its whole life. */
  create(): Promise<ClusterAdapter>;
  /** A DNS-1123 name unique to this run of this case. */
  name(suffix: string): string;
  task(name: string, opts?: TaskFixtureOptions): TaskDocument;
  service(name: string, replicas: number, opts?: TaskFixtureOptions): ServiceDocument;
  /** Poll until `probe` returns a value; fails naming `what` and the last thing seen. */
  waitFor<T>(
    what: string,
    probe: () => T | undefined | Promise<T | undefined>,
    timeoutMs?: number,
  ): Promise<T>;
  /** Wait until the adapter reports the task in one of `states`. */
  waitForState(
    adapter: ClusterAdapter,
    taskId: string,
    states: readonly TaskState[],
    why: string,
  ): Promise<TaskStatus>;
  /** Fail the case with `message` unless `condition` holds. */
  check(condition: unknown, message: string): asserts condition;
}

export interface ConformanceCase {
  /** Stable id, used as the key of `skip`. */
  readonly id: string;
  readonly title: string;
  /** Capabilities the case needs; it is skipped, with that reason, when the adapter lacks one. */
  readonly requires?: readonly Capability[];
  run(ctx: ConformanceContext): Promise<void>;
}

export function describeStatus(s: TaskStatus | undefined): string {
  if (!s) return 'no such task';
  const parts = [s.state, `raw=${s.rawState}`];
  if (s.reason) parts.push(`reason=${s.reason}`);
  if (s.message) parts.push(`message=${JSON.stringify(s.message)}`);
  if (s.exitCode !== undefined) parts.push(`exitCode=${s.exitCode}`);
  return parts.join(' ');
}

async function one(adapter: ClusterAdapter, taskId: string): Promise<TaskStatus | undefined> {
  const list = await adapter.tasks({ ids: [taskId] });
  return list.find((s) => s.taskId === taskId);
}

const RANK: Readonly<Record<TaskState, number>> = {
  PENDING: 0,
  STAGING: 1,
  STARTING: 2,
  RUNNING: 3,
  UNREACHABLE: 3,
  KILLING: 4,
  FINISHED: 5,
  FAILED: 5,
  KILLED: 5,
  LOST: 5,
  ERROR: 5,
};

export const CONFORMANCE_CASES = [
  {
    id: 'connect-and-list-nodes',
    title: 'connects and lists nodes with their resources',
    async run(ctx: ConformanceContext) {
      const adapter = await ctx.open();
      const snap = await adapter.snapshot();
      ctx.check(
        snap.nodes.length > 0,
        'snapshot() after connect() listed no nodes; the cluster has at least one',
      );
      ctx.check(
        snap.backend === adapter.backend,
        `snapshot().backend is ${snap.backend}, adapter says ${adapter.backend}`,
      );
      for (const n of snap.nodes) {
        ctx.check(
          n.id !== '' && n.hostname !== '',
          `node ${JSON.stringify(n.id)} has an empty id or hostname`,
        );
        ctx.check(n.allocatable.cpu > 0, `node ${n.id} reports no allocatable cpu`);
        ctx.check(n.allocated.fits(n.allocatable), `node ${n.id} has more allocated than allocatable`);
      }
    },
  },
  {
    id: 'submit-runs',
    title: 'runs a submitted task',
    async run(ctx: ConformanceContext) {
      const adapter = await ctx.open();
      const id = ctx.name('run');
      const [result, ...more] = await adapter.submit([ctx.task(id)]);
      ctx.check(
        result && more.length === 0,
        `submit of one Task returned ${more.length + (result ? 1 : 0)} results, not 1`,
      );
      ctx.check(
        result.taskId === id,
        `submit reported task id ${result.taskId}; a Task's id is its name ${id}`,
      );
      ctx.check(
        result.outcome === 'created',
        `first submit of ${id} reported ${result.outcome}, not created`,
      );
      const s = await ctx.waitForState(adapter, id, ['RUNNING'], 'a submitted task never reported RUNNING');
      ctx.check(s.nodeId && s.hostname, `RUNNING task ${id} does not say which node/host it runs on`);
      ctx.check(
        await ctx.probe.isRunning(id),
        `adapter reports ${id} RUNNING but the backend is not running it`,
      );
      ctx.check(
        (await ctx.probe.launchCount(id)) === 1,
        `task ${id} reached the backend ${await ctx.probe.launchCount(id)} times, not once`,
      );
    },
  },
  {
    id: 'resubmit-is-noop',
    title: 'resubmitting the same task is a no-op',
    async run(ctx: ConformanceContext) {
      const adapter = await ctx.open();
      const id = ctx.name('idem');
      const doc = ctx.task(id);
      await adapter.submit([doc]);
      const again = await adapter.submit([doc]);
      const concurrent = await Promise.all([adapter.submit([doc]), adapter.submit([doc])]);
      await ctx.waitForState(adapter, id, ['RUNNING'], 'the task never reported RUNNING');
      const launches = await ctx.probe.launchCount(id);
      ctx.check(
        launches === 1,
        `resubmitting task ${id} launched it ${launches} times on the backend; submit must be idempotent by task id`,
      );
      for (const r of [...again, ...concurrent.flat()]) {
        ctx.check(r.outcome === 'unchanged', `resubmitting task ${id} reported ${r.outcome}, not unchanged`);
      }
      const listed = (await adapter.tasks({ ids: [id] })).filter((s) => s.taskId === id);
      ctx.check(listed.length === 1, `after resubmitting, tasks() lists ${id} ${listed.length} times`);
    },
  },
  {
    id: 'finishing-command',
    title: 'a finishing command ends FINISHED with exit code 0',
    requires: ['commandTasks'],
    async run(ctx: ConformanceContext) {
      const adapter = await ctx.open();
      const id = ctx.name('ok');
      await adapter.submit([ctx.task(id, { command: ctx.commands.finishes })]);
      const s = await ctx.waitForState(adapter, id, TERMINAL, 'a finishing command never ended');
      ctx.check(s.state === 'FINISHED', `a command exiting 0 ended ${describeStatus(s)}, not FINISHED`);
      ctx.check(s.exitCode === 0, `a FINISHED task reports exit code ${String(s.exitCode)}, not 0`);
      ctx.check(s.timestamps.finished !== undefined, `FINISHED task ${id} has no timestamps.finished`);
    },
  },
  {
    id: 'failing-command',
    title: 'a failing command ends FAILED with its exit code and message',
    requires: ['commandTasks'],
    async run(ctx: ConformanceContext) {
      const adapter = await ctx.open();
      const id = ctx.name('fail');
      const { fails, failureExitCode, failureText } = ctx.commands;
      await adapter.submit([ctx.task(id, { command: fails })]);
      const s = await ctx.waitForState(adapter, id, TERMINAL, 'a failing command never ended');
      ctx.check(
        s.state === 'FAILED',
        `a command exiting ${failureExitCode} ended ${describeStatus(s)}, not FAILED`,
      );
      ctx.check(
        s.exitCode === failureExitCode,
        `a FAILED task reports exit code ${String(s.exitCode)}, not the command's ${failureExitCode}`,
      );
      ctx.check(
        s.message?.includes(failureText) || s.message?.includes(String(failureExitCode)),
        `a FAILED task's message ${JSON.stringify(s.message)} explains nothing: it should carry the exit code or stderr (${failureText})`,
      );
    },
  },
  {
    id: 'kill',
    title: 'kill ends a running task KILLED within the grace period',
    async run(ctx: ConformanceContext) {
      const adapter = await ctx.open();
      const id = ctx.name('kill');
      const grace = 1;
      await adapter.submit([ctx.task(id, { killGracePeriodSeconds: grace })]);
      await ctx.waitForState(adapter, id, ['RUNNING'], 'the task to kill never reported RUNNING');
      await adapter.kill(id, { gracePeriodSeconds: grace });
      const s = await ctx.waitFor(
        `kill of ${id} to end KILLED within its ${grace}s grace period`,
        async () => {
          const now = await one(adapter, id);
          if (!now || !isTerminal(now.state)) throw new Error(`still ${describeStatus(now)}`);
          return now;
        },
        grace * 1000 + Math.min(ctx.timeouts.stateMs, 2000),
      );
      ctx.check(s.state === 'KILLED', `a killed task ended ${describeStatus(s)}, not KILLED`);
      ctx.check(
        !(await ctx.probe.isRunning(id)),
        `adapter reports ${id} KILLED but the backend still runs it`,
      );
    },
  },
  {
    id: 'impossible-stays-pending',
    title: 'an impossible task stays PENDING with an explanation',
    async run(ctx: ConformanceContext) {
      const adapter = await ctx.open();
      const id = ctx.name('huge');
      await adapter.submit([ctx.task(id, { requests: IMPOSSIBLE_REQUEST })]);
      const first = await ctx.waitFor(`impossible task ${id} to be listed`, () => one(adapter, id));
      await new Promise((r) => setTimeout(r, ctx.timeouts.settleMs));
      const s = await one(adapter, id);
      ctx.check(
        s?.state === 'PENDING',
        `a task no node can take is ${describeStatus(s)} instead of staying PENDING`,
      );
      ctx.check(
        first.state === 'PENDING',
        `a task no node can take was first ${describeStatus(first)}, not PENDING`,
      );
      ctx.check(
        (s.message ?? '') !== '' || (s.reason ?? '') !== '',
        `impossible task ${id} is PENDING with no reason or message explaining why`,
      );
      ctx.check(!(await ctx.probe.isRunning(id)), `impossible task ${id} is running on the backend`);
    },
  },
  {
    id: 'service-scales',
    title: 'a service scales 1 → 3 → 1',
    requires: ['services'],
    async run(ctx: ConformanceContext) {
      const adapter = await ctx.open();
      const svc = ctx.name('svc');
      await adapter.submit([ctx.service(svc, 1)]);
      const running = async (n: number, what: string) =>
        ctx.waitFor(`service ${svc} to have exactly ${n} RUNNING replicas (${what})`, async () => {
          const all = await adapter.tasks({ service: svc });
          const live = all.filter((s) => !isTerminal(s.state));
          const up = live.filter((s) => s.state === 'RUNNING');
          if (up.length !== n || live.length !== n) {
            throw new Error(
              `${up.length} RUNNING of ${live.length} live: ${live.map((s) => `${s.taskId}=${s.state}`).join(', ')}`,
            );
          }
          return up;
        });
      await running(1, 'after submit');
      await adapter.scale(svc, 3);
      const three = await running(3, 'after scale up to 3');
      for (const s of three)
        ctx.check(await ctx.probe.isRunning(s.taskId), `replica ${s.taskId} is not running on the backend`);
      await adapter.scale(svc, 1);
      const [left] = await running(1, 'after scale down to 1');
      ctx.check(left, 'no replica left after scaling down to 1');
      for (const s of three) {
        if (s.taskId === left.taskId) continue;
        await ctx.waitFor(`scaled-down replica ${s.taskId} to stop on the backend`, async () =>
          (await ctx.probe.isRunning(s.taskId)) ? undefined : true,
        );
      }
    },
  },
  {
    id: 'endpoints',
    title: "endpoints list the running replicas' host and ports",
    requires: ['services', 'serviceDiscovery'],
    async run(ctx: ConformanceContext) {
      const adapter = await ctx.open();
      const svc = ctx.name('ep');
      await adapter.submit([ctx.service(svc, 2, { ports: [{ name: 'http', protocol: 'tcp' }] })]);
      const up = await ctx.waitFor(`service ${svc} to have 2 RUNNING replicas`, async () => {
        const all = (await adapter.tasks({ service: svc })).filter((s) => s.state === 'RUNNING');
        return all.length === 2 ? all : undefined;
      });
      const eps = await ctx.waitFor(`endpoints(${svc}) to list 2 replicas`, async () => {
        const list = await adapter.endpoints(svc);
        if (list.length !== 2) throw new Error(`endpoints: ${JSON.stringify(list)}`);
        return list;
      });
      for (const task of up) {
        const ep = eps.find((e) => e.taskId === task.taskId);
        ctx.check(ep, `endpoints(${svc}) misses running replica ${task.taskId}`);
        const reachableAt = task.address ?? task.hostname;
        ctx.check(
          ep.host === reachableAt,
          `endpoint of ${task.taskId} has host ${ep.host}, but the task's status says its ports are reachable at ${String(reachableAt)} (status.address ?? status.hostname)`,
        );
        const port = ep.ports.http;
        ctx.check(
          port !== undefined && Number.isInteger(port) && port > 0 && port <= 65535,
          `endpoint of ${task.taskId} has no valid 'http' port: ${JSON.stringify(ep.ports)}`,
        );
        ctx.check(
          port === task.ports.http,
          `endpoint of ${task.taskId} lists port http=${port}, the task's status says ${String(task.ports.http)}`,
        );
      }
    },
  },
  {
    id: 'events-in-order',
    title: 'events arrive in order',
    requires: ['events', 'commandTasks'],
    async run(ctx: ConformanceContext) {
      const adapter = await ctx.open();
      const id = ctx.name('ev');
      const ac = new AbortController();
      const seen: ClusterEvent[] = [];
      let resolveDone: () => void = () => {};
      const done = new Promise<void>((r) => {
        resolveDone = r;
      });
      const reader = (async () => {
        for await (const e of adapter.events({ signal: ac.signal })) {
          seen.push(e);
          if (e.taskId === id && e.state !== undefined && isTerminal(e.state)) resolveDone();
        }
      })();
      await adapter.submit([ctx.task(id, { command: ctx.commands.finishes })]);
      try {
        await ctx.waitFor(`a terminal task event for ${id}`, () =>
          Promise.race([
            done.then(() => true),
            new Promise<undefined>((r) => setTimeout(() => r(undefined), 20)),
          ]),
        );
      } finally {
        ac.abort();
        await reader;
      }
      for (let i = 1; i < seen.length; i++) {
        const a = seen[i - 1]!;
        const b = seen[i]!;
        ctx.check(b.seq > a.seq, `events arrived out of order: seq ${b.seq} after ${a.seq}`);
        ctx.check(
          b.at >= a.at,
          `events arrived out of order: event ${b.seq} at ${b.at} is earlier than ${a.seq} at ${a.at}`,
        );
      }
      const states = seen.filter((e) => e.taskId === id && e.state !== undefined).map((e) => e.state!);
      for (let i = 1; i < states.length; i++) {
        ctx.check(
          RANK[states[i]!] >= RANK[states[i - 1]!],
          `task events arrived out of lifecycle order: ${states.join(' → ')}`,
        );
      }
      ctx.check(
        states.at(-1) === 'FINISHED',
        `the last state event of ${id} is ${String(states.at(-1))}, not FINISHED`,
      );
    },
  },
  {
    id: 'close-releases',
    title: 'close releases everything (watches end, no open handles)',
    async run(ctx: ConformanceContext) {
      const handles = trackHandles();
      const adapter = await ctx.create();
      await adapter.connect();
      const watches = [adapter.watchTasks(), adapter.events(), adapter.watchNodes()].map(async (w) => {
        for await (const _ of w) {
          // drain until the adapter closes
        }
      });
      const id = ctx.name('close');
      await adapter.submit([ctx.task(id, { command: ctx.commands.finishes })]);
      await ctx.waitForState(adapter, id, TERMINAL, 'the task never ended');
      await adapter.close();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const ended = await Promise.race([
        Promise.all(watches).then(() => true),
        new Promise<false>((r) => {
          timer = setTimeout(() => r(false), ctx.timeouts.settleMs);
        }),
      ]);
      clearTimeout(timer);
      ctx.check(
        ended,
        `watches were still open ${ctx.timeouts.settleMs} ms after close(); close must end every watch`,
      );
      let open = handles.open();
      for (let waited = 0; open.length > 0 && waited < ctx.timeouts.settleMs; waited += 10) {
        await new Promise((r) => setTimeout(r, 10));
        open = handles.open();
      }
      handles.stop();
      ctx.check(
        open.length === 0,
        `close() leaked handles still open ${ctx.timeouts.settleMs} ms later: ${open.join(', ')}`,
      );
      const after = await adapter.tasks().then(
        () => 'resolved',
        (e: unknown) => (e instanceof Error && e.name === 'BerthError' ? 'berth-error' : 'other-error'),
      );
      ctx.check(after === 'berth-error', `tasks() after close() ${after}; it must reject with a BerthError`);
    },
  },
] as const satisfies readonly ConformanceCase[];

export type ConformanceCaseId = (typeof CONFORMANCE_CASES)[number]['id'];

const TERMINAL: readonly TaskState[] = TASK_STATES.filter(isTerminal);
