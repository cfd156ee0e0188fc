/**
 * Berth's autoscaling controller: every sync period, for each registered service, read the current
 * replica count and the replicas' metrics, decide with {@link decideScale}, scale when the decision
 * says so, and emit the decision (inputs and outputs) as an event. Backends plug in through two
 * small interfaces: a {@link MetricsSource} (metrics.k8s.io, Mesos agent container statistics…) and
 * a {@link Scaler} (usually the adapter's `scale`). Time comes from an injected {@link Clock}.
 */
import type { AbortSignalLike, Clock, TimerHandle } from '../cluster/clock.ts';
import { systemClock } from '../cluster/clock.ts';
import { BerthError, toBerthError } from '../cluster/errors.ts';
import {
  type Observer,
  Subject,
  type Subscribable,
  toAsyncIterable,
  type Unsubscribe,
} from '../cluster/observable.ts';
import { type AutoscaleHistory, emptyAutoscaleHistory, recordScaleEvent, resolveBounds } from './behavior.ts';
import { type AutoscalePolicy, type DecideOptions, decideScale, type ScaleDecision } from './decide.ts';
import type { PodMetricSample } from './replica-calculator.ts';

const COMPONENT = 'core/autoscale';

/** Where per-replica usage comes from. */
export interface MetricsSource {
  /** One sample per replica of the service (running, starting or being killed), as of now. */
  podMetrics(
    service: string,
    options?: { readonly signal?: AbortSignalLike },
  ): Promise<readonly PodMetricSample[]>;
}

/** What the controller scales. A `ClusterAdapter` fits: `scale(service, n)` plus a replica count. */
export interface Scaler {
  /** The replica count the service is set to (the desired count, not how many are running yet). */
  currentReplicas(service: string): Promise<number>;
  scale(service: string, replicas: number): Promise<void>;
}

export interface AutoscalerOptions {
  readonly metrics: MetricsSource;
  readonly scaler: Scaler;
  /** Default `systemClock`. */
  readonly clock?: Clock;
  /** Time between syncs (`--horizontal-pod-autoscaler-sync-period`), default 15 000 ms. */
  readonly syncPeriodMs?: number;
  /** Tolerance, cpu initialization period, readiness delay, legacy window. */
  readonly decide?: DecideOptions;
}

/** Which step of a sync failed. */
export type AutoscaleFailureStage = 'currentReplicas' | 'metrics' | 'scale';

/**
 * What the controller emits, in order (`seq` increases by one per event):
 * - `decision`: one per service per sync, with the full {@link ScaleDecision}; `scaled` tells
 *   whether the scale call was made and succeeded;
 * - `failure`: a step failed; the service keeps its count and is retried next period.
 */
export type AutoscalerEvent =
  | {
      readonly type: 'decision';
      readonly seq: number;
      readonly at: number;
      readonly service: string;
      readonly decision: ScaleDecision;
      readonly scaled: boolean;
    }
  | {
      readonly type: 'failure';
      readonly seq: number;
      readonly at: number;
      readonly service: string;
      readonly stage: AutoscaleFailureStage;
      readonly error: BerthError;
      /** Present when the decision was made and only the scale call failed. */
      readonly decision?: ScaleDecision;
    };

type WithoutSeq<T> = T extends unknown ? Omit<T, 'seq'> : never;

interface Entry {
  policy: AutoscalePolicy;
  history: AutoscaleHistory;
}

/**
 * ```ts
 * const autoscaler = new Autoscaler({ metrics, scaler: adapter, clock });
 * autoscaler.add('web', service.autoscaling);
 * const off = autoscaler.subscribe((e) => console.log(e));
 * autoscaler.start();
 * // …
 * autoscaler.stop();
 * ```
 */
export class Autoscaler implements Subscribable<AutoscalerEvent>, Disposable {
  readonly #metrics: MetricsSource;
  readonly #scaler: Scaler;
  readonly #clock: Clock;
  readonly #syncPeriodMs: number;
  readonly #decide: DecideOptions;
  readonly #services = new Map<string, Entry>();
  readonly #events = new Subject<AutoscalerEvent>();
  #seq = 0;
  #timer: TimerHandle | undefined;
  #running = false;
  /** The end of the queue of syncs: each sync starts after the previous one settled. */
  #tail: Promise<void> = Promise.resolve();

  constructor(options: AutoscalerOptions) {
    const period = options.syncPeriodMs ?? 15_000;
    if (!Number.isFinite(period) || period <= 0) {
      throw new BerthError('SPEC_INVALID', `syncPeriodMs: must be a finite number > 0, got ${period}`, {
        component: COMPONENT,
        hint: 'The Kubernetes default sync period is 15000 ms.',
      });
    }
    if (typeof options.metrics?.podMetrics !== 'function') {
      throw new BerthError('SPEC_INVALID', 'metrics: must be a MetricsSource with podMetrics(service)', {
        component: COMPONENT,
      });
    }
    if (typeof options.scaler?.currentReplicas !== 'function' || typeof options.scaler.scale !== 'function') {
      throw new BerthError(
        'SPEC_INVALID',
        'scaler: must be a Scaler with currentReplicas(service) and scale(service, n)',
        {
          component: COMPONENT,
        },
      );
    }
    this.#metrics = options.metrics;
    this.#scaler = options.scaler;
    this.#clock = options.clock ?? systemClock;
    this.#syncPeriodMs = period;
    this.#decide = options.decide ?? {};
  }

