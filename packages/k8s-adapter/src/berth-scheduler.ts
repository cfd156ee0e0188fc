/**
 * Berth scheduler mode: a Kubernetes scheduler whose placement is Berth's engine. It watches pods
 * with `spec.schedulerName: berth` that are not bound, places them in batches with core placement
 * on the informer snapshot plus the pods it has bound but not yet seen bound (kube-scheduler's
 * "assumed" pods), and POSTs `pods/binding`. A pod no node can take gets `PodScheduled=False`
 * (reason Unschedulable, message = the engine's explanation, as `berth plan` prints it) and a
 * FailedScheduling Event. When the profile's post-filter proposes victims, they are evicted through
 * the Eviction API and the pod gets `status.nominatedNodeName`. Gang jobs are bound all-or-nothing.
 * Only the holder of a coordination.k8s.io Lease schedules.
 */
import {
  BerthError,
  BUILT_IN_PROFILES,
  type BuiltInProfileName,
  type Clock,
  createPlacementTask,
  defaultRegistry,
  type JsonValue,
  type PermitPlugin,
  type PlacementProfile,
  type PlacementTask,
  type PluginRegistry,
  place,
  sleep,
  status,
  systemClock,
  type UnplaceableExplanation,
} from '@berth/core';
import type { KubeConfig } from '@kubernetes/client-node';
import { chooseApiVersions, type DiscoveredGroup } from './api-versions.ts';
import { ClusterCache } from './cluster-cache.ts';
import { KubeClient, seg } from './kube-client.ts';
import { httpStatusOf } from './kube-errors.ts';
import { type LeaderElectionOptions, LeaderElector } from './leader-election.ts';
import { BERTH_SCHEDULER_NAME } from './object-mapping.ts';
import { LABELS, type PodRecord } from './records.ts';

export interface BerthSchedulerOptions {
  /** Where to connect (ignored when `client` is given). */
  readonly kubeConfig?: KubeConfig;
  /** Share the adapter's client. */
  readonly client?: KubeClient;
  /** Share an already started cache (the adapter's); otherwise the scheduler runs its own. */
  readonly cache?: ClusterCache;
  /** Pods whose `spec.schedulerName` is this are Berth's (default `berth`). */
  readonly schedulerName?: string;
  /** Placement profile (default `kubernetes-default`). */
  readonly profile?: PlacementProfile | BuiltInProfileName;
  readonly registry?: PluginRegistry;
  /**
   * Preemption through core's `DefaultPreemption` post-filter, added to a profile that has none
   * (default on; an object gives its args: `disruptionBudgets`, `budgetMode`). `false`: never evict.
   */
  readonly preemption?:
    | boolean
    | {
        readonly disruptionBudgets?: Readonly<
          Record<string, { maxUnavailable: number; unavailable?: number }>
        >;
        readonly budgetMode?: 'strict' | 'prefer';
      };
  readonly seed?: number;
  /** `false` schedules without a Lease (one scheduler only!); default: elect over `kube-system/berth-scheduler`. */
  readonly leaderElection?: false | LeaderElectionOptions;
  /**
   * Binding POSTs in flight at once over the keep-alive connection pool of the scheduler's own
   * client (default 64; ignored when `client` is given: that client's concurrency applies).
   */
  readonly bindConcurrency?: number;
  /** Most pods placed per cycle (default 2000). */
  readonly batchSize?: number;
  /** How long an unschedulable pod waits before it is tried again without a cluster change (default 5 s). */
  readonly retryUnschedulableMs?: number;
  readonly clock?: Clock;
  /** Failures the scheduler recovers from (a binding refused, an event not written). */
  readonly onError?: (error: BerthError) => void;
}

export interface BerthSchedulerStats {
  readonly cycles: number;
  readonly bound: number;
  readonly bindFailures: number;
  readonly unschedulable: number;
  readonly evictions: number;
  readonly queued: number;
}

export interface BerthScheduler extends AsyncDisposable {
  readonly isLeader: boolean;
  readonly cache: ClusterCache;
  stats(): BerthSchedulerStats;
  /** Resolves once the queue is empty and no binding is in flight (tests and benchmarks). */
  idle(): Promise<void>;
  close(): Promise<void>;
}

/** Permit plugin: a gang's tasks wait until all its members are reserved, then all are allowed. */
function gangPermit(needed: ReadonlyMap<string, number>): PermitPlugin {
  return {
    name: 'BerthGang',
    permit(ctx, _node, waiting) {
      const group = ctx.task.group;
      if (group === undefined) return undefined;
      const want = needed.get(group) ?? 1;
      const members = waiting.list().filter((w) => w.task.group === group);
      if (members.length + 1 < want)
        return status('Wait', `gang ${group}: ${members.length + 1}/${want} placed`);
      for (const m of members) waiting.allow(m.task.id);
      return undefined;
    },
  };
}

