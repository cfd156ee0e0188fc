/**
 * The reference `ClusterAdapter`: a thin client of a {@link MemoryCluster}, written the way a real
 * adapter is (dedupe by task id before launching, a heartbeat timer, watches that end on close).
 * It passes the whole conformance suite; CLI and dashboard tests can use it as a fake cluster.
 *
 * `faults` switch on deliberately broken behaviours, one per conformance case, so the suite's own
 * tests prove each case fails for the right reason.
 */
import {
  type BerthDocument,
  BerthError,
  type ClusterAdapter,
  type ClusterEvent,
  type ClusterSnapshot,
  capabilities,
  type Endpoint,
  isTerminal,
  type KillOptions,
  type LogLine,
  type LogOptions,
  type NodeEvent,
  replicaTaskId,
  Subject,
  type SubmitResult,
  type Subscribable,
  type TaskFilter,
  type TaskSpec,
  type TaskStatus,
  type TimerHandle,
  toAsyncIterable,
  type WatchOptions,
  type WatchTasksOptions,
} from '@berth/core';
import { type MemoryCluster, type MemoryLaunch, unknownTask } from './memory-cluster.ts';

export const MEMORY_ADAPTER_FAULTS = [
  'no-nodes',
  'never-running',
  'duplicate-launch',
  'finish-without-exit-code',
  'fail-without-details',
  'kill-ignored',
  'pending-without-reason',
  'scale-down-ignored',
  'endpoints-wrong-ports',
  'events-out-of-order',
  'leak-timer-on-close',
  'watch-survives-close',
] as const;

export type MemoryAdapterFault = (typeof MEMORY_ADAPTER_FAULTS)[number];

export interface MemoryAdapterOptions {
  readonly cluster: MemoryCluster;
  /** How often the adapter checks on its backend (default 1000 ms). */
  readonly heartbeatMs?: number;
  /** Deliberately broken behaviours; for testing conformance suites only. */
  readonly faults?: readonly MemoryAdapterFault[];
}

const COMPONENT = 'memory-adapter';

function specKey(spec: TaskSpec): string {
  return JSON.stringify(spec);
}

function matches(s: TaskStatus, f: TaskFilter | undefined): boolean {
  if (!f) return true;
  if (f.ids && !f.ids.includes(s.taskId)) return false;
  if (f.service !== undefined && s.service !== f.service) return false;
  if (f.states && !f.states.includes(s.state)) return false;
  return true;
}

function filtered<T>(source: Subscribable<T>, keep: (v: T) => boolean): Subscribable<T> {
  return {
    subscribe: (observer) => {
      const o = typeof observer === 'function' ? { next: observer } : observer;
      return source.subscribe({ next: (v) => keep(v) && o.next(v), complete: () => o.complete?.() });
    },
  };
}

