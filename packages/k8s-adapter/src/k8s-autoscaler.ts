/**
 * `K8sAutoscaler`: Berth's own HPA controller on Kubernetes, run by the adapter instead of creating
 * a HorizontalPodAutoscaler (Berth scheduler mode, or a cluster without autoscaling/v2|v2beta2).
 * Core's `Autoscaler` does the algorithm; this wires it to the cluster:
 *
 * - metrics: {@link KubePodMetrics} (metrics.k8s.io joined with the informer cache's pods);
 * - scaling: {@link DeploymentScaler} (the Deployment's `/scale`, 409 retried on a fresh read);
 * - every decision → a `ClusterEvent` (`SuccessfulRescale` / `AutoscaleDecision`, or
 *   `FailedGetScale` / `FailedGetResourceMetric` / `FailedRescale`) with the inputs in `details`,
 *   and each rescale or failure also as a Kubernetes Event on the Deployment (best effort);
 * - the policy travels in the Deployment's `berth.dev/autoscaling` annotation, so an adapter that
 *   connects later adopts the Deployments Berth autoscales;
 * - a Deployment that is gone (404) stops being autoscaled; other failures are reported and the
 *   next period tries again. `close()` clears the timer; time comes from the adapter's Clock;
 * - only one adapter syncs at a time: the holder of the `berth-autoscaler` Lease
 *   (coordination.k8s.io, as kube-controller-manager elects one HPA controller), so a dashboard,
 *   a `berth k8s scheduler` and a CLI that all adopt the same services never scale them twice or
 *   with split stabilization histories. Leadership is sought only once a service is autoscaled;
 *   `close()` releases the Lease so a standby takes over at once.
 */
import {
  type AutoscalePolicy,
  Autoscaler,
  type AutoscalerEvent,
  type AutoscalingSpec,
  autoscalerClusterEvent,
  BerthError,
  type Clock,
  type ClusterEvent,
  type DecideOptions,
  type MetricsSource,
  toBerthError,
} from '@berth/core';
import { type DeploymentRef, DeploymentScaler } from './deployment-scaler.ts';
import type { KubeClient } from './kube-client.ts';
import { query, seg } from './kube-client.ts';
import { COMPONENT, httpStatusOf } from './kube-errors.ts';
import { type KubeMetricsPod, KubePodMetrics } from './kube-pod-metrics.ts';
import { type LeaderElectionOptions, LeaderElector } from './leader-election.ts';

/** The Deployment annotation that holds the autoscaling policy Berth's controller applies. */
export const AUTOSCALING_ANNOTATION = 'berth.dev/autoscaling';

const SERVICE_LABEL = 'berth.dev/service';
const MANAGED_LABEL = 'berth.dev/managed';

/** Who scales a Service with `spec.autoscaling` on Kubernetes. */
export type K8sAutoscalingController = 'auto' | 'hpa' | 'berth';

export interface K8sAutoscalingOptions {
  /**
   * `auto` (default): in delegate mode an autoscaling/v2 (or v2beta2) HPA when the cluster serves
   * one, else Berth's controller; in Berth scheduler mode Berth's controller. `hpa` / `berth`
   * force one (`hpa` fails with UNSUPPORTED on a cluster without the API).
   */
  readonly controller?: K8sAutoscalingController;
  /** Time between syncs of Berth's controller (the HPA's `--horizontal-pod-autoscaler-sync-period`); default 15 000 ms. */
  readonly syncPeriodMs?: number;
  /** Tolerance, cpu initialization period, initial readiness delay (kube-controller-manager defaults). */
  readonly decide?: DecideOptions;
  /** Where replicas' usage comes from; default metrics.k8s.io (`KubePodMetrics`). */
  readonly metrics?: MetricsSource;
  /** Also record rescales and failures as Kubernetes Events on the Deployment (default true). */
  readonly kubernetesEvents?: boolean;
  /** At connect, adopt the Deployments carrying Berth's autoscaling annotation (default true). */
  readonly adopt?: boolean;
  /**
   * Sync only while holding a coordination.k8s.io Lease (default: Lease `berth-autoscaler` in
   * `kube-system`, 15 s, renewed every 2 s), so one adapter at a time scales. `false`: always sync
   * (a single Berth process per cluster, or tests).
   */
  readonly leaderElection?: false | LeaderElectionOptions;
}

