/**
 * The live endpoints of every Service, reconciled from task statuses, with diff events and a watch.
 * Feed it the adapter's task watch (`registry.follow(adapter.watchTasks({ initial: true }))`) or
 * individual statuses (`apply`), or whole lists from a periodic resync (`reconcile`); read
 * `endpoints(service)`; observe changes with `subscribe` or `watch`.
 */
import type { AbortSignalLike, Clock } from '../cluster/clock.ts';
import { systemClock } from '../cluster/clock.ts';
import { BerthError } from '../cluster/errors.ts';
import {
  type Observer,
  Subject,
  type Subscribable,
  toAsyncIterable,
  type Unsubscribe,
} from '../cluster/observable.ts';
import { isTerminal } from '../cluster/task-state.ts';
import {
  type DiscoveryTaskStatus,
  type EndpointChange,
  endpointChanged,
  endpointFromStatus,
  type ServiceEndpoint,
  type WithdrawalReason,
} from './endpoints.ts';

const COMPONENT = 'core/discovery';

/** An {@link EndpointChange} as emitted: numbered (`seq` + 1 per event) and timestamped (`at`, epoch ms). */
export type EndpointEvent = EndpointChange & { readonly seq: number; readonly at: number };

export interface EndpointRegistryOptions {
  /** Default `systemClock`. */
  readonly clock?: Clock;
  /** The ports to publish per service (`ServiceSpec.discovery.ports`); absent or `undefined` publishes all. */
  readonly publishedPorts?: (service: string) => readonly string[] | undefined;
  /** How many ended tasks to remember, so a late, stale status cannot bring one back (default 10 000). */
  readonly maxTombstones?: number;
}

export interface EndpointWatchOptions {
  /** Only this service's changes. */
  readonly service?: string;
  /** Ends the iteration cleanly when aborted. */
  readonly signal?: AbortSignalLike;
  /** First yield an `added` event for every current endpoint (default false). */
  readonly initial?: boolean;
}

interface Known {
  readonly service: string;
  readonly updated: number;
  readonly endpoint: ServiceEndpoint | undefined;
}

export class EndpointRegistry implements Subscribable<EndpointEvent>, Disposable {
  readonly #clock: Clock;
  readonly #publishedPorts: (service: string) => readonly string[] | undefined;
  readonly #maxTombstones: number;
  readonly #tasks = new Map<string, Known>();
  /** Ended tasks and the time of their final status. */
  readonly #tombstones = new Map<string, number>();
  readonly #byService = new Map<string, Map<string, ServiceEndpoint>>();
  readonly #events = new Subject<EndpointEvent>();
  #seq = 0;

  constructor(options: EndpointRegistryOptions = {}) {
    this.#clock = options.clock ?? systemClock;
    this.#publishedPorts = options.publishedPorts ?? (() => undefined);
    const max = options.maxTombstones ?? 10_000;
    if (!Number.isSafeInteger(max) || max < 0) {
      throw new BerthError('SPEC_INVALID', `maxTombstones: must be an integer >= 0, got ${max}`, {
        component: COMPONENT,
      });
    }
    this.#maxTombstones = max;
  }