export function createMemoryAdapter(options: MemoryAdapterOptions): ClusterAdapter {
  const { cluster } = options;
  const faults: ReadonlySet<MemoryAdapterFault> = new Set(options.faults ?? []);
  const heartbeatMs = options.heartbeatMs ?? 1000;
  const taskSubject = new Subject<TaskStatus>();
  const eventSubject = new Subject<ClusterEvent>();
  const nodeSubject = new Subject<NodeEvent>();
  const closing = new AbortController();
  let state: 'new' | 'connected' | 'closed' = 'new';
  let unsubscribe: (() => void) | undefined;
  let heartbeat: TimerHandle | undefined;
  let seq = 0;
  let held: ClusterEvent | undefined;

  const translate = (s: TaskStatus): TaskStatus => {
    if (faults.has('never-running') && s.state === 'RUNNING') return { ...s, state: 'STARTING' };
    if (faults.has('finish-without-exit-code') && s.state === 'FINISHED') {
      const { exitCode: _, ...rest } = s;
      return rest;
    }
    if (faults.has('fail-without-details') && s.state === 'FAILED') {
      const { exitCode: _, message: __, ...rest } = s;
      return rest;
    }
    if (faults.has('pending-without-reason') && s.state === 'PENDING') {
      const { reason: _, message: __, ...rest } = s;
      return rest;
    }
    return s;
  };

  const ready = (op: string) => {
    if (state === 'connected') return;
    throw new BerthError(
      'BACKEND_UNAVAILABLE',
      state === 'closed' ? `${op}: the adapter is closed` : `${op}: the adapter is not connected`,
      { component: COMPONENT, hint: state === 'closed' ? 'Create a new adapter.' : 'Call connect() first.' },
    );
  };

  const beat = () => {
    heartbeat = cluster.clock.setTimeout(beat, heartbeatMs);
  };

  const status = (taskId: string): TaskStatus => {
    const s = cluster.status(taskId);
    if (!s) throw unknownTask(taskId);
    return translate(s);
  };

  /** Expand documents into launches; validates the whole batch before anything is sent. */
  const expand = (documents: readonly BerthDocument[]) => {
    const launches: (MemoryLaunch & { document: string })[] = [];
    const services: { name: string; template: TaskSpec; replicas: number }[] = [];
    for (const doc of documents) {
      const document = `${doc.kind}/${doc.metadata.name}`;
      if (doc.kind === 'Task') launches.push({ taskId: doc.metadata.name, spec: doc.spec, document });
      else if (doc.kind === 'Service') {
        services.push({ name: doc.metadata.name, template: doc.spec.template, replicas: doc.spec.replicas });
        for (let i = 0; i < doc.spec.replicas; i++) {
          const taskId = replicaTaskId(doc.metadata.name, i);
          launches.push({ taskId, spec: doc.spec.template, service: doc.metadata.name, document });
        }
      } else {
        if (doc.spec.gang) {
          throw new BerthError(
            'UNSUPPORTED',
            `${document}: gang scheduling is not supported by the memory adapter`,
            {
              component: COMPONENT,
              hint: 'Set spec.gang to false, or use an adapter with the gang capability.',
            },
          );
        }
        for (let i = 0; i < doc.spec.parallelism; i++) {
          launches.push({ taskId: replicaTaskId(doc.metadata.name, i), spec: doc.spec.template, document });
        }
      }
    }
    const seen = new Map<string, string>();
    for (const l of launches) {
      const key = specKey(l.spec);
      const prev = seen.get(l.taskId);
      if (prev !== undefined && prev !== key) {
        throw new BerthError(
          'SPEC_INVALID',
          `task id ${l.taskId} appears twice in one submit with different specs`,
          {
            component: COMPONENT,
            hint: 'Give each Task, Service and Job a distinct metadata.name.',
          },
        );
      }
      seen.set(l.taskId, key);
    }
    return { launches, services };
  };

  const adapter: ClusterAdapter = {
    name: 'memory',
    backend: 'memory',
    capabilities: capabilities(
      'logs',
      'services',
      'serviceDiscovery',
      'commandTasks',
      'killGracePeriod',
      'nodeWatch',
      'events',
    ),

    async connect() {
      if (state === 'connected') return;
      if (state === 'closed') ready('connect');
      state = 'connected';
      const offStatus = cluster.statuses.subscribe((s) => taskSubject.emit(translate(s)));
      const offEvents = cluster.events.subscribe((e) => {
        const event: ClusterEvent = { ...e, seq: ++seq };
        if (!faults.has('events-out-of-order')) {
          eventSubject.emit(event);
        } else if (held === undefined) {
          held = event;
        } else {
          eventSubject.emit(event);
          eventSubject.emit(held);
          held = undefined;
        }
      });
      unsubscribe = () => {
        offStatus();
        offEvents();
      };
      beat();
    },

    async close() {
      if (state === 'closed') return;
      state = 'closed';
      unsubscribe?.();
      unsubscribe = undefined;
      if (heartbeat !== undefined && !faults.has('leak-timer-on-close'))
        cluster.clock.clearTimeout(heartbeat);
      if (!faults.has('watch-survives-close')) {
        closing.abort();
        taskSubject.complete();
        eventSubject.complete();
        nodeSubject.complete();
      }
    },

    async [Symbol.asyncDispose]() {
      await adapter.close();
    },

    async snapshot(): Promise<ClusterSnapshot> {
      ready('snapshot');
      return {
        backend: 'memory',
        takenAt: cluster.clock.now(),
        nodes: faults.has('no-nodes') ? [] : cluster.nodes(),
        allocations: cluster.allocations(),
      };
    },

    watchNodes(opts: WatchOptions = {}) {
      return toAsyncIterable(nodeSubject, { signal: opts.signal });
    },

    async submit(documents) {
      ready('submit');
      const { launches, services } = expand(documents);
      for (const s of services) cluster.services.set(s.name, { template: s.template, replicas: s.replicas });
      const results: SubmitResult[] = [];
      for (const l of launches) {
        const existing = cluster.launchSpec(l.taskId);
        const { document, ...launch } = l;
        if (existing && !faults.has('duplicate-launch')) {
          const outcome = specKey(existing.spec) === specKey(l.spec) ? 'unchanged' : 'conflict';
          results.push({ taskId: l.taskId, document, outcome, status: status(l.taskId) });
          continue;
        }
        cluster.launch(launch);
        results.push({ taskId: l.taskId, document, outcome: 'created', status: status(l.taskId) });
      }
      return results;
    },

    async kill(taskId, opts: KillOptions = {}) {
      ready('kill');
      const s = status(taskId);
      const grace = opts.gracePeriodSeconds ?? cluster.launchSpec(taskId)?.spec.killGracePeriodSeconds ?? 30;
      if (!Number.isFinite(grace) || grace < 0) {
        throw new BerthError(
          'SPEC_INVALID',
          `kill ${taskId}: gracePeriodSeconds must be >= 0, got ${grace}`,
          {
            component: COMPONENT,
          },
        );
      }
      if (isTerminal(s.state) || faults.has('kill-ignored')) return;
      cluster.kill(taskId, grace);
    },

    async tasks(filter) {
      ready('tasks');
      return cluster
        .all()
        .map(translate)
        .filter((s) => matches(s, filter));
    },

    watchTasks(opts: WatchTasksOptions = {}) {
      const initial = opts.initial && state === 'connected' ? cluster.all().map(translate) : [];
      return toAsyncIterable(
        filtered(taskSubject, (s) => matches(s, opts.filter)),
        { signal: opts.signal, initial: initial.filter((s) => matches(s, opts.filter)) },
      );
    },

    async scale(service, replicas) {
      ready('scale');
      const svc = cluster.services.get(service);
      if (!svc) {
        throw new BerthError('NOT_FOUND', `service ${service} does not exist`, {
          component: COMPONENT,
          hint: 'Submit a Service document first.',
        });
      }
      if (!Number.isInteger(replicas) || replicas < 0) {
        throw new BerthError(
          'SPEC_INVALID',
          `scale ${service}: replicas must be an integer >= 0, got ${replicas}`,
          {
            component: COMPONENT,
          },
        );
      }
      const before = svc.replicas;
      svc.replicas = replicas;
      for (let i = 0; i < replicas; i++) {
        const taskId = replicaTaskId(service, i);
        const s = cluster.status(taskId);
        if (!s || isTerminal(s.state)) cluster.launch({ taskId, spec: svc.template, service });
      }
      if (!faults.has('scale-down-ignored')) {
        for (let i = Math.max(before, replicas) - 1; i >= replicas; i--) {
          cluster.kill(replicaTaskId(service, i), svc.template.killGracePeriodSeconds);
        }
      }
      cluster.events.emit({
        at: cluster.clock.now(),
        level: 'info',
        kind: 'Scaled',
        message: `scaled ${service} from ${before} to ${replicas} replicas`,
        service,
      });
    },

    async endpoints(service) {
      ready('endpoints');
      if (!cluster.services.has(service)) {
        throw new BerthError('NOT_FOUND', `service ${service} does not exist`, { component: COMPONENT });
      }
      const shift = faults.has('endpoints-wrong-ports') ? 1 : 0;
      return cluster
        .all()
        .filter((s) => s.service === service && s.state === 'RUNNING')
        .map(
          (s): Endpoint => ({
            taskId: s.taskId,
            nodeId: s.nodeId ?? '',
            host: s.hostname ?? '',
            ports: Object.fromEntries(Object.entries(s.ports).map(([k, v]) => [k, v + shift])),
          }),
        );
    },

    logs(taskId, opts: LogOptions = {}): AsyncIterable<LogLine> {
      ready('logs');
      const source = cluster.logs(taskId);
      if (!source) throw unknownTask(taskId);
      const want = opts.stream ?? 'both';
      const keep = (l: LogLine) => want === 'both' || l.stream === want;
      const past = source.lines.filter(keep);
      const initial =
        opts.tailLines === undefined ? past : past.slice(Math.max(0, past.length - opts.tailLines));
      if (!opts.follow)
        return toAsyncIterable(new Subject<LogLine>(), { signal: AbortSignal.abort(), initial });
      const signal = opts.signal
        ? AbortSignal.any([closing.signal, opts.signal as AbortSignal])
        : closing.signal;
      return toAsyncIterable(filtered(source.live, keep), { signal, initial });
    },

    events(opts: WatchOptions = {}) {
      return toAsyncIterable(eventSubject, { signal: opts.signal });
    },
  };
  return adapter;
}