/** Which controller scales services: `hpa` or `berth`, from the options, the mode and what the cluster serves. */
export function chooseAutoscalingController(
  controller: K8sAutoscalingController | undefined,
  mode: 'delegate' | 'berth',
  servesHpa: boolean,
): 'hpa' | 'berth' {
  if (controller === 'hpa' || controller === 'berth') return controller;
  return mode === 'delegate' && servesHpa ? 'hpa' : 'berth';
}

export function checkAutoscalingOptions(o: K8sAutoscalingOptions | undefined): void {
  const c = o?.controller;
  if (c !== undefined && c !== 'auto' && c !== 'hpa' && c !== 'berth') {
    throw new BerthError(
      'SPEC_INVALID',
      `autoscaling.controller must be "auto", "hpa" or "berth", got ${JSON.stringify(c)}`,
      {
        component: COMPONENT,
        hint: 'auto: an HPA in delegate mode when the cluster serves autoscaling/v2, else Berth’s controller.',
      },
    );
  }
}

export interface K8sAutoscalerOptions extends K8sAutoscalingOptions {
  readonly client: Pick<KubeClient, 'request'>;
  readonly clock: Clock;
  /** The cache's pods (all namespaces); empty before connect. */
  readonly pods: () => Iterable<
    KubeMetricsPod & { readonly namespace: string; readonly labels: Readonly<Record<string, string>> }
  >;
  /** The metrics.k8s.io version discovery chose (default v1beta1). */
  readonly metricsVersion?: () => string | undefined;
  /** Where decisions go: the adapter's event stream. */
  readonly emit: (event: Omit<ClusterEvent, 'seq' | 'at'>) => void;
  /** Failures the controller recovers from (logged by the adapter). */
  readonly onError?: (error: BerthError) => void;
}

export class K8sAutoscaler {
  /** Core's controller (its `syncNow`, `whenIdle`, `history` are useful in tests). */
  readonly autoscaler: Autoscaler;
  readonly #client: Pick<KubeClient, 'request'>;
  readonly #clock: Clock;
  readonly #emit: K8sAutoscalerOptions['emit'];
  readonly #onError: (error: BerthError) => void;
  readonly #kubeEvents: boolean;
  readonly #adopt: boolean;
  readonly #services = new Map<string, DeploymentRef>();
  readonly #scaler: DeploymentScaler;
  #eventsForbidden = false;
  #started = false;
  #closed = false;
  /** Undefined with `leaderElection: false`. */
  readonly #elector: LeaderElector | undefined;
  #electing = false;
  #leading: boolean;
  #release: Promise<void> | undefined;
  /** Kubernetes Events being posted, awaited by `close()`. */
  readonly #posting = new Set<Promise<void>>();

