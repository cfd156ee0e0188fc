/**
 * Runs the pods bound to the kubelet's nodes on the engine and reports them back: one watch over
 * all bound pods (filtered to our nodes here), one engine task per container attempt,
 * restartPolicy with CrashLoopBackOff, probes, graceful deletion, status through `pods/status`
 * and kubelet-style Events.
 */
import { randomBytes } from 'node:crypto';
import { BerthError, Resources } from '@berth/core';
import {
  ADD,
  DELETE,
  ERROR,
  ListWatch,
  UPDATE,
  type V1Container,
  type V1Pod,
  type V1PodCondition,
  type V1PodList,
  type V1PodStatus,
  Watch,
} from '@kubernetes/client-node';
import type { Engine, EngineEvent, EngineTask, TaskLaunch } from '../engine/index.ts';
import { containerArgv, containerEnv, containerPorts, containerResources } from './container-launch.ts';
import { describeError, type KubeletClient, MERGE_PATCH, statusOf } from './kube-client.ts';
import {
  type ContainerRuntime,
  containerStatus,
  type PodPhase,
  podConditions,
  podPhase,
  type RuntimeState,
  type TerminatedState,
} from './pod-status.ts';
import { ProbeLoop } from './probes.ts';

/** The field selector of the kubelet's single pod watch: every pod bound to some node. */
export const BOUND_PODS_SELECTOR = 'spec.nodeName!=';

/** Annotations a pod can carry to shape a simulated container. */
export const SIMULATION_ANNOTATIONS = {
  durationMs: 'berth.dev/simulated-duration-ms',
  exitCode: 'berth.dev/simulated-exit-code',
} as const;

export interface BackoffOptions {
  /** First back-off delay (default 10 s, the kubelet's). */
  readonly initialMs?: number;
  /** Cap (default 5 min, the kubelet's). */
  readonly maxMs?: number;
}

export interface PodManagerOptions {
  readonly engine: Engine;
  readonly client: KubeletClient;
  readonly owns: (nodeName: string) => boolean;
  /** Whether a node currently reports (a failed engine node is a dead kubelet). */
  readonly alive: (nodeName: string) => boolean;
  readonly simulated: boolean;
  readonly backoff: Required<BackoffOptions>;
  readonly events: boolean;
  readonly onError: (error: unknown) => void;
}

export interface ContainerLogOptions {
  readonly follow?: boolean;
  readonly tailLines?: number;
  readonly timestamps?: boolean;
  readonly previous?: boolean;
  readonly signal?: AbortSignal;
}

/** A running container and the engine task behind it. */
export interface RunningContainer {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly nodeName: string;
  readonly container: string;
  readonly taskId: string;
  readonly startedAt: Date;
}

interface ContainerRec {
  readonly spec: V1Container;
  /** An init container: runs to completion, in order, before the app containers start. */
  readonly init: boolean;
  readonly image: string;
  restartCount: number;
  attempt: number;
  state: RuntimeState;
  lastTerminated: TerminatedState | undefined;
  ready: boolean;
  /** Engine task of the current (or last) attempt, and the one before. */
  taskId: string | undefined;
  previousTaskId: string | undefined;
  backoffSteps: number;
  backoffTimer: ReturnType<typeof setTimeout> | undefined;
  readiness: ProbeLoop | undefined;
  liveness: ProbeLoop | undefined;
  hostPorts: Map<number | string, number>;
  env: Record<string, string>;
  sandbox: string | undefined;
}

interface PodRec {
  readonly key: string;
  readonly uid: string;
  readonly namespace: string;
  readonly name: string;
  readonly nodeName: string;
  pod: V1Pod;
  readonly containers: ContainerRec[];
  readonly inits: ContainerRec[];
  /** Every init container completed (true at once when there are none). */
  initialized: boolean;
  /** An init container failed under restartPolicy Never: the pod failed. */
  initFailed: boolean;
  /** Admission refused the pod (it does not fit the node), as the kubelet's OutOf<resource>. */
  rejected: { readonly reason: string; readonly message: string } | undefined;
  startTime: Date;
  deleting: boolean;
  gone: boolean;
  conditions: V1PodCondition[];
  lastSent: string | undefined;
  flushing: boolean;
  dirty: boolean;
}