  /** Autoscale `service` with `policy` (checked now); replaces the policy and keeps the history if already added. */
  add(service: string, policy: AutoscalePolicy): void {
    if (typeof service !== 'string' || service === '') {
      throw new BerthError('SPEC_INVALID', 'service: must be a non-empty service name', {
        component: COMPONENT,
      });
    }
    resolveBounds(policy);
    const existing = this.#services.get(service);
    if (existing) existing.policy = policy;
    else this.#services.set(service, { policy, history: emptyAutoscaleHistory() });
  }

  /** Stop autoscaling `service` and forget its history. Returns whether it was registered. */
  remove(service: string): boolean {
    return this.#services.delete(service);
  }

  get services(): string[] {
    return [...this.#services.keys()];
  }

  /** The recorded recommendations and scale events of `service`. */
  history(service: string): AutoscaleHistory | undefined {
    return this.#services.get(service)?.history;
  }

  get running(): boolean {
    return this.#running;
  }

  /** Sync every `syncPeriodMs`, the first time one period from now. Idempotent. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#arm();
  }

  /** Stop the timer; a sync in progress finishes (await {@link whenIdle}). Idempotent. */
  stop(): void {
    this.#running = false;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  [Symbol.dispose](): void {
    this.stop();
    this.#events.complete();
  }

  /** Resolves when no sync is in progress or queued. */
  async whenIdle(): Promise<void> {
    for (let tail = this.#tail; ; tail = this.#tail) {
      await tail;
      if (tail === this.#tail) return;
    }
  }

  subscribe(observer: Observer<AutoscalerEvent> | ((event: AutoscalerEvent) => void)): Unsubscribe {
    return this.#events.subscribe(observer);
  }

  /** Events from now on as an async iterable; ends when `signal` aborts or the autoscaler is disposed. */
  events(options: { readonly signal?: AbortSignalLike } = {}): AsyncIterableIterator<AutoscalerEvent> {
    return toAsyncIterable(this.#events, { signal: options.signal });
  }

  /**
   * Sync now: every registered service (or only `service`), one after another. Concurrent calls
   * wait for the sync in progress first, so two syncs never overlap. Resolves with the events
   * this sync emitted.
   */
  async syncNow(service?: string): Promise<AutoscalerEvent[]> {
    const run = this.#tail.then(async () => {
      const emitted: AutoscalerEvent[] = [];
      const names = service === undefined ? [...this.#services.keys()] : [service];
      for (const name of names) {
        const entry = this.#services.get(name);
        if (entry === undefined) {
          throw new BerthError('NOT_FOUND', `service ${JSON.stringify(name)} is not autoscaled`, {
            component: COMPONENT,
            hint: 'Register it first with autoscaler.add(service, policy).',
          });
        }
        await this.#syncOne(name, entry, emitted);
      }
      return emitted;
    });
    this.#tail = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  #arm(): void {
    if (!this.#running) return;
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      void this.syncNow()
        .catch(() => undefined)
        .finally(() => this.#arm());
    }, this.#syncPeriodMs);
  }

  #emit(event: WithoutSeq<AutoscalerEvent>, into: AutoscalerEvent[]): void {
    const full: AutoscalerEvent = { ...event, seq: ++this.#seq };
    into.push(full);
    this.#events.emit(full);
  }

  async #syncOne(service: string, entry: Entry, into: AutoscalerEvent[]): Promise<void> {
    const fail = (stage: AutoscaleFailureStage, err: unknown, decision?: ScaleDecision) =>
      this.#emit(
        {
          type: 'failure',
          at: this.#clock.now(),
          service,
          stage,
          error: toBerthError(err, COMPONENT),
          ...(decision === undefined ? {} : { decision }),
        },
        into,
      );
    let current: number;
    try {
      current = await this.#scaler.currentReplicas(service);
    } catch (err) {
      fail('currentReplicas', err);
      return;
    }
    let samples: readonly PodMetricSample[];
    try {
      samples = await this.#metrics.podMetrics(service);
    } catch (err) {
      fail('metrics', err);
      return;
    }
    let decision: ScaleDecision;
    try {
      decision = decideScale({
        service,
        currentReplicas: current,
        policy: entry.policy,
        samples,
        history: entry.history,
        now: this.#clock.now(),
        options: this.#decide,
      });
    } catch (err) {
      // Malformed samples from the source: report, keep the count.
      fail('metrics', err);
      return;
    }
    entry.history = decision.history;
    if (!decision.rescale) {
      this.#emit({ type: 'decision', at: decision.at, service, decision, scaled: false }, into);
      return;
    }
    try {
      await this.#scaler.scale(service, decision.desiredReplicas);
    } catch (err) {
      fail('scale', err, decision);
      return;
    }
    entry.history = recordScaleEvent(
      entry.history,
      decision.currentReplicas,
      decision.desiredReplicas,
      decision.at,
    );
    this.#emit({ type: 'decision', at: decision.at, service, decision, scaled: true }, into);
  }
}