  constructor(options: K8sAutoscalerOptions) {
    checkAutoscalingOptions(options);
    this.#client = options.client;
    this.#clock = options.clock;
    this.#emit = options.emit;
    this.#onError = options.onError ?? (() => {});
    this.#kubeEvents = options.kubernetesEvents ?? true;
    this.#adopt = options.adopt ?? true;
    this.#elector =
      options.leaderElection === false
        ? undefined
        : new LeaderElector(
            options.client,
            { name: 'berth-autoscaler', ...options.leaderElection },
            options.clock,
          );
    this.#leading = this.#elector === undefined;
    this.#scaler = new DeploymentScaler({ client: options.client, deployment: (s) => this.#services.get(s) });
    const metrics =
      options.metrics ??
      new KubePodMetrics({
        client: options.client,
        ...(options.metricsVersion === undefined ? {} : { version: options.metricsVersion }),
        target: (service) => {
          const d = this.#services.get(service);
          if (d === undefined) return undefined;
          const pods: KubeMetricsPod[] = [];
          for (const p of options.pods())
            if (p.namespace === d.namespace && p.labels[SERVICE_LABEL] === service) pods.push(p);
          return { namespace: d.namespace, labelSelector: `${SERVICE_LABEL}=${service}`, pods };
        },
      });
    this.autoscaler = new Autoscaler({
      metrics,
      scaler: {
        currentReplicas: (service) => this.#scaler.currentReplicas(service),
        scale: async (service, n) => {
          // A sync that was under way when the adapter closed does not write any more.
          if (this.#closed) {
            throw new BerthError('BACKEND_UNAVAILABLE', 'the Kubernetes adapter is closed', {
              component: COMPONENT,
            });
          }
          await this.#scaler.scale(service, n);
        },
      },
      clock: options.clock,
      ...(options.syncPeriodMs === undefined ? {} : { syncPeriodMs: options.syncPeriodMs }),
      ...(options.decide === undefined ? {} : { decide: options.decide }),
    });
    this.autoscaler.subscribe((e) => this.#record(e));
  }

  /** Services autoscaled now, with their Deployments. */
  get services(): ReadonlyMap<string, DeploymentRef> {
    return this.#services;
  }

  /** Resolves once `close()` has given the Lease back (the client must stay open until then). */
  async released(): Promise<void> {
    await this.#release?.catch(() => undefined);
  }

  /** Whether this adapter syncs now (it holds the Lease, or leader election is off). */
  get leading(): boolean {
    return this.#leading;
  }

  /** Autoscale `service` (its Deployment `namespace/name`) with `policy`; starts the loop once started. */
  add(service: string, deployment: DeploymentRef, policy: AutoscalePolicy): void {
    if (this.#closed) return;
    this.autoscaler.add(service, policy);
    this.#services.set(service, deployment);
    if (this.#started) this.#run();
  }

  /** Sync while leading; seek leadership (once) when there is something to autoscale. */
  #run(): void {
    if (this.#closed || this.autoscaler.services.length === 0) return;
    if (this.#leading) this.autoscaler.start();
    const elector = this.#elector;
    if (elector === undefined || this.#electing) return;
    this.#electing = true;
    elector.start(
      (leader) => {
        this.#leading = leader;
        if (this.#closed) return;
        if (leader && this.autoscaler.services.length > 0) this.autoscaler.start();
        else if (!leader) this.autoscaler.stop();
      },
      (error) => {
        const e = toBerthError(error, COMPONENT);
        this.#onError(
          new BerthError(e.code, `autoscaling leader election: ${e.message}`, {
            component: COMPONENT,
            cause: e,
            hint: 'Berth’s autoscaler syncs only while it holds a coordination.k8s.io Lease: allow get/create/update on leases in its namespace, or set autoscaling.leaderElection: false.',
          }),
        );
      },
    );
  }

  remove(service: string): boolean {
    this.#services.delete(service);
    const had = this.autoscaler.remove(service);
    if (this.autoscaler.services.length === 0) this.autoscaler.stop();
    return had;
  }

  /** After connect: adopt annotated Deployments (unless disabled) and start syncing. */
  async start(): Promise<void> {
    if (this.#closed || this.#started) return;
    if (this.#adopt) {
      try {
        await this.#adoptDeployments();
      } catch (error) {
        // Not fatal: the services this adapter submits are still autoscaled.
        this.#onError(toBerthError(error, COMPONENT));
      }
    }
    if (this.#closed) return;
    this.#started = true;
    this.#run();
  }

  /**
   * Stop the loop at once (no further sync or event); resolves when the sync in progress and the
   * Events being posted have settled — close the client to cut them short. Idempotent.
   */
  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.autoscaler.stop();
      this.autoscaler[Symbol.dispose]();
      // Release the Lease so a standby adapter takes over at once (see `released`).
      this.#release = this.#electing ? this.#elector?.stop() : undefined;
    }
    await Promise.allSettled([this.autoscaler.whenIdle(), ...this.#posting, this.#release]);
  }

  async #adoptDeployments(): Promise<void> {
    const list = await this.#client.request<{
      items?: {
        metadata?: {
          name?: string;
          namespace?: string;
          annotations?: Record<string, string>;
          labels?: Record<string, string>;
        };
      }[];
    }>('GET', `/apis/apps/v1/deployments${query({ labelSelector: `${MANAGED_LABEL}=true` })}`);
    for (const d of list.items ?? []) {
      const m = d.metadata ?? {};
      const raw = m.annotations?.[AUTOSCALING_ANNOTATION];
      const service = m.labels?.[SERVICE_LABEL];
      if (raw === undefined || service === undefined || m.name === undefined || m.namespace === undefined)
        continue;
      if (this.#services.has(service)) continue;
      try {
        this.add(service, { namespace: m.namespace, name: m.name }, JSON.parse(raw) as AutoscalingSpec);
      } catch (error) {
        this.#onError(
          new BerthError(
            'SPEC_INVALID',
            `Deployment ${m.namespace}/${m.name}: annotation ${AUTOSCALING_ANNOTATION} is not a valid autoscaling policy`,
            {
              component: COMPONENT,
              cause: error,
              hint: 'Resubmit the Service, or remove the annotation to stop Berth autoscaling it.',
            },
          ),
        );
      }
    }
  }

  #record(e: AutoscalerEvent): void {
    if (this.#closed) return;
    const d = this.#services.get(e.service);
    const event = autoscalerClusterEvent(e);
    this.#emit({ ...event, details: { ...event.details, controller: 'berth' } });
    if (e.type === 'decision') {
      if (e.scaled && d !== undefined) {
        const up = e.decision.desiredReplicas > e.decision.currentReplicas;
        this.#kubeEvent(
          d,
          'Normal',
          'SuccessfulRescale',
          `New size: ${e.decision.desiredReplicas}; reason: ${
            up
              ? `${e.decision.recommendedBy ?? 'cpu'} resource utilization (percentage of request) above target`
              : 'All metrics below target'
          }`,
        );
      }
      return;
    }
    const kind = event.kind;
    const gone = e.stage !== 'metrics' && httpStatusOf(e.error) === 404;
    this.#onError(e.error);
    if (gone) {
      // The Deployment was deleted: nothing left to scale.
      this.remove(e.service);
      this.#emit({
        level: 'info',
        kind: 'AutoscalingStopped',
        message: `autoscale ${e.service}: its Deployment is gone; no longer autoscaled`,
        service: e.service,
      });
      return;
    }
    if (d !== undefined) this.#kubeEvent(d, 'Warning', kind, e.error.message);
  }

  #kubeEvent(d: DeploymentRef, type: 'Normal' | 'Warning', reason: string, message: string): void {
    if (!this.#kubeEvents || this.#eventsForbidden || this.#closed) return;
    const at = new Date(this.#clock.now()).toISOString().replace(/\.\d+Z$/, 'Z');
    const post = this.#client
      .request('POST', `/api/v1/namespaces/${seg(d.namespace)}/events`, {
        body: {
          apiVersion: 'v1',
          kind: 'Event',
          metadata: { generateName: `${d.name}.`, namespace: d.namespace },
          involvedObject: { apiVersion: 'apps/v1', kind: 'Deployment', namespace: d.namespace, name: d.name },
          reason,
          message,
          type,
          source: { component: 'berth-autoscaler' },
          reportingComponent: 'berth.dev/autoscaler',
          firstTimestamp: at,
          lastTimestamp: at,
          count: 1,
        },
      })
      .then(
        () => undefined,
        (error: unknown) => {
          // Without RBAC for events, stop trying; the adapter's event stream has them anyway.
          if (httpStatusOf(error) === 403) this.#eventsForbidden = true;
          this.#onError(toBerthError(error, COMPONENT));
        },
      );
    this.#posting.add(post);
    void post.finally(() => this.#posting.delete(post));
  }
}