const keyOf = (namespace: string, name: string) => `${namespace}/${name}`;
const allOf = (rec: PodRec): ContainerRec[] => [...rec.inits, ...rec.containers];
const SIGNALS: Readonly<Record<string, number>> = {
  SIGKILL: 9,
  SIGTERM: 15,
  SIGINT: 2,
  SIGHUP: 1,
  SIGQUIT: 3,
  SIGABRT: 6,
};

export class PodManager {
  readonly #o: PodManagerOptions;
  readonly #pods = new Map<string, PodRec>();
  readonly #byTask = new Map<string, { rec: PodRec; c: ContainerRec }>();
  #informer: ListWatch<V1Pod> | undefined;
  #unsubscribe: (() => void) | undefined;
  #restartTimer: ReturnType<typeof setTimeout> | undefined;
  #restartDelayMs = 0;
  #closed = false;
  #eventSeq = 0;
  readonly #eventPrefix = randomBytes(4).toString('hex');

  constructor(options: PodManagerOptions) {
    this.#o = options;
  }

  /** Lists and starts watching bound pods; resolves once the first list is in. */
  async start(): Promise<void> {
    const { client } = this.#o;
    this.#unsubscribe = this.#o.engine.events.subscribe((e) => this.#onEngineEvent(e));
    const watch = new Watch(client.kubeConfig);
    const counted = {
      watch: (...args: Parameters<Watch['watch']>) => {
        client.count('watch pods');
        return watch.watch(...args);
      },
    } as unknown as Watch;
    const list = () =>
      client.call('list pods', () =>
        client.core.listPodForAllNamespaces({ fieldSelector: BOUND_PODS_SELECTOR }),
      ) as Promise<V1PodList>;
    const informer = new ListWatch<V1Pod>(
      '/api/v1/pods',
      counted,
      list,
      false,
      undefined,
      BOUND_PODS_SELECTOR,
    );
    informer.on(ADD, (pod) => this.#onPod(pod));
    informer.on(UPDATE, (pod) => this.#onPod(pod));
    informer.on(DELETE, (pod) => this.#onPodDeleted(pod));
    informer.on('connect', () => {
      this.#restartDelayMs = 0;
    });
    informer.on(ERROR, (error) => {
      if (this.#closed) return;
      this.#o.onError(
        new BerthError('BACKEND_UNAVAILABLE', `pod watch failed: ${describeError(error)}; restarting`, {
          component: 'devcluster/kubelet',
          cause: error,
        }),
      );
      // Back off and restart; a 410 never lands here (ListWatch relists by itself).
      this.#restartDelayMs = Math.min(Math.max(500, this.#restartDelayMs * 2), 30_000);
      this.#restartTimer = setTimeout(() => {
        if (!this.#closed) informer.start().catch((e: unknown) => this.#o.onError(e));
      }, this.#restartDelayMs);
    });
    this.#informer = informer;
    await informer.start();
  }

  /** Stops watching and kills every container it runs (grace `graceMs`). */
  async close(graceMs = 0): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#restartTimer);
    await this.#informer?.stop();
    this.#unsubscribe?.();
    const kills: Promise<unknown>[] = [];
    for (const rec of this.#pods.values()) {
      rec.gone = true;
      for (const c of allOf(rec)) {
        this.#stopContainerLoops(c);
        if (c.taskId !== undefined) kills.push(this.#kill(c.taskId, graceMs));
      }
    }
    await Promise.allSettled(kills);
    this.#pods.clear();
    this.#byTask.clear();
  }

  /** Pods the kubelet runs now. */
  pods(): V1Pod[] {
    return [...this.#pods.values()].map((r) => r.pod);
  }

  /** Engine tasks of running containers, by pod, for metrics. */
  runningContainers(): RunningContainer[] {
    const out: RunningContainer[] = [];
    for (const rec of this.#pods.values()) {
      for (const c of allOf(rec)) {
        if (c.state.kind === 'running' && c.taskId !== undefined) {
          out.push({
            namespace: rec.namespace,
            name: rec.name,
            uid: rec.uid,
            nodeName: rec.nodeName,
            container: c.spec.name,
            taskId: c.taskId,
            startedAt: c.state.startedAt,
          });
        }
      }
    }
    return out;
  }

  /** A container's log (stdout and stderr interleaved), as the kubelet's `/containerLogs`. */
  async *containerLog(
    namespace: string,
    name: string,
    container: string,
    options: ContainerLogOptions = {},
  ): AsyncGenerator<Uint8Array> {
    const rec = this.#pods.get(keyOf(namespace, name));
    if (rec === undefined) {
      throw new BerthError(
        'NOT_FOUND',
        `pod "${name}" in namespace "${namespace}" is not running on this kubelet`,
        {
          component: 'devcluster/kubelet',
          hint: "Check the pod name and namespace, and that it is bound to one of this kubelet's nodes.",
        },
      );
    }
    const c = allOf(rec).find((x) => x.spec.name === container);
    if (c === undefined) {
      throw new BerthError('NOT_FOUND', `container "${container}" is not in pod "${name}"`, {
        component: 'devcluster/kubelet',
        hint: `Pick one of: ${allOf(rec)
          .map((x) => x.spec.name)
          .join(', ')}.`,
      });
    }
    const taskId = options.previous ? c.previousTaskId : c.taskId;
    if (taskId === undefined) {
      throw new BerthError(
        'NOT_FOUND',
        options.previous
          ? `previous terminated container "${container}" in pod "${name}" not found`
          : `container "${container}" in pod "${name}" is waiting to start`,
        { component: 'devcluster/kubelet', hint: 'Retry once the container has started.' },
      );
    }
    const { engine } = this.#o;
    if (engine.task(taskId)?.mode !== 'process') return;
    const size = await engine.logSize(taskId, 'stdout');
    let offset = 0;
    let head: Uint8Array | undefined;
    if (options.tailLines !== undefined) {
      const all = (await engine.readLog(taskId, 'stdout', { offset: 0, length: size })).data;
      offset = all.length;
      head = tail(all, options.tailLines);
    }
    const stamp = options.timestamps ? new LineStamper() : undefined;
    const out = (chunk: Uint8Array) => (stamp === undefined ? chunk : stamp.push(chunk));
    if (head !== undefined && head.length > 0) yield out(head);
    if (head === undefined || options.follow) {
      if (options.follow) {
        for await (const chunk of engine.followLog(taskId, 'stdout', {
          offset,
          ...(options.signal ? { signal: options.signal } : {}),
        })) {
          yield out(chunk);
        }
      } else if (head === undefined) {
        const chunk = await engine.readLog(taskId, 'stdout', { offset: 0, length: size });
        if (chunk.data.length > 0) yield out(chunk.data);
      }
    }
  }

  // ----------------------------------------------------------------------------------------
  // Pods from the watch

  #onPod(pod: V1Pod): void {
    if (this.#closed) return;
    const nodeName = pod.spec?.nodeName;
    if (nodeName === undefined || !this.#o.owns(nodeName)) return;
    const namespace = pod.metadata?.namespace ?? 'default';
    const name = pod.metadata?.name ?? '';
    const uid = pod.metadata?.uid ?? '';
    const key = keyOf(namespace, name);
    let rec = this.#pods.get(key);
    if (rec !== undefined && rec.uid !== uid) {
      this.#forget(rec, 0);
      rec = undefined;
    }
    if (rec === undefined) {
      const phase = pod.status?.phase;
      if (pod.metadata?.deletionTimestamp !== undefined) {
        // Terminating and nothing of it runs here (e.g. after a kubelet restart): confirm.
        void this.#finalDelete(namespace, name, uid);
        return;
      }
      if (phase === 'Succeeded' || phase === 'Failed') return;
      rec = this.#admit(pod, namespace, name, uid, nodeName);
      if (rec === undefined) return;
    }
    rec.pod = pod;
    if (pod.metadata?.deletionTimestamp !== undefined && !rec.deleting) void this.#terminate(rec);
  }

  #onPodDeleted(pod: V1Pod): void {
    const rec = this.#pods.get(keyOf(pod.metadata?.namespace ?? 'default', pod.metadata?.name ?? ''));
    if (rec !== undefined && rec.uid === pod.metadata?.uid) this.#forget(rec, 0);
  }

  /** Forget a pod the API no longer has (or replaced): kill what still runs. */
  #forget(rec: PodRec, graceMs: number): void {
    rec.gone = true;
    this.#pods.delete(rec.key);
    for (const c of allOf(rec)) {
      this.#stopContainerLoops(c);
      if (c.taskId !== undefined) {
        this.#byTask.delete(c.taskId);
        if (c.state.kind === 'running' || c.state.kind === 'waiting') void this.#kill(c.taskId, graceMs);
      }
    }
  }

  #admit(pod: V1Pod, namespace: string, name: string, uid: string, nodeName: string): PodRec | undefined {
    const record = (spec: V1Container, init: boolean): ContainerRec => ({
      spec,
      init,
      image: spec.image ?? '',
      restartCount: 0,
      attempt: 0,
      state: init
        ? { kind: 'waiting', reason: 'PodInitializing' }
        : {
            kind: 'waiting',
            reason: (pod.spec?.initContainers ?? []).length > 0 ? 'PodInitializing' : 'ContainerCreating',
          },
      lastTerminated: undefined,
      ready: false,
      taskId: undefined,
      previousTaskId: undefined,
      backoffSteps: 0,
      backoffTimer: undefined,
      readiness: undefined,
      liveness: undefined,
      hostPorts: new Map(),
      env: {},
      sandbox: undefined,
    });
    const inits = (pod.spec?.initContainers ?? []).map((spec) => record(spec, true));
    const rec: PodRec = {
      key: keyOf(namespace, name),
      uid,
      namespace,
      name,
      nodeName,
      pod,
      containers: (pod.spec?.containers ?? []).map((spec) => record(spec, false)),
      inits,
      initialized: inits.length === 0,
      initFailed: false,
      rejected: undefined,
      startTime: new Date(),
      deleting: false,
      gone: false,
      conditions: [],
      lastSent: undefined,
      flushing: false,
      dirty: false,
    };
    this.#pods.set(rec.key, rec);
    const scheduled = (pod.status?.conditions ?? []).some((c) => c.type === 'PodScheduled');
    if (!scheduled) {
      this.#event(rec, 'Normal', 'Scheduled', `Successfully assigned ${namespace}/${name} to ${nodeName}`);
    }
    rec.rejected = this.#admission(rec);
    if (rec.rejected !== undefined) {
      this.#event(rec, 'Warning', rec.rejected.reason, rec.rejected.message);
      this.#markDirty(rec);
      return rec;
    }
    const first = inits[0];
    if (first !== undefined) this.#start(rec, first);
    else for (const c of rec.containers) this.#start(rec, c);
    this.#markDirty(rec);
    return rec;
  }

  /**
   * The kubelet's resource admission: the pod's requests (app containers summed, or the largest
   * init container if more) must fit what the node has left, else the pod fails `OutOf<name>`.
   */
  #admission(rec: PodRec): { reason: string; message: string } | undefined {
    const node = this.#o.engine.node(rec.nodeName);
    if (node === undefined) return undefined;
    let need = Resources.ZERO;
    try {
      for (const c of rec.containers) need = need.add(containerResources(c.spec));
      for (const c of rec.inits) {
        const r = containerResources(c.spec);
        need = Resources.of({
          cpu: Math.max(need.cpu, r.cpu),
          memory: Math.max(need.memory, r.memory),
          disk: Math.max(need.disk, r.disk),
          gpus: Math.max(need.gpus, r.gpus),
        });
      }
    } catch {
      return undefined; // unreadable requests fail the container launch, with its own message
    }
    const checks = [
      ['cpu', need.cpu, node.allocated.cpu, node.capacity.cpu],
      ['memory', need.memory, node.allocated.memory, node.capacity.memory],
      ['ephemeral-storage', need.disk, node.allocated.disk, node.capacity.disk],
      ['nvidia.com/gpu', need.gpus, node.allocated.gpus, node.capacity.gpus],
    ] as const;
    for (const [name, requested, used, capacity] of checks) {
      if (requested > 0 && used + requested > capacity) {
        return {
          reason: `OutOf${name}`,
          message: `Pod was rejected: Node didn't have enough resource: ${name}, requested: ${requested}, used: ${used}, capacity: ${capacity}`,
        };
      }
    }
    return undefined;
  }

  /** First start of a container: the image Event, then the launch. */
  #start(rec: PodRec, c: ContainerRec): void {
    const simulated = this.#o.simulated || containerArgv(c.spec, {}).length === 0;
    this.#event(
      rec,
      'Normal',
      'Pulled',
      simulated
        ? `Image "${c.image}" not pulled: the Berth virtual kubelet simulates container ${c.spec.name}`
        : `Image "${c.image}" not pulled: the Berth virtual kubelet runs the command of container ${c.spec.name} as a process on this machine`,
    );
    c.state = { kind: 'waiting', reason: 'ContainerCreating' };
    this.#launch(rec, c);
  }

  /** An init container completed: start the next one, or the app containers after the last. */
  #initCompleted(rec: PodRec, c: ContainerRec): void {
    const next = rec.inits[rec.inits.indexOf(c) + 1];
    if (next !== undefined) this.#start(rec, next);
    else {
      rec.initialized = true;
      for (const app of rec.containers) this.#start(rec, app);
    }
  }

  // ----------------------------------------------------------------------------------------
  // Containers

  #launch(rec: PodRec, c: ContainerRec): void {
    if (rec.deleting || rec.gone) return;
    c.backoffTimer = undefined;
    const { engine } = this.#o;
    const node = engine.node(rec.nodeName);
    const hostIP = node?.address ?? '127.0.0.1';
    const taskId = `pod-${rec.uid}-${c.spec.name}-${c.attempt}`;
    let launch: TaskLaunch;
    try {
      c.env = containerEnv(rec.pod, c.spec, hostIP);
      const argv = containerArgv(c.spec, c.env);
      const simulated = this.#o.simulated || argv.length === 0;
      const annotations = rec.pod.metadata?.annotations ?? {};
      const duration = Number(annotations[SIMULATION_ANNOTATIONS.durationMs]);
      const exitCode = Number(annotations[SIMULATION_ANNOTATIONS.exitCode]);
      const grace = (rec.pod.spec?.terminationGracePeriodSeconds ?? 30) * 1000;
      launch = {
        id: taskId,
        nodeId: rec.nodeName,
        name: `${rec.namespace}/${rec.name}/${c.spec.name}`,
        resources: containerResources(c.spec),
        ports: containerPorts(c.spec),
        env: c.env,
        image: c.image,
        killGracePeriodMs: grace,
        labels: { 'berth.dev/pod': rec.key, 'berth.dev/container': c.spec.name },
        ...(simulated
          ? {
              mode: 'simulated' as const,
              simulated: {
                ...(Number.isFinite(duration) && duration >= 0 ? { durationMs: duration } : {}),
                ...(Number.isInteger(exitCode) ? { exitCode } : {}),
              },
            }
          : // stderr joins stdout so the container log keeps their order, as a runtime's log does.
            { mode: 'process' as const, args: ['/bin/sh', '-c', 'exec "$@" 2>&1', 'sh', ...argv] }),
      };
    } catch (error) {
      this.#createFailed(rec, c, 'CreateContainerConfigError', error);
      return;
    }
    let task: EngineTask;
    try {
      task = engine.launch(launch);
    } catch (error) {
      this.#createFailed(rec, c, 'CreateContainerError', error);
      return;
    }
    if (c.taskId !== undefined) c.previousTaskId = c.taskId;
    c.taskId = taskId;
    c.sandbox = task.sandbox;
    c.hostPorts = new Map();
    (c.spec.ports ?? []).forEach((p, i) => {
      const host = task.ports[i];
      if (host === undefined) return;
      c.hostPorts.set(p.containerPort, host);
      if (p.name !== undefined) c.hostPorts.set(p.name, host);
    });
    this.#byTask.set(taskId, { rec, c });
    this.#event(rec, 'Normal', 'Created', `Created container ${c.spec.name}`);
    if (task.state === 'RUNNING') this.#onRunning(rec, c);
  }

  #createFailed(rec: PodRec, c: ContainerRec, reason: string, error: unknown): void {
    const message =
      error instanceof Error ? error.message.replace(/^\[berth\] (\[[^\]]+\] )?/, '') : String(error);
    c.state = { kind: 'waiting', reason, message };
    this.#event(rec, 'Warning', 'Failed', `Error: ${message}`);
    this.#markDirty(rec);
    const delay = this.#nextBackoff(c, 0);
    c.backoffTimer = setTimeout(() => this.#launch(rec, c), Math.max(delay, this.#o.backoff.initialMs));
  }

  #onRunning(rec: PodRec, c: ContainerRec): void {
    if (c.state.kind === 'running') return;
    c.state = { kind: 'running', startedAt: new Date() };
    this.#event(rec, 'Normal', 'Started', `Started container ${c.spec.name}`);
    const simulated = this.#o.engine.task(c.taskId ?? '')?.mode === 'simulated';
    const target = {
      resolvePort: (port: number | string) =>
        c.hostPorts.get(port) ?? (typeof port === 'number' ? port : undefined),
      env: c.env,
      ...(c.sandbox === undefined ? {} : { cwd: c.sandbox }),
    };
    if (c.init) {
      this.#markDirty(rec);
      return;
    }
    c.ready = c.spec.readinessProbe === undefined || simulated;
    if (c.spec.readinessProbe !== undefined && !simulated) {
      c.readiness = new ProbeLoop(c.spec.readinessProbe, target, (ok, message) => {
        c.ready = ok && c.state.kind === 'running';
        if (!ok) this.#event(rec, 'Warning', 'Unhealthy', `Readiness probe failed: ${message}`);
        this.#markDirty(rec);
      });
      c.readiness.start();
    }
    if (c.spec.livenessProbe !== undefined && !simulated) {
      c.liveness = new ProbeLoop(c.spec.livenessProbe, target, (ok, message) => {
        if (ok || c.taskId === undefined || rec.deleting) return;
        this.#event(rec, 'Warning', 'Unhealthy', `Liveness probe failed: ${message}`);
        this.#event(
          rec,
          'Normal',
          'Killing',
          `Container ${c.spec.name} failed liveness probe, will be restarted`,
        );
        void this.#kill(c.taskId, (rec.pod.spec?.terminationGracePeriodSeconds ?? 30) * 1000);
      });
      c.liveness.start();
    }
    this.#markDirty(rec);
  }

  #onEngineEvent(e: EngineEvent): void {
    if (e.type === 'node-recovered') {
      for (const rec of this.#pods.values()) if (rec.nodeName === e.nodeId) this.#markDirty(rec);
      return;
    }
    if (e.type !== 'task-status') return;
    const hit = this.#byTask.get(e.taskId);
    if (hit === undefined) return;
    const { rec, c } = hit;
    if (c.taskId !== e.taskId) return;
    const state = e.status.state;
    if (state === 'RUNNING') this.#onRunning(rec, c);
    else if (
      state === 'FINISHED' ||
      state === 'FAILED' ||
      state === 'KILLED' ||
      state === 'LOST' ||
      state === 'ERROR'
    ) {
      this.#byTask.delete(e.taskId);
      this.#onExit(rec, c, this.#o.engine.task(e.taskId), state, e.status.message);
    }
  }

  #onExit(
    rec: PodRec,
    c: ContainerRec,
    task: EngineTask | undefined,
    state: string,
    message: string | undefined,
  ): void {
    this.#stopContainerLoops(c);
    c.ready = false;
    const signal = task?.signal === undefined ? undefined : SIGNALS[task.signal];
    const exitCode =
      task?.exitCode ??
      (signal !== undefined ? 128 + signal : state === 'FINISHED' ? 0 : state === 'KILLED' ? 137 : 1);
    const startedAt = c.state.kind === 'running' ? c.state.startedAt : undefined;
    const oom = message !== undefined && /oom/i.test(message);
    const terminated: TerminatedState = {
      exitCode,
      ...(signal === undefined ? {} : { signal }),
      reason: oom ? 'OOMKilled' : exitCode === 0 ? 'Completed' : 'Error',
      ...(message === undefined || exitCode === 0 ? {} : { message }),
      ...(startedAt === undefined ? {} : { startedAt }),
      finishedAt: new Date(),
      containerID: `berth://${c.taskId}`,
    };
    c.state = { kind: 'terminated', ...terminated };
    const policy = rec.pod.spec?.restartPolicy ?? 'Always';
    if (c.init && !rec.deleting && !rec.gone) {
      if (exitCode === 0) {
        this.#initCompleted(rec, c);
        this.#markDirty(rec);
        return;
      }
      if (policy === 'Never') {
        rec.initFailed = true;
        for (const app of rec.containers) app.state = { kind: 'waiting', reason: 'PodInitializing' };
        this.#markDirty(rec);
        return;
      }
    }
    // Init containers restart only on failure (any policy but Never, handled above).
    const restart =
      !rec.deleting &&
      !rec.gone &&
      (c.init || policy === 'Always' || (policy === 'OnFailure' && exitCode !== 0));
    if (restart) {
      const ranMs = startedAt === undefined ? 0 : Date.now() - startedAt.getTime();
      const delay = this.#nextBackoff(c, ranMs);
      c.lastTerminated = terminated;
      if (delay === 0) {
        c.attempt++;
        c.restartCount++;
        c.state = { kind: 'waiting', reason: 'ContainerCreating' };
        this.#launch(rec, c);
      } else {
        c.state = {
          kind: 'waiting',
          reason: 'CrashLoopBackOff',
          message: `back-off ${formatDuration(delay)} restarting failed container=${c.spec.name} pod=${rec.name}_${rec.namespace}(${rec.uid})`,
        };
        this.#event(
          rec,
          'Warning',
          'BackOff',
          `Back-off restarting failed container ${c.spec.name} in pod ${rec.name}_${rec.namespace}(${rec.uid})`,
        );
        c.backoffTimer = setTimeout(() => {
          c.attempt++;
          c.restartCount++;
          this.#launch(rec, c);
        }, delay);
      }
    }
    this.#markDirty(rec);
  }

  /** Delay before the next restart: none the first time, then initial × 2ⁿ up to max; reset after a long run. */
  #nextBackoff(c: ContainerRec, ranMs: number): number {
    const { initialMs, maxMs } = this.#o.backoff;
    if (ranMs > 2 * maxMs) c.backoffSteps = 0;
    const steps = c.backoffSteps++;
    return steps === 0 ? 0 : Math.min(initialMs * 2 ** (steps - 1), maxMs);
  }

  #stopContainerLoops(c: ContainerRec): void {
    c.readiness?.stop();
    c.liveness?.stop();
    c.readiness = undefined;
    c.liveness = undefined;
    clearTimeout(c.backoffTimer);
    c.backoffTimer = undefined;
  }

  async #kill(taskId: string, graceMs: number): Promise<void> {
    try {
      await this.#o.engine.kill(taskId, { gracePeriodMs: graceMs });
    } catch (error) {
      if ((error as BerthError).code !== 'NOT_FOUND') this.#o.onError(error);
    }
  }

  // ----------------------------------------------------------------------------------------
  // Deletion

  async #terminate(rec: PodRec): Promise<void> {
    rec.deleting = true;
    const meta = rec.pod.metadata ?? {};
    const graceSeconds = meta.deletionGracePeriodSeconds ?? rec.pod.spec?.terminationGracePeriodSeconds ?? 30;
    const kills: Promise<void>[] = [];
    for (const c of allOf(rec)) {
      this.#stopContainerLoops(c);
      if (c.state.kind === 'waiting' && c.lastTerminated !== undefined)
        c.state = { kind: 'terminated', ...c.lastTerminated };
      if (c.state.kind === 'running' && c.taskId !== undefined) {
        this.#event(rec, 'Normal', 'Killing', `Stopping container ${c.spec.name}`);
        kills.push(this.#kill(c.taskId, graceSeconds * 1000));
      }
    }
    await Promise.all(kills);
    if (rec.gone) return;
    await this.#flush(rec);
    if (rec.gone) return;
    this.#pods.delete(rec.key);
    rec.gone = true;
    await this.#finalDelete(rec.namespace, rec.name, rec.uid);
  }

  async #finalDelete(namespace: string, name: string, uid: string): Promise<void> {
    const { client } = this.#o;
    try {
      await client.call('delete pod', () =>
        client.core.deleteNamespacedPod({
          namespace,
          name,
          gracePeriodSeconds: 0,
          body: { gracePeriodSeconds: 0, preconditions: { uid } },
        }),
      );
    } catch (error) {
      const code = statusOf(error);
      if (code !== 404 && code !== 409) this.#o.onError(error);
    }
  }

  // ----------------------------------------------------------------------------------------
  // Status and events

  #status(rec: PodRec): V1PodStatus {
    const runtime = (c: ContainerRec): ContainerRuntime => ({
      name: c.spec.name,
      image: c.image,
      restartCount: c.restartCount,
      state: c.state,
      ...(c.lastTerminated === undefined ? {} : { lastTerminated: c.lastTerminated }),
      ready: c.init ? c.state.kind === 'terminated' && c.state.exitCode === 0 : c.ready,
      ...(c.taskId === undefined ? {} : { containerID: `berth://${c.taskId}` }),
    });
    const runtimes = rec.containers.map(runtime);
    const inits = rec.inits.map(runtime);
    const phase: PodPhase = rec.initFailed ? 'Failed' : rec.initialized ? podPhase(runtimes) : 'Pending';
    const pendingInits = rec.initialized
      ? []
      : rec.inits.filter((c) => !(c.state.kind === 'terminated' && c.state.exitCode === 0));
    rec.conditions = podConditions(
      phase,
      runtimes,
      rec.conditions,
      new Date(),
      pendingInits.map((c) => c.spec.name),
    );
    const hostIP = this.#o.engine.node(rec.nodeName)?.address ?? '127.0.0.1';
    if (rec.rejected !== undefined) {
      return {
        phase: 'Failed',
        reason: rec.rejected.reason,
        message: rec.rejected.message,
        hostIP,
        hostIPs: [{ ip: hostIP }],
        startTime: rec.startTime,
      };
    }
    return {
      phase,
      conditions: rec.conditions,
      hostIP,
      hostIPs: [{ ip: hostIP }],
      podIP: hostIP,
      podIPs: [{ ip: hostIP }],
      startTime: rec.startTime,
      ...(inits.length === 0 ? {} : { initContainerStatuses: inits.map(containerStatus) }),
      containerStatuses: runtimes.map(containerStatus),
    };
  }

  #markDirty(rec: PodRec): void {
    rec.dirty = true;
    if (!rec.flushing) queueMicrotask(() => void this.#flush(rec));
  }

  /** Sends the pod's status if it changed; one request in flight per pod, the latest state wins. */
  async #flush(rec: PodRec): Promise<void> {
    if (rec.flushing) return;
    rec.flushing = true;
    try {
      while (rec.dirty && !rec.gone && !this.#closed) {
        rec.dirty = false;
        if (!this.#o.alive(rec.nodeName)) return; // a dead kubelet reports nothing
        const status = this.#status(rec);
        const body = JSON.stringify(status);
        if (body === rec.lastSent) continue;
        const { client } = this.#o;
        try {
          await client.call('patch pod status', () =>
            client.core.patchNamespacedPodStatus(
              { namespace: rec.namespace, name: rec.name, body: { metadata: { uid: rec.uid }, status } },
              MERGE_PATCH,
            ),
          );
          rec.lastSent = body;
        } catch (error) {
          const code = statusOf(error);
          if (code === 404 || code === 409) return;
          this.#o.onError(error);
          rec.dirty = true;
          await new Promise((r) => setTimeout(r, 1000));
        }
      }
    } finally {
      rec.flushing = false;
    }
  }

  #event(rec: PodRec, type: 'Normal' | 'Warning', reason: string, message: string): void {
    if (!this.#o.events || !this.#o.alive(rec.nodeName)) return;
    const { client } = this.#o;
    const now = new Date();
    const name = `${rec.name}.${this.#eventPrefix}${(this.#eventSeq++).toString(16).padStart(6, '0')}`;
    client
      .call('create event', () =>
        client.core.createNamespacedEvent({
          namespace: rec.namespace,
          body: {
            metadata: { name, namespace: rec.namespace },
            involvedObject: {
              kind: 'Pod',
              apiVersion: 'v1',
              namespace: rec.namespace,
              name: rec.name,
              uid: rec.uid,
            },
            reason,
            message,
            type,
            source: { component: 'kubelet', host: rec.nodeName },
            reportingComponent: 'kubelet',
            reportingInstance: rec.nodeName,
            firstTimestamp: now,
            lastTimestamp: now,
            count: 1,
          },
        }),
      )
      .catch((error: unknown) => {
        if (statusOf(error) !== 404) this.#o.onError(error);
      });
  }
}