const isPending = (p: PodRecord, schedulerName: string) =>
  p.schedulerName === schedulerName &&
  p.nodeName === undefined &&
  p.deletionTimestamp === undefined &&
  !p.terminated;

export async function startBerthScheduler(options: BerthSchedulerOptions): Promise<BerthScheduler> {
  const clock = options.clock ?? systemClock;
  let ownClient = false;
  let client = options.client;
  if (client === undefined) {
    if (options.kubeConfig === undefined) {
      throw new BerthError('SPEC_INVALID', 'startBerthScheduler needs `kubeConfig` or `client`', {
        component: 'k8s-adapter',
        hint: 'Pass a KubeConfig (new KubeConfig().loadFromDefault()) or the adapter client (adapter.getClient()).',
      });
    }
    const concurrency = options.bindConcurrency ?? 64;
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new BerthError('SPEC_INVALID', `bindConcurrency must be a positive integer, not ${concurrency}`, {
        component: 'k8s-adapter',
        hint: 'Pass e.g. bindConcurrency: 64 (binding POSTs in flight at once).',
      });
    }
    client = new KubeClient(options.kubeConfig, { clock, concurrency });
    ownClient = true;
  }
  const kube = client;
  const onError = options.onError ?? (() => {});
  const schedulerName = options.schedulerName ?? BERTH_SCHEDULER_NAME;
  const batchSize = options.batchSize ?? 2000;
  const retryMs = options.retryUnschedulableMs ?? 5000;
  const profile = withPreemption(options.profile ?? 'kubernetes-default', options.preemption ?? true);
  const ownCache = options.cache === undefined;
  const cache = options.cache ?? new ClusterCache({ client: kube, clock, onError });
  if (ownCache) await cache.start();

  const groups = (await kube.request<{ groups?: DiscoveredGroup[] }>('GET', '/apis')).groups ?? [];
  const policy = chooseApiVersions(groups).policy ?? 'v1';

  const baseRegistry = options.registry ?? defaultRegistry();
  const queue = new Map<string, PodRecord>();
  /** uid → when it may be tried again. */
  const parked = new Map<string, number>();
  const inFlight = new Set<string>();
  let cycles = 0;
  let bound = 0;
  let bindFailures = 0;
  let unschedulable = 0;
  let evictions = 0;
  let closed = false;
  let leader = options.leaderElection === false;
  let wake: (() => void) | undefined;
  const idleWaiters: (() => void)[] = [];
  const kick = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const unpark = () => {
    if (parked.size === 0) return;
    parked.clear();
    kick();
  };

  for (const p of cache.podList()) if (isPending(p, schedulerName)) queue.set(p.uid, p);
  const offPods = cache.onPod({
    add(p) {
      if (isPending(p, schedulerName)) {
        queue.set(p.uid, p);
        kick();
      }
    },
    update(old, p) {
      if (isPending(p, schedulerName)) {
        queue.set(p.uid, p);
        kick();
      } else {
        queue.delete(p.uid);
        parked.delete(p.uid);
        nominated.delete(p.uid);
        if (!old.terminated && p.terminated) unpark();
      }
    },
    delete(p) {
      queue.delete(p.uid);
      parked.delete(p.uid);
      nominated.delete(p.uid);
      if (p.nodeName !== undefined) unpark();
    },
  });
  const offNodes = cache.onNode({ add: unpark, update: unpark, delete: unpark });

  const elector =
    options.leaderElection === false ? undefined : new LeaderElector(kube, options.leaderElection, clock);
  elector?.start((isLeader) => {
    leader = isLeader;
    kick();
  });

  /** uid → the node its preemption freed room on (kept until the pod is bound or gone). */
  const nominated = new Map<string, string>();
  /**
   * kube-scheduler's PodEligibleToPreemptOthers: a pod whose earlier victims on its nominated node
   * are still terminating waits for them instead of evicting again (nothing is evicted twice).
   */
  const mayPreempt = (p: PodRecord): boolean => {
    const node = nominated.get(p.uid) ?? p.nominatedNodeName;
    if (node === undefined) return true;
    for (const q of cache.podsOn(node))
      if (q.deletionTimestamp !== undefined && !q.terminated && q.priority < p.priority) return false;
    return true;
  };

  const podPath = (p: PodRecord) => `/api/v1/namespaces/${seg(p.namespace)}/pods/${seg(p.name)}`;

  const bind = async (p: PodRecord, node: string): Promise<void> => {
    try {
      await kube.request('POST', `${podPath(p)}/binding`, {
        body: {
          apiVersion: 'v1',
          kind: 'Binding',
          metadata: { name: p.name, namespace: p.namespace, uid: p.uid },
          target: { apiVersion: 'v1', kind: 'Node', name: node },
        },
      });
      bound++;
    } catch (error) {
      cache.forget(p.uid);
      const e = error as BerthError;
      // 409 "already assigned": someone bound it (a previous leader): never bind twice, never retry.
      if (httpStatusOf(e) !== 409 && httpStatusOf(e) !== 404) {
        bindFailures++;
        onError(e);
        parked.set(p.uid, clock.now() + 200);
      }
    }
  };

  const reportUnschedulable = async (p: PodRecord, explanation: UnplaceableExplanation): Promise<void> => {
    const message = explanation.message;
    const current = p.status.conditions?.find((c) => c.type === 'PodScheduled');
    if (current?.status === 'False' && current.reason === 'Unschedulable' && current.message === message)
      return;
    const now = new Date(clock.now()).toISOString().replace(/\.\d+Z$/, 'Z');
    try {
      await kube.request('PATCH', `${podPath(p)}/status`, {
        contentType: 'application/strategic-merge-patch+json',
        body: {
          status: {
            conditions: [
              {
                type: 'PodScheduled',
                status: 'False',
                reason: 'Unschedulable',
                message,
                lastProbeTime: null,
                lastTransitionTime: now,
              },
            ],
          },
        },
      });
      await kube.request('POST', `/api/v1/namespaces/${seg(p.namespace)}/events`, {
        body: {
          apiVersion: 'v1',
          kind: 'Event',
          metadata: {
            name: `${p.name}.${clock.now().toString(16)}${Math.random().toString(16).slice(2, 6)}`,
            namespace: p.namespace,
          },
          involvedObject: { apiVersion: 'v1', kind: 'Pod', name: p.name, namespace: p.namespace, uid: p.uid },
          reason: 'FailedScheduling',
          message,
          type: 'Warning',
          source: { component: schedulerName },
          reportingComponent: schedulerName,
          firstTimestamp: now,
          lastTimestamp: now,
          count: 1,
        },
      });
    } catch (error) {
      if (httpStatusOf(error) !== 404) onError(error as BerthError);
    }
  };

  const preempt = async (p: PodRecord, node: string, victims: readonly string[]): Promise<void> => {
    try {
      await kube.request('PATCH', `${podPath(p)}/status`, {
        contentType: 'application/merge-patch+json',
        body: { status: { nominatedNodeName: node } },
      });
      for (const v of victims) {
        const [ns, name] = v.includes('/') ? (v.split('/') as [string, string]) : [p.namespace, v];
        try {
          await kube.request('POST', `/api/v1/namespaces/${seg(ns)}/pods/${seg(name)}/eviction`, {
            body: {
              apiVersion: `policy/${policy}`,
              kind: 'Eviction',
              metadata: { name, namespace: ns },
            },
          });
          evictions++;
        } catch (error) {
          if (httpStatusOf(error) !== 404) onError(error as BerthError);
        }
      }
    } catch (error) {
      if (httpStatusOf(error) !== 404) onError(error as BerthError);
    }
  };

  const cycle = async (): Promise<boolean> => {
    const now = clock.now();
    const candidates: PodRecord[] = [];
    for (const p of queue.values()) {
      if (inFlight.has(p.uid) || cache.isAssumed(p.uid)) continue;
      const until = parked.get(p.uid);
      if (until !== undefined && until > now) continue;
      candidates.push(p);
      if (candidates.length >= batchSize) break;
    }
    if (candidates.length === 0) return false;
    cycles++;
    // Gangs: only when every member not yet bound is waiting here.
    const boundMembers = new Map<string, number>();
    const waitingMembers = new Map<string, number>();
    for (const p of candidates) {
      const g = p.placement?.group;
      if (g !== undefined) waitingMembers.set(g, (waitingMembers.get(g) ?? 0) + 1);
    }
    if (waitingMembers.size > 0) {
      for (const p of cache.podList()) {
        const g = p.labels[LABELS.gang] === undefined ? undefined : `${p.namespace}/${p.labels[LABELS.gang]}`;
        if (g !== undefined && waitingMembers.has(g) && p.nodeName !== undefined && !p.terminated)
          boundMembers.set(g, (boundMembers.get(g) ?? 0) + 1);
      }
    }
    const needed = new Map<string, number>();
    const tasks: PlacementTask[] = [];
    const byId = new Map<string, PodRecord>();
    let sequence = 0;
    for (const p of candidates) {
      const input = p.placement;
      if (input === undefined) continue;
      const g = input.group;
      if (g !== undefined) {
        const size = Number(p.labels[LABELS.gangSize] ?? '1');
        const want = Math.max(1, size - (boundMembers.get(g) ?? 0));
        if ((waitingMembers.get(g) ?? 0) < want) {
          parked.set(p.uid, now + retryMs);
          continue;
        }
        needed.set(g, want);
      }
      const id = `${p.namespace}/${p.name}`;
      try {
        tasks.push(createPlacementTask({ ...input, id, sequence: sequence++ }));
        byId.set(id, p);
      } catch (error) {
        onError(error as BerthError);
        parked.set(p.uid, now + retryMs);
      }
    }
    if (tasks.length === 0) return false;
    let registry = baseRegistry;
    let framework: PlacementProfile | BuiltInProfileName = profile;
    if (needed.size > 0) {
      const gang = gangPermit(needed);
      registry = baseRegistry.clone().replace('BerthGang', () => gang);
      const base: PlacementProfile = typeof profile === 'string' ? BUILT_IN_PROFILES[profile] : profile;
      framework = { ...base, plugins: [...base.plugins, { name: 'BerthGang' }] };
    }
    const snapshot = cache.placementSnapshot();
    const result = place(tasks, snapshot, framework, {
      registry,
      ...(options.seed === undefined ? {} : { seed: options.seed }),
      explain: { alternatives: 0 },
      now,
    });
    const work: Promise<void>[] = [];
    for (const placed of result.placements) {
      const p = byId.get(placed.taskId)!;
      cache.assume(p, placed.nodeId);
      inFlight.add(p.uid);
      parked.delete(p.uid);
      work.push(bind(p, placed.nodeId).finally(() => inFlight.delete(p.uid)));
    }
    for (const u of result.unplaceable) {
      const p = byId.get(u.taskId)!;
      unschedulable++;
      parked.set(p.uid, now + retryMs);
      const pf = u.explanation.postFilter;
      if (
        pf?.nominatedNodeId !== undefined &&
        pf.victims !== undefined &&
        pf.victims.length > 0 &&
        mayPreempt(p)
      ) {
        nominated.set(p.uid, pf.nominatedNodeId);
        work.push(preempt(p, pf.nominatedNodeId, pf.victims));
      }
      work.push(reportUnschedulable(p, u.explanation));
    }
    // Bindings run while the next cycle places: wait only when too many are in flight.
    if (inFlight.size > batchSize * 2) await Promise.all(work);
    else void Promise.all(work);
    return true;
  };

  const loop = (async () => {
    while (!closed) {
      let worked = false;
      if (leader) {
        try {
          worked = await cycle();
        } catch (error) {
          onError(
            error instanceof BerthError ? error : new BerthError('INTERNAL', String(error), { cause: error }),
          );
        }
      }
      if (!worked && inFlight.size === 0) for (const w of idleWaiters.splice(0)) w();
      if (worked) continue;
      const wait = new Promise<void>((resolve) => {
        wake = resolve;
      });
      const nextParked = Math.min(...parked.values(), clock.now() + retryMs);
      const abort = new AbortController();
      await Promise.race([
        wait,
        sleep(clock, Math.max(10, nextParked - clock.now()), abort.signal).catch(() => {}),
      ]);
      abort.abort();
    }
  })();

  const close = async () => {
    if (closed) return;
    closed = true;
    kick();
    await loop;
    offPods();
    offNodes();
    await elector?.stop();
    if (ownCache) await cache.stop();
    if (ownClient) kube.close();
  };
  return {
    get isLeader() {
      return leader;
    },
    cache,
    stats: () => ({ cycles, bound, bindFailures, unschedulable, evictions, queued: queue.size }),
    idle: () =>
      new Promise<void>((resolve) => {
        idleWaiters.push(resolve);
        kick();
      }),
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** The profile with core's DefaultPreemption as its post-filter, unless it has one or preemption is off. */
function withPreemption(
  profile: PlacementProfile | BuiltInProfileName,
  preemption: NonNullable<BerthSchedulerOptions['preemption']>,
): PlacementProfile | BuiltInProfileName {
  if (preemption === false) return profile;
  const base: PlacementProfile = typeof profile === 'string' ? BUILT_IN_PROFILES[profile] : profile;
  if (base.plugins.some((x) => x.name === 'DefaultPreemption')) return profile;
  const args = preemption === true ? undefined : (preemption as unknown as JsonValue);
  return {
    ...base,
    plugins: [...base.plugins, { name: 'DefaultPreemption', ...(args === undefined ? {} : { args }) }],
  };
}
