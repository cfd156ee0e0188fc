/**
 * `createK8sAdapter(opts)`: Berth's ClusterAdapter on Kubernetes. In delegate mode kube-scheduler
 * places Berth's pods; in Berth scheduler mode the pods carry `schedulerName: berth` and Berth's
 * engine (`startBerthScheduler`, run by `berth k8s scheduler` or embedded) binds them.
 */
import {
  type Autoscaler,
  type BerthDocument,
  BerthError,
  type Capability,
  type Clock,
  type ClusterAdapter,
  type ClusterEvent,
  type ClusterSnapshot,
  capabilities,
  type Endpoint,
  type EndpointEvent,
  EndpointRegistry,
  type EndpointWatchOptions,
  isTerminal,
  type KillOptions,
  type LogLine,
  type LogOptions,
  type NodeEvent,
  Subject,
  type SubmitResult,
  type Subscribable,
  systemClock,
  type TaskFilter,
  type TaskStatus,
  toAsyncIterable,
  toBerthError,
  type WatchOptions,
  type WatchTasksOptions,
} from '@berth/core';
import { KubeConfig } from '@kubernetes/client-node';
import {
  type ApiVersionChoice,
  chooseApiVersions,
  type DiscoveredGroup,
  requireApiVersion,
} from './api-versions.ts';
import { type BerthScheduler, type BerthSchedulerOptions, startBerthScheduler } from './berth-scheduler.ts';
import { ClusterCache } from './cluster-cache.ts';
import {
  AUTOSCALING_ANNOTATION,
  checkAutoscalingOptions,
  chooseAutoscalingController,
  K8sAutoscaler,
  type K8sAutoscalingOptions,
} from './k8s-autoscaler.ts';
import { KubeClient, query, seg } from './kube-client.ts';
import { COMPONENT, httpStatusOf } from './kube-errors.ts';
import {
  jobFor,
  type MappingOptions,
  objectsForService,
  podForTask,
  type SchedulingMode,
  specHash,
  translateConstraints,
} from './object-mapping.ts';
import { LABELS, type NodeRecord, type PodRecord, podRecord } from './records.ts';
import { taskIdOf, taskStatusOf } from './task-status.ts';

export interface K8sAdapterOptions {
  /** `delegate` (default): kube-scheduler places pods. `berth`: pods get `schedulerName: berth`. */
  readonly mode?: SchedulingMode;
  /** An already-built KubeConfig (wins over the other connection options). */
  readonly kubeConfig?: KubeConfig;
  /** A kubeconfig file (default: `$KUBECONFIG` or `~/.kube/config`, as kubectl). */
  readonly kubeconfigPath?: string;
  /** A context of the kubeconfig (default: its current context). */
  readonly context?: string;
  /** Use the pod's service account (`KUBERNETES_SERVICE_HOST`, the mounted token and CA). */
  readonly inCluster?: boolean;
  /** Image for tasks with only a command (default `busybox:1.36`). */
  readonly defaultImage?: string;
  /** `spec.schedulerName` in Berth scheduler mode (default `berth`). */
  readonly schedulerName?: string;
  /**
   * Run the Berth scheduler inside the adapter (Berth scheduler mode only). Without it, run
   * `berth k8s scheduler` (or `startBerthScheduler`) next to the cluster.
   */
  readonly embeddedScheduler?: boolean | Omit<BerthSchedulerOptions, 'client' | 'cache' | 'kubeConfig'>;
  /** Create a tenant's namespace when it is missing (default true; needs `create namespaces`). */
  readonly createNamespaces?: boolean;
  /** Create Berth's named PriorityClasses (`high`, `low`, …) when a spec uses one the cluster lacks (default true). */
  readonly createPriorityClasses?: boolean;
  readonly clock?: Clock;
  /** Failures the adapter recovers from (a watch that broke and was restarted). */
  readonly onError?: (error: BerthError) => void;
  /** Informer back-off after a failure (default 200 ms doubling to 10 s, full jitter). */
  readonly backoff?: { readonly initialMs?: number; readonly maxMs?: number };
  /** Most API requests in flight (default 64). */
  readonly concurrency?: number;
  /**
   * How Services with `spec.autoscaling` are scaled: an HPA (delegate mode, when the cluster serves
   * autoscaling/v2|v2beta2) or Berth's own controller over metrics.k8s.io and the Deployment's
   * `/scale` (Berth scheduler mode, or no HPA API). See `K8sAutoscalingOptions`.
   */
  readonly autoscaling?: K8sAutoscalingOptions;
}