function formatDuration(ms: number): string {
  if (ms >= 60_000 && ms % 60_000 === 0) return `${ms / 60_000}m0s`;
  if (ms >= 60_000) return `${Math.floor(ms / 60_000)}m${Math.round((ms % 60_000) / 1000)}s`;
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/** The last `n` lines of `data` (a trailing newline does not count as a line). */
export function tail(data: Uint8Array, n: number): Uint8Array {
  if (n <= 0) return new Uint8Array();
  let end = data.length;
  if (end > 0 && data[end - 1] === 0x0a) end--;
  let seen = 0;
  for (let i = end - 1; i >= 0; i--) {
    if (data[i] === 0x0a && ++seen === n) return data.subarray(i + 1);
  }
  return data;
}

/** Prefixes every line with an RFC 3339 timestamp (when the kubelet read it), as `timestamps=true`. */
export class LineStamper {
  #atLineStart = true;

  push(chunk: Uint8Array): Uint8Array {
    const parts: Buffer[] = [];
    let from = 0;
    for (let i = 0; i < chunk.length; i++) {
      if (this.#atLineStart) {
        parts.push(Buffer.from(`${new Date().toISOString().replace('Z', '000000Z')} `));
        this.#atLineStart = false;
      }
      if (chunk[i] === 0x0a) {
        parts.push(Buffer.from(chunk.subarray(from, i + 1)));
        from = i + 1;
        this.#atLineStart = true;
      }
    }
    if (from < chunk.length) parts.push(Buffer.from(chunk.subarray(from)));
    return Buffer.concat(parts);
  }
}
