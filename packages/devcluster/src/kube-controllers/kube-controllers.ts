/**
 * `startKubeControllers`: the control plane's controllers in-process against devcluster's
 * Kubernetes face — the default scheduler, node lifecycle (with its taint manager), Deployment,
 * ReplicaSet, Job, EndpointSlice/Endpoints, garbage collector and HPA. Each can be stopped and
 * started again on its own (`restart(name)`), as after a controller-manager restart: it relists
 * from the shared informers and converges.
 */
import { BerthError, type Clock, systemClock } from '@berth/core';
import type { KubeApiServer } from '../kube/api-server.ts';
import type { KubeApi } from '../kube/kube-api.ts';
import type { Controller, ControllerContext } from './controller.ts';
import { startDeploymentController } from './deployment-controller.ts';
import { startEndpointsController } from './endpoints-controller.ts';
import { EventRecorder } from './events.ts';
import { type GarbageCollectorOptions, startGarbageCollector } from './garbage-collector.ts';
import { type HpaControllerOptions, startHpaController } from './hpa-controller.ts';
import { type JobControllerOptions, startJobController } from './job-controller.ts';
import { type NodeLifecycleOptions, startNodeLifecycle } from './node-lifecycle.ts';
import { startReplicaSetController } from './replica-set-controller.ts';
import { Informers } from './runtime.ts';
import {
  type SchedulerController,
  type SchedulerOptions,
  type SchedulerStats,
  startScheduler,
} from './scheduler.ts';

export const CONTROLLER_NAMES = [
  'scheduler',
  'node-lifecycle',
  'deployment',
  'replicaset',
  'job',
  'endpoints',
  'garbage-collector',
  'hpa',
] as const;

export type ControllerName = (typeof CONTROLLER_NAMES)[number];

export interface KubeControllersOptions {
  /** The API to control (in-process). Give this or `apiServer`. */
  readonly store?: KubeApi;
  /** A started face; its `store` is used. */
  readonly apiServer?: Pick<KubeApiServer, 'store'>;
  /** Which controllers run (default: all of `CONTROLLER_NAMES`). */
  readonly controllers?: readonly ControllerName[];
  /** Time for grace periods, back-offs, deadlines and timestamps (default the system clock). */
  readonly clock?: Clock;
  readonly scheduler?: SchedulerOptions;
  readonly nodeLifecycle?: NodeLifecycleOptions;
  readonly job?: JobControllerOptions;
  readonly garbageCollector?: GarbageCollectorOptions;
  readonly hpa?: HpaControllerOptions;
  /** Failures the controllers recover from by retrying (default: ignored). */
  readonly onError?: (error: BerthError) => void;
}

export interface KubeControllers extends AsyncDisposable {
  /** Names of the controllers running now. */
  running(): ControllerName[];
  stop(name: ControllerName): void;
  start(name: ControllerName): void;
  /** Stop and start one controller: it rebuilds its state from the informers. */
  restart(name: ControllerName): void;
  /** Resolves once no controller has work queued for an immediate sync. */
  idle(): Promise<void>;
  schedulerStats(): SchedulerStats | undefined;
  close(): Promise<void>;
}

function optionError(field: string, value: unknown, expected: string): BerthError {
  return new BerthError(
    'SPEC_INVALID',
    `startKubeControllers option \`${field}\` is ${JSON.stringify(value)}: ${expected}`,
    {
      component: 'devcluster/kube-controllers',
      hint: `fix \`${field}\` or leave it out for the default`,
      details: { field },
    },
  );
}

function checkPositive(field: string, value: number | undefined): void {
  if (value !== undefined && (!Number.isFinite(value) || value <= 0))
    throw optionError(field, value, 'expected a positive number of milliseconds');
}

/** Reject bad options before anything starts (one BerthError naming the option). */
export function validateControllerOptions(options: KubeControllersOptions): void {
  if (options.store === undefined && options.apiServer === undefined)
    throw optionError(
      'store',
      undefined,
      'pass `store` (a KubeApi) or `apiServer` (startKubeApiServer’s result)',
    );
  for (const name of options.controllers ?? []) {
    if (!(CONTROLLER_NAMES as readonly string[]).includes(name))
      throw optionError('controllers', name, `expected names from ${CONTROLLER_NAMES.join(', ')}`);
  }
  checkPositive('scheduler.initialBackoffMs', options.scheduler?.initialBackoffMs);
  checkPositive('scheduler.maxBackoffMs', options.scheduler?.maxBackoffMs);
  checkPositive('scheduler.unschedulableFlushMs', options.scheduler?.unschedulableFlushMs);
  checkPositive('nodeLifecycle.gracePeriodMs', options.nodeLifecycle?.gracePeriodMs);
  checkPositive('nodeLifecycle.monitorPeriodMs', options.nodeLifecycle?.monitorPeriodMs);
  checkPositive('job.podFailureBackoffMs', options.job?.podFailureBackoffMs);
  checkPositive('garbageCollector.resyncMs', options.garbageCollector?.resyncMs);
  checkPositive('hpa.syncPeriodMs', options.hpa?.syncPeriodMs);
}

export function startKubeControllers(options: KubeControllersOptions): KubeControllers {
  validateControllerOptions(options);
  const api = (options.store ?? options.apiServer?.store) as KubeApi;
  const clock = options.clock ?? systemClock;
  const informers = new Informers(api);
  const ctx: ControllerContext = {
    api,
    informers,
    clock,
    events: new EventRecorder(api, clock),
    onError: options.onError ?? (() => {}),
  };
  const factories: Record<ControllerName, () => Controller> = {
    scheduler: () => startScheduler(ctx, options.scheduler),
    'node-lifecycle': () => startNodeLifecycle(ctx, options.nodeLifecycle),
    deployment: () => startDeploymentController(ctx),
    replicaset: () => startReplicaSetController(ctx),
    job: () => startJobController(ctx, options.job),
    endpoints: () => startEndpointsController(ctx),
    'garbage-collector': () => startGarbageCollector(ctx, options.garbageCollector),
    hpa: () => startHpaController(ctx, options.hpa),
  };
  const running = new Map<ControllerName, Controller>();
  let closed = false;
  const start = (name: ControllerName) => {
    if (closed || running.has(name)) return;
    running.set(name, factories[name]());
  };
  const stop = (name: ControllerName) => {
    running.get(name)?.stop();
    running.delete(name);
  };
  for (const name of options.controllers ?? CONTROLLER_NAMES) start(name);

  const close = async () => {
    if (closed) return;
    closed = true;
    for (const name of [...running.keys()]) stop(name);
    informers.stop();
  };
  return {
    running: () => [...running.keys()],
    start,
    stop,
    restart: (name) => {
      stop(name);
      start(name);
    },
    idle: async () => {
      // Controllers feed each other: settle until a round finds nothing queued.
      for (let round = 0; round < 20; round++) {
        await Promise.all([...running.values()].map((c) => c.idle()));
        await new Promise((r) => setImmediate(r));
        const again = await Promise.race([
          Promise.all([...running.values()].map((c) => c.idle())).then(() => false),
          new Promise<boolean>((r) => setImmediate(() => r(true))),
        ]);
        if (!again) return;
      }
    },
    schedulerStats: () => (running.get('scheduler') as SchedulerController | undefined)?.stats(),
    close,
    [Symbol.asyncDispose]: close,
  };
}