/** The escape hatch: what the adapter talks through. */
export interface K8sClientHandle {
  readonly kubeConfig: KubeConfig;
  readonly client: KubeClient;
  /** The node/pod informer cache (after connect). */
  readonly cache: ClusterCache | undefined;
  /** Versions chosen by discovery (after connect). */
  readonly apiVersions: ApiVersionChoice;
  /** Berth's HPA controller (core's `Autoscaler`): the services it scales when no HPA does. */
  readonly autoscaler: Autoscaler;
}

export interface K8sAdapter extends ClusterAdapter {
  readonly mode: SchedulingMode;
  /**
   * A Service's endpoint changes (`added`/`updated`/`removed`) as its replicas start, turn
   * healthy/unhealthy and end — the same reach as `endpoints()`.
   */
  watchEndpoints(
    service: string,
    options?: Omit<EndpointWatchOptions, 'service'>,
  ): AsyncIterableIterator<EndpointEvent>;
  getClient(): K8sClientHandle;
}

const PRIORITY_VALUES: Readonly<Record<string, number>> = {
  'system-critical': 2_000_000_000,
  high: 1000,
  low: -1000,
  batch: -2000,
};

/** Builds the KubeConfig the options describe, through client-node only. */
export function loadKubeConfig(options: K8sAdapterOptions): KubeConfig {
  if (options.kubeConfig !== undefined) {
    if (options.context !== undefined) options.kubeConfig.setCurrentContext(options.context);
    return options.kubeConfig;
  }
  const kc = new KubeConfig();
  try {
    if (options.inCluster) kc.loadFromCluster();
    else if (options.kubeconfigPath !== undefined) kc.loadFromFile(options.kubeconfigPath);
    else kc.loadFromDefault();
    if (options.context !== undefined) {
      if (kc.getContextObject(options.context) === null) {
        throw new Error(
          `no context named ${options.context}; the kubeconfig has ${
            kc
              .getContexts()
              .map((c) => c.name)
              .join(', ') || 'none'
          }`,
        );
      }
      kc.setCurrentContext(options.context);
    }
  } catch (cause) {
    throw new BerthError('SPEC_INVALID', `cannot load the kubeconfig: ${(cause as Error).message}`, {
      component: COMPONENT,
      cause,
      hint: 'Pass kubeconfigPath/context (or kubeConfig), set KUBECONFIG, or use inCluster inside a pod.',
    });
  }
  return kc;
}

function matches(s: TaskStatus, p: PodRecord | undefined, f: TaskFilter | undefined): boolean {
  if (f === undefined) return true;
  if (f.ids !== undefined && !f.ids.includes(s.taskId)) return false;
  if (f.service !== undefined && s.service !== f.service) return false;
  if (f.tenant !== undefined && p !== undefined && p.namespace !== f.tenant) return false;
  if (f.states !== undefined && !f.states.includes(s.state)) return false;
  return true;
}

/**
 * One `pods/log?timestamps=true` line: the kubelet's RFC 3339 timestamp, a space, the text.
 * Kubernetes keeps stdout and stderr in one log, so every line is reported as stdout.
 */
export function logLineOf(raw: string): LogLine {
  const sp = raw.indexOf(' ');
  if (sp > 0) {
    const at = Date.parse(raw.slice(0, sp));
    if (!Number.isNaN(at) && /^\d{4}-\d{2}-\d{2}T/.test(raw))
      return { stream: 'stdout', line: raw.slice(sp + 1), at };
  }
  return { stream: 'stdout', line: raw };
}

const isBerthPod = (p: PodRecord) => p.labels[LABELS.managed] === 'true';

/** `object` with one more `metadata.annotations` entry (a copy: the pod template's annotations stay as they are). */
function withAnnotation(
  object: Record<string, unknown>,
  key: string,
  value: string,
): Record<string, unknown> {
  const metadata = (object.metadata ?? {}) as { annotations?: Record<string, unknown> };
  return { ...object, metadata: { ...metadata, annotations: { ...metadata.annotations, [key]: value } } };
}