  /** Services with at least one endpoint, sorted. */
  services(): string[] {
    return [...this.#byService.keys()].sort();
  }

  /** The endpoints of `service` now, in task-id order (empty for an unknown service). */
  endpoints(service: string): ServiceEndpoint[] {
    const m = this.#byService.get(service);
    if (m === undefined) return [];
    return [...m.values()].sort((a, b) => (a.taskId < b.taskId ? -1 : a.taskId > b.taskId ? 1 : 0));
  }

  /**
   * Take one task status into account. Statuses older than the last one seen for the task
   * (`timestamps.updated`) are ignored, and so is anything about a task after its terminal status.
   * Returns the events emitted.
   */
  apply(status: DiscoveryTaskStatus): EndpointEvent[] {
    checkStatus(status, 'status');
    return this.#emitAll(this.#apply(status));
  }

  /**
   * A full resync: `statuses` is everything known about `service` (or, without `service`, about every
   * service). Replicas not in the list are withdrawn with reason `Gone`. Returns the events emitted.
   */
  reconcile(
    statuses: readonly DiscoveryTaskStatus[],
    options: { readonly service?: string } = {},
  ): EndpointEvent[] {
    if (!Array.isArray(statuses)) {
      throw new BerthError('SPEC_INVALID', 'statuses: must be an array of task statuses', {
        component: COMPONENT,
      });
    }
    statuses.forEach((s, i) => {
      checkStatus(s, `statuses[${i}]`);
    });
    const scope = options.service;
    const inScope = statuses.filter(
      (s) => s.service !== undefined && (scope === undefined || s.service === scope),
    );
    const listed = new Set(inScope.map((s) => s.taskId));
    const changes: EndpointChange[] = [];
    for (const [taskId, known] of [...this.#tasks]) {
      if (scope !== undefined && known.service !== scope) continue;
      if (listed.has(taskId)) continue;
      this.#tasks.delete(taskId);
      if (known.endpoint !== undefined) changes.push(this.#withdraw(known.endpoint, 'Gone'));
    }
    for (const s of inScope) changes.push(...this.#apply(s, true));
    return this.#emitAll(changes);
  }

  /** Withdraw every endpoint of `service` (reason `Gone`), e.g. when the Service is deleted. */
  dropService(service: string): EndpointEvent[] {
    return this.reconcile([], { service });
  }

  /**
   * Apply every status `source` yields until it ends or `signal` aborts (the adapter's
   * `watchTasks({ initial: true })`). Resolves when done; rejects only if the source throws.
   */
  async follow(
    source: AsyncIterable<DiscoveryTaskStatus>,
    options: { readonly signal?: AbortSignalLike } = {},
  ): Promise<void> {
    const signal = options.signal;
    if (signal?.aborted) return;
    const iterator = source[Symbol.asyncIterator]();
    let stop: (() => void) | undefined;
    const aborted = new Promise<IteratorResult<DiscoveryTaskStatus>>((resolve) => {
      stop = () => resolve({ done: true, value: undefined });
      signal?.addEventListener('abort', stop, { once: true });
    });
    try {
      for (;;) {
        const r = await Promise.race([iterator.next(), aborted]);
        if (r.done) break;
        this.apply(r.value);
      }
    } finally {
      if (stop !== undefined) signal?.removeEventListener('abort', stop);
      await iterator.return?.();
    }
  }

  subscribe(
    observer: Observer<EndpointEvent> | ((event: EndpointEvent) => void),
    options: { readonly service?: string } = {},
  ): Unsubscribe {
    const service = options.service;
    if (service === undefined) return this.#events.subscribe(observer);
    const o: Observer<EndpointEvent> = typeof observer === 'function' ? { next: observer } : observer;
    return this.#events.subscribe({
      next: (e) => {
        if (e.service === service) o.next(e);
      },
      complete: () => o.complete?.(),
    });
  }

  /**
   * Changes as an async iterable (`for await`), optionally for one service and starting with the
   * current endpoints as `added` events. Ends cleanly when `signal` aborts or the registry is closed.
   */
  watch(options: EndpointWatchOptions = {}): AsyncIterableIterator<EndpointEvent> {
    const service = options.service;
    const source: Subscribable<EndpointEvent> = {
      subscribe: (o) => this.subscribe(o, service === undefined ? {} : { service }),
    };
    const initial: EndpointEvent[] = [];
    if (options.initial) {
      const at = this.#clock.now();
      for (const name of service === undefined ? this.services() : [service]) {
        for (const endpoint of this.endpoints(name)) {
          initial.push({ type: 'added', service: name, endpoint, seq: this.#seq, at });
        }
      }
    }
    return toAsyncIterable(source, { signal: options.signal, initial });
  }

  /** End every watch and subscription. Further `apply`/`reconcile` calls still update the model. */
  close(): void {
    this.#events.complete();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  #apply(status: DiscoveryTaskStatus, fromResync = false): EndpointChange[] {
    const service = status.service;
    if (service === undefined) return [];
    const updated = status.timestamps.updated;
    const ended = this.#tombstones.get(status.taskId);
    if (ended !== undefined && !fromResync) return [];
    const known = this.#tasks.get(status.taskId);
    if (known !== undefined && updated < known.updated) return [];

    const ports = this.#publishedPorts(service);
    const result = endpointFromStatus(status, ports === undefined ? {} : { ports });
    const changes: EndpointChange[] = [];
    const previous = known?.endpoint;
    if (previous !== undefined && previous.service !== service) {
      changes.push(this.#withdraw(previous, 'Gone'));
    }
    const prevSame = previous !== undefined && previous.service === service ? previous : undefined;
    if (result.endpoint === undefined) {
      if (prevSame !== undefined) changes.push(this.#withdraw(prevSame, result.reason));
    } else if (prevSame === undefined) {
      this.#put(result.endpoint);
      changes.push({ type: 'added', service, endpoint: result.endpoint });
    } else if (endpointChanged(prevSame, result.endpoint)) {
      this.#put(result.endpoint);
      changes.push({ type: 'changed', service, endpoint: result.endpoint, previous: prevSame });
    }
    if (isTerminal(status.state)) {
      this.#tasks.delete(status.taskId);
      this.#bury(status.taskId, updated);
    } else {
      this.#tasks.set(status.taskId, { service, updated, endpoint: result.endpoint ?? undefined });
    }
    return changes;
  }

  #put(endpoint: ServiceEndpoint): void {
    let m = this.#byService.get(endpoint.service);
    if (m === undefined) {
      m = new Map();
      this.#byService.set(endpoint.service, m);
    }
    m.set(endpoint.taskId, endpoint);
  }

  #withdraw(endpoint: ServiceEndpoint, reason: WithdrawalReason): EndpointChange {
    const m = this.#byService.get(endpoint.service);
    m?.delete(endpoint.taskId);
    if (m?.size === 0) this.#byService.delete(endpoint.service);
    return { type: 'removed', service: endpoint.service, endpoint, reason };
  }

  #bury(taskId: string, at: number): void {
    if (this.#maxTombstones === 0) return;
    this.#tombstones.delete(taskId);
    this.#tombstones.set(taskId, at);
    while (this.#tombstones.size > this.#maxTombstones) {
      const oldest = this.#tombstones.keys().next().value as string;
      this.#tombstones.delete(oldest);
    }
  }

  #emitAll(changes: readonly EndpointChange[]): EndpointEvent[] {
    const at = this.#clock.now();
    const events = changes.map((c) => ({ ...c, seq: ++this.#seq, at }));
    for (const e of events) this.#events.emit(e);
    return events;
  }
}

function checkStatus(s: DiscoveryTaskStatus, path: string): void {
  if (typeof s?.taskId !== 'string' || s.taskId === '') {
    throw new BerthError('SPEC_INVALID', `${path}.taskId: must be a non-empty string`, {
      component: COMPONENT,
    });
  }
  if (typeof s.timestamps?.updated !== 'number' || !Number.isFinite(s.timestamps.updated)) {
    throw new BerthError('SPEC_INVALID', `${path}.timestamps.updated: must be a finite epoch-ms number`, {
      component: COMPONENT,
      hint: 'Pass statuses as adapters report them (TaskStatus).',
    });
  }
  if (typeof s.ports !== 'object' || s.ports === null) {
    throw new BerthError('SPEC_INVALID', `${path}.ports: must be an object of port name → host port`, {
      component: COMPONENT,
    });
  }
}