export function createK8sAdapter(options: K8sAdapterOptions = {}): K8sAdapter {
  const mode = options.mode ?? 'delegate';
  if (mode !== 'delegate' && mode !== 'berth') {
    throw new BerthError('SPEC_INVALID', `mode must be "delegate" or "berth", got ${JSON.stringify(mode)}`, {
      component: COMPONENT,
      hint: 'delegate: kube-scheduler places pods; berth: Berth scheduler mode (schedulerName: berth).',
    });
  }
  if (options.embeddedScheduler && mode !== 'berth') {
    throw new BerthError('SPEC_INVALID', 'embeddedScheduler needs mode "berth"', {
      component: COMPONENT,
      hint: 'Set mode: "berth", or drop embeddedScheduler to let kube-scheduler place pods.',
    });
  }
  checkAutoscalingOptions(options.autoscaling);
  const clock = options.clock ?? systemClock;
  const kubeConfig = loadKubeConfig(options);
  const client = new KubeClient(kubeConfig, {
    clock,
    ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
  });
  const mapping: MappingOptions = {
    mode,
    ...(options.defaultImage === undefined ? {} : { defaultImage: options.defaultImage }),
    ...(options.schedulerName === undefined ? {} : { schedulerName: options.schedulerName }),
  };
  const onError = options.onError ?? (() => {});
  const taskEvents = new Subject<TaskStatus>();
  const registry = new EndpointRegistry({ clock });
  const nodeEvents = new Subject<NodeEvent>();
  const clusterEvents = new Subject<ClusterEvent>();
  /** Final statuses of deleted pods, by task id (KILLED/LOST after the object is gone). */
  const gone = new Map<string, { status: TaskStatus; namespace: string }>();
  const lastState = new Map<string, string>();
  const namespaces = new Set<string>();
  const priorityClasses = new Set<string>();
  let cache: ClusterCache | undefined;
  let scheduler: BerthScheduler | undefined;
  let apiVersions: ApiVersionChoice = {};
  let connecting: Promise<void> | undefined;
  let closed = false;
  let seq = 0;
  let lastAt = 0;

  const emitEvent = (e: Omit<ClusterEvent, 'seq' | 'at'>) => {
    lastAt = Math.max(lastAt, clock.now());
    clusterEvents.emit({ ...e, seq: ++seq, at: lastAt });
  };

  const autoscaling = new K8sAutoscaler({
    ...options.autoscaling,
    client,
    clock,
    pods: function* () {
      if (cache !== undefined) for (const p of cache.podList()) if (isBerthPod(p)) yield p;
    },
    metricsVersion: () => apiVersions['metrics.k8s.io'],
    emit: emitEvent,
    onError,
  });
  /** `hpa` when an HPA object scales autoscaled Services, `berth` when Berth's controller does. */
  const autoscalingController = () =>
    chooseAutoscalingController(options.autoscaling?.controller, mode, apiVersions.autoscaling !== undefined);

  const checkOpen = () => {
    if (closed) {
      throw new BerthError('BACKEND_UNAVAILABLE', 'the Kubernetes adapter is closed', {
        component: COMPONENT,
        hint: 'Create a new adapter and connect() it.',
      });
    }
  };

  const ready = async (): Promise<ClusterCache> => {
    checkOpen();
    if (cache === undefined || connecting === undefined) {
      throw new BerthError('BACKEND_UNAVAILABLE', 'the Kubernetes adapter is not connected', {
        component: COMPONENT,
        hint: 'Call connect() first.',
      });
    }
    await connecting;
    checkOpen();
    return cache;
  };

  /** Pods deleted while still live: whatever their containers report on the way out, they were KILLED. */
  const killed = new Set<string>();
  const statusOf = (p: PodRecord, deleted = false): TaskStatus => {
    const s = taskStatusOf(
      p,
      p.nodeName === undefined ? undefined : cache?.node(p.nodeName),
      clock.now(),
      deleted,
    );
    if (!killed.has(p.uid) || s.state === 'KILLED' || s.state === 'KILLING') return s;
    return {
      ...s,
      state: deleted ? 'KILLED' : 'KILLING',
      reason: deleted ? 'Deleted' : 'Terminating',
      timestamps: deleted
        ? { ...s.timestamps, finished: s.timestamps.finished ?? clock.now() }
        : s.timestamps,
    };
  };
  const noteKill = (old: PodRecord | undefined, p: PodRecord) => {
    if (p.deletionTimestamp !== undefined && old?.deletionTimestamp === undefined && !(old ?? p).terminated)
      killed.add(p.uid);
  };

  const observe = (p: PodRecord, deleted: boolean) => {
    if (!isBerthPod(p)) return;
    const s = statusOf(p, deleted);
    const key = `${p.namespace}/${s.taskId}`;
    if (deleted) {
      gone.set(s.taskId, { status: s, namespace: p.namespace });
      if (gone.size > 10_000) gone.delete(gone.keys().next().value as string);
    } else gone.delete(s.taskId);
    const sig = `${s.state}|${s.reason ?? ''}|${s.message ?? ''}|${s.nodeId ?? ''}|${String(s.healthy)}`;
    const prev = lastState.get(key);
    if (prev === sig) return;
    if (deleted) lastState.delete(key);
    else lastState.set(key, sig);
    taskEvents.emit(s);
    if (s.service !== undefined) {
      try {
        registry.apply(s);
      } catch (error) {
        onError(toBerthError(error, COMPONENT));
      }
    }
    if (prev?.split('|')[0] !== s.state) {
      emitEvent({
        level: s.state === 'FAILED' || s.state === 'LOST' ? 'warning' : 'info',
        kind: 'TaskStateChanged',
        message: `${s.taskId} is ${s.state}${s.reason ? ` (${s.reason})` : ''}`,
        taskId: s.taskId,
        state: s.state,
        ...(s.nodeId === undefined ? {} : { nodeId: s.nodeId }),
        ...(s.service === undefined ? {} : { service: s.service }),
      });
    }
    if (s.state === 'PENDING' && s.reason === 'Unschedulable' && prev !== sig) {
      emitEvent({
        level: 'warning',
        kind: 'Unschedulable',
        message: `${s.taskId}: ${s.message ?? 'no node can take it'}`,
        taskId: s.taskId,
      });
    }
  };

  const toClusterNode = (n: NodeRecord) => cache!.clusterNode(n);

  const connect = async (): Promise<void> => {
    checkOpen();
    connecting ??= (async () => {
      const groups = (await client.request<{ groups?: DiscoveredGroup[] }>('GET', '/apis')).groups ?? [];
      apiVersions = chooseApiVersions(groups);
      cache = new ClusterCache({
        client,
        clock,
        onError,
        ...(options.backoff === undefined ? {} : { backoff: options.backoff }),
      });
      cache.onPod({
        add: (p) => {
          noteKill(undefined, p);
          observe(p, false);
        },
        update: (old, p) => {
          noteKill(old, p);
          observe(p, false);
        },
        delete: (p) => {
          observe(p, true);
          killed.delete(p.uid);
        },
      });
      cache.onNode({
        add: (n) => {
          nodeEvents.emit({ type: 'added', node: toClusterNode(n) });
          emitEvent({ level: 'info', kind: 'NodeAdded', message: `node ${n.name} joined`, nodeId: n.name });
        },
        update: (old, n) => {
          nodeEvents.emit({ type: 'updated', node: toClusterNode(n) });
          if (old.ready !== n.ready) {
            emitEvent({
              level: n.ready ? 'info' : 'warning',
              kind: n.ready ? 'NodeReady' : 'NodeNotReady',
              message: `node ${n.name} is ${n.ready ? 'Ready' : 'NotReady'}`,
              nodeId: n.name,
            });
          }
        },
        delete: (n) => {
          nodeEvents.emit({ type: 'removed', node: toClusterNode(n) });
          emitEvent({
            level: 'warning',
            kind: 'NodeRemoved',
            message: `node ${n.name} left`,
            nodeId: n.name,
          });
        },
      });
      await cache.start();
      if (options.embeddedScheduler) {
        const extra = typeof options.embeddedScheduler === 'object' ? options.embeddedScheduler : {};
        scheduler = await startBerthScheduler({
          ...extra,
          client,
          cache,
          clock,
          onError,
          ...(options.schedulerName === undefined ? {} : { schedulerName: options.schedulerName }),
        });
      }
      await autoscaling.start();
      emitEvent({
        level: 'info',
        kind: 'Connected',
        message: `connected to ${client.server} (${mode} mode)`,
      });
    })();
    try {
      await connecting;
    } catch (error) {
      connecting = undefined;
      await cache?.stop();
      cache = undefined;
      throw toBerthError(error, COMPONENT);
    }
  };

  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    // No sync starts from here; one in flight ends when the client closes under it.
    const autoscalingSettled = autoscaling.close();
    await autoscaling.released();
    await scheduler?.close();
    await cache?.stop();
    client.close();
    await autoscalingSettled;
    taskEvents.complete();
    registry[Symbol.dispose]();
    nodeEvents.complete();
    clusterEvents.complete();
  };

  const ensureNamespace = async (ns: string) => {
    if (namespaces.has(ns)) return;
    try {
      await client.request('GET', `/api/v1/namespaces/${seg(ns)}`);
    } catch (error) {
      if (httpStatusOf(error) !== 404) throw error;
      if (options.createNamespaces === false) {
        throw new BerthError('NOT_FOUND', `namespace ${ns} (tenant ${ns}) does not exist`, {
          component: COMPONENT,
          hint: `Create it (kubectl create namespace ${ns}) or enable createNamespaces.`,
        });
      }
      try {
        await client.request('POST', '/api/v1/namespaces', {
          body: {
            apiVersion: 'v1',
            kind: 'Namespace',
            metadata: { name: ns, labels: { [LABELS.managed]: 'true' } },
          },
        });
      } catch (e) {
        if (httpStatusOf(e) !== 409) throw e;
      }
    }
    namespaces.add(ns);
  };

  const ensurePriorityClass = async (name: string | undefined) => {
    if (
      name === undefined ||
      name === 'default' ||
      priorityClasses.has(name) ||
      options.createPriorityClasses === false
    )
      return;
    const value = PRIORITY_VALUES[name];
    if (value === undefined) return;
    const version = apiVersions['scheduling.k8s.io'] ?? 'v1';
    try {
      await client.request('POST', `/apis/scheduling.k8s.io/${version}/priorityclasses`, {
        body: {
          apiVersion: `scheduling.k8s.io/${version}`,
          kind: 'PriorityClass',
          metadata: { name, labels: { [LABELS.managed]: 'true' } },
          value,
          description: `Berth priority class ${name}`,
        },
      });
    } catch (error) {
      // 409: it exists. 403: the cluster admin manages classes; the pod create will say if it is missing.
      if (httpStatusOf(error) !== 409 && httpStatusOf(error) !== 403) throw error;
    }
    priorityClasses.add(name);
  };

  /** POST; on AlreadyExists compare the spec hash: unchanged or conflict. */
  const createOrCompare = async (
    collection: string,
    name: string,
    body: Record<string, unknown>,
    hash: string,
  ): Promise<{ outcome: SubmitResult['outcome']; object: Record<string, unknown> }> => {
    try {
      const object = await client.request<Record<string, unknown>>('POST', collection, { body });
      return { outcome: 'created', object };
    } catch (error) {
      if (httpStatusOf(error) !== 409) throw error;
      const object = await client.request<Record<string, unknown>>('GET', `${collection}/${seg(name)}`);
      const meta = (object.metadata ?? {}) as {
        annotations?: Record<string, string>;
        deletionTimestamp?: string;
      };
      return {
        outcome: meta.annotations?.[LABELS.specHash] === hash ? 'unchanged' : 'conflict',
        object,
      };
    }
  };

  const syntheticStatus = (taskId: string, message: string, service?: string): TaskStatus => ({
    taskId,
    state: 'PENDING',
    rawState: 'Pending',
    message,
    ports: {},
    ...(service === undefined ? {} : { service }),
    timestamps: { updated: clock.now() },
    backend: 'kubernetes',
  });

  const submitOne = async (doc: BerthDocument): Promise<SubmitResult> => {
    const ns = doc.metadata.tenant;
    const name = doc.metadata.name;
    const hash = specHash(doc);
    await ensureNamespace(ns);
    const spec = doc.kind === 'Task' ? doc.spec : doc.spec.template;
    await ensurePriorityClass(spec.priorityClassName);
    const document = `${doc.kind}/${name}`;
    if (doc.kind === 'Task') {
      const { outcome, object } = await createOrCompare(
        `/api/v1/namespaces/${seg(ns)}/pods`,
        name,
        podForTask(doc, mapping),
        hash,
      );
      return { taskId: name, document, outcome, status: statusOf(podRecord(object)) };
    }
    if (doc.kind === 'Service') {
      const policy = doc.spec.autoscaling;
      const byBerth = policy !== undefined && autoscalingController() === 'berth';
      const autoscalingVersion =
        policy === undefined || byBerth
          ? undefined
          : requireApiVersion(apiVersions, 'autoscaling', 'Autoscaling a Service');
      const objs = objectsForService(doc, {
        ...mapping,
        ...(autoscalingVersion === undefined ? {} : { autoscalingVersion }),
      });
      // Berth's controller scales it: no HPA; the policy rides on the Deployment for later adapters.
      const deployment = byBerth
        ? withAnnotation(objs.deployment, AUTOSCALING_ANNOTATION, JSON.stringify(policy))
        : objs.deployment;
      const { outcome } = await createOrCompare(
        `/apis/apps/v1/namespaces/${seg(ns)}/deployments`,
        name,
        deployment,
        hash,
      );
      if (byBerth && outcome !== 'conflict') autoscaling.add(name, { namespace: ns, name }, policy);
      if (outcome === 'created') {
        if (objs.service !== undefined) {
          const svcName = (objs.service.metadata as { name: string }).name;
          await createOrCompare(`/api/v1/namespaces/${seg(ns)}/services`, svcName, objs.service, hash);
        }
        if (objs.hpa !== undefined && !byBerth) {
          await createOrCompare(
            `/apis/autoscaling/${autoscalingVersion}/namespaces/${seg(ns)}/horizontalpodautoscalers`,
            name,
            objs.hpa,
            hash,
          );
        }
      }
      return {
        taskId: name,
        document,
        outcome,
        status: syntheticStatus(
          name,
          `Deployment ${ns}/${name}: its replicas are the tasks of service ${name}`,
          name,
        ),
      };
    }
    const { outcome } = await createOrCompare(
      `/apis/batch/v1/namespaces/${seg(ns)}/jobs`,
      name,
      jobFor(doc, mapping),
      hash,
    );
    return {
      taskId: name,
      document,
      outcome,
      status: syntheticStatus(name, `Job ${ns}/${name}: its pods are the tasks of job ${name}`),
    };
  };

  const findPod = (c: ClusterCache, taskId: string): PodRecord | undefined => {
    for (const p of c.podList()) if (isBerthPod(p) && taskIdOf(p) === taskId) return p;
    return undefined;
  };

  /**
   * GET, change, PUT with the resourceVersion read; on 409 Conflict read again and retry (five
   * tries), so a concurrent writer is never overwritten and a lost race is not an error.
   */
  const updateWithRetry = async (
    path: string,
    change: (current: Record<string, unknown>) => Record<string, unknown>,
  ): Promise<Record<string, unknown>> => {
    for (let attempt = 1; ; attempt++) {
      const current = await client.request<Record<string, unknown>>('GET', path);
      try {
        return await client.request<Record<string, unknown>>('PUT', path, { body: change(current) });
      } catch (error) {
        if (httpStatusOf(error) !== 409 || attempt >= 5) throw error;
      }
    }
  };

  const findDeployment = async (service: string): Promise<{ namespace: string; name: string }> => {
    const list = await client.request<{ items?: { metadata: { name: string; namespace: string } }[] }>(
      'GET',
      `/apis/apps/v1/deployments${query({ labelSelector: `${LABELS.service}=${service}` })}`,
    );
    const d = (list.items ?? []).find((i) => i.metadata.name === service) ?? list.items?.[0];
    if (d === undefined) {
      throw new BerthError('NOT_FOUND', `no service ${service}`, {
        component: COMPONENT,
        hint: 'Submit the Service first; `berth get services` lists them.',
      });
    }
    return d.metadata;
  };

  const adapter: K8sAdapter = {
    name: 'kubernetes',
    backend: 'kubernetes',
    mode,
    capabilities: capabilities(
      ...([
        'services',
        'serviceDiscovery',
        'commandTasks',
        'killGracePeriod',
        'nodeWatch',
        'events',
        'logs',
        'autoscaling',
        'preemption',
        ...(mode === 'berth' ? (['customScheduling', 'gang'] as const) : []),
      ] as Capability[]),
    ),
    connect: async (_opts?: WatchOptions) => {
      await connect();
    },
    close,
    async snapshot(): Promise<ClusterSnapshot> {
      return (await ready()).clusterSnapshot();
    },
    watchNodes(opts: WatchOptions = {}) {
      return toAsyncIterable(nodeEvents, { signal: opts.signal });
    },
    async submit(documents: readonly BerthDocument[]): Promise<SubmitResult[]> {
      await ready();
      // Everything that can be refused is refused before anything is sent.
      if (mode === 'delegate') {
        for (const doc of documents) {
          const spec = doc.kind === 'Task' ? doc.spec : doc.spec.template;
          translateConstraints(spec, {});
          if (doc.kind === 'Job' && doc.spec.gang) {
            throw new BerthError(
              'UNSUPPORTED',
              `Job ${doc.metadata.name}: gang (all-or-nothing) placement needs Berth scheduler mode`,
              {
                component: COMPONENT,
                hint: 'Use mode "berth" (and run `berth k8s scheduler`), or set gang: false.',
              },
            );
          }
        }
      }
      for (const doc of documents)
        if (doc.kind === 'Service' && doc.spec.autoscaling !== undefined && autoscalingController() === 'hpa')
          requireApiVersion(apiVersions, 'autoscaling', `Autoscaling Service ${doc.metadata.name}`);
      try {
        return await Promise.all(documents.map(submitOne));
      } catch (error) {
        throw toBerthError(error, COMPONENT);
      }
    },
    async kill(taskId: string, opts: KillOptions = {}): Promise<void> {
      const c = await ready();
      const p = findPod(c, taskId);
      if (p === undefined) {
        if (gone.has(taskId)) return;
        throw new BerthError('NOT_FOUND', `no task ${taskId}`, {
          component: COMPONENT,
          hint: 'List tasks with `berth get tasks`.',
        });
      }
      if (isTerminal(statusOf(p).state)) return;
      killed.add(p.uid);
      try {
        await client.request(
          'DELETE',
          `/api/v1/namespaces/${seg(p.namespace)}/pods/${seg(p.name)}${query({ gracePeriodSeconds: opts.gracePeriodSeconds })}`,
          { body: { apiVersion: 'v1', kind: 'DeleteOptions', preconditions: { uid: p.uid } } },
        );
      } catch (error) {
        if (httpStatusOf(error) === 404 || httpStatusOf(error) === 409) return;
        throw error;
      }
      emitEvent({ level: 'info', kind: 'Killing', message: `killing ${taskId}`, taskId });
    },
    async tasks(filter?: TaskFilter): Promise<TaskStatus[]> {
      const c = await ready();
      const out: TaskStatus[] = [];
      const seen = new Set<string>();
      for (const p of c.podList()) {
        if (!isBerthPod(p)) continue;
        const s = statusOf(p);
        seen.add(s.taskId);
        if (matches(s, p, filter)) out.push(s);
      }
      for (const [id, g] of gone) {
        if (seen.has(id)) continue;
        if (filter?.tenant !== undefined && g.namespace !== filter.tenant) continue;
        if (matches(g.status, undefined, filter)) out.push(g.status);
      }
      return out;
    },
    watchTasks(opts: WatchTasksOptions = {}) {
      const initial =
        opts.initial && cache !== undefined && !closed
          ? [...cache.podList()]
              .filter(isBerthPod)
              .map((p) => statusOf(p))
              .filter((s) => matches(s, undefined, opts.filter))
          : [];
      const source: Subscribable<TaskStatus> = {
        subscribe: (observer) => {
          const o = typeof observer === 'function' ? { next: observer } : observer;
          return taskEvents.subscribe({
            next: (s) => {
              if (matches(s, undefined, opts.filter)) o.next(s);
            },
            complete: () => o.complete?.(),
          });
        },
      };
      return toAsyncIterable(source, { signal: opts.signal, initial });
    },
    async scale(service: string, replicas: number): Promise<void> {
      await ready();
      if (!Number.isInteger(replicas) || replicas < 0) {
        throw new BerthError('SPEC_INVALID', `replicas must be an integer >= 0, got ${replicas}`, {
          component: COMPONENT,
          hint: 'Pass a whole number, e.g. berth scale web 3.',
        });
      }
      const d = await findDeployment(service);
      await updateWithRetry(
        `/apis/apps/v1/namespaces/${seg(d.namespace)}/deployments/${seg(d.name)}/scale`,
        (scale) => ({ ...scale, spec: { ...(scale.spec as object), replicas } }),
      );
      emitEvent({
        level: 'info',
        kind: 'Scaled',
        message: `service ${service} scaled to ${replicas}`,
        service,
      });
    },
    async endpoints(service: string): Promise<Endpoint[]> {
      const c = await ready();
      const out: Endpoint[] = [];
      for (const p of c.podList()) {
        if (!isBerthPod(p) || p.labels[LABELS.service] !== service) continue;
        const s = statusOf(p);
        if (s.state !== 'RUNNING' || s.healthy === false || p.nodeName === undefined) continue;
        // The same reach as the task's status (task-status.ts `reachOf`): node host + host ports
        // when every port is fixed, else pod IP + container ports.
        out.push({ taskId: s.taskId, nodeId: p.nodeName, host: s.hostname ?? p.nodeName, ports: s.ports });
      }
      return out;
    },
    async *logs(taskId: string, opts: LogOptions = {}): AsyncIterable<LogLine> {
      const c = await ready();
      if (opts.stream === 'stderr') {
        throw new BerthError('UNSUPPORTED', `logs of ${taskId}: Kubernetes merges stdout and stderr`, {
          component: COMPONENT,
          hint: "Ask for stream 'both' (or 'stdout'): the kubelet keeps one log per container.",
        });
      }
      if (opts.tailLines !== undefined && (!Number.isInteger(opts.tailLines) || opts.tailLines < 0)) {
        throw new BerthError('SPEC_INVALID', `tailLines must be an integer >= 0, got ${opts.tailLines}`, {
          component: COMPONENT,
          hint: 'Pass a whole number of lines, e.g. --tail 100.',
        });
      }
      let p = findPod(c, taskId);
      if (p === undefined) {
        throw new BerthError('NOT_FOUND', `no task ${taskId}`, {
          component: COMPONENT,
          hint: gone.has(taskId)
            ? `${taskId} was deleted; Kubernetes drops a deleted pod's logs.`
            : 'List tasks with `berth get tasks`.',
        });
      }
      // A pod has no log before a node runs it: with follow, wait for that (or the signal).
      if (opts.follow && (p.nodeName === undefined || statusOf(p).state === 'PENDING')) {
        for await (const s of adapter.watchTasks({
          filter: { ids: [taskId] },
          initial: true,
          ...(opts.signal === undefined ? {} : { signal: opts.signal }),
        })) {
          if (s.state !== 'PENDING') break;
        }
        p = findPod(c, taskId) ?? p;
        if (opts.signal?.aborted) return;
      }
      const path = `/api/v1/namespaces/${seg(p.namespace)}/pods/${seg(p.name)}/log${query({
        follow: opts.follow ? 'true' : undefined,
        tailLines: opts.tailLines,
        timestamps: 'true',
      })}`;
      const signal = opts.signal as AbortSignal | undefined;
      let buffer = '';
      try {
        for await (const chunk of client.stream(path, signal)) {
          buffer += chunk;
          let nl = buffer.indexOf('\n');
          while (nl >= 0) {
            yield logLineOf(buffer.slice(0, nl));
            buffer = buffer.slice(nl + 1);
            nl = buffer.indexOf('\n');
          }
        }
      } catch (error) {
        throw toBerthError(error, COMPONENT);
      }
      if (buffer !== '') yield logLineOf(buffer);
    },
    watchEndpoints(service: string, opts: Omit<EndpointWatchOptions, 'service'> = {}) {
      if (typeof service !== 'string' || service === '') {
        throw new BerthError('SPEC_INVALID', 'watchEndpoints: service must be a non-empty name', {
          component: COMPONENT,
          hint: 'Pass the Service name, e.g. adapter.watchEndpoints("web").',
        });
      }
      return registry.watch({ ...opts, service });
    },
    events(opts: WatchOptions = {}) {
      return toAsyncIterable(clusterEvents, { signal: opts.signal });
    },
    getClient: () => ({ kubeConfig, client, cache, apiVersions, autoscaler: autoscaling.autoscaler }),
    [Symbol.asyncDispose]: close,
  };
  return adapter;
}
