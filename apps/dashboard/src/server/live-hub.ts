/**
 * One place where the adapters' watches (tasks, nodes, events) of every context meet. The hub
 * numbers every change with one sequence, keeps the latest ones in a ring buffer so a browser that
 * reconnects with `Last-Event-ID` misses nothing, remembers each task's latest row and each
 * context's recent events, and samples every Service's running vs desired replicas over time.
 */
import {
  type ClusterAdapter,
  type Explanation,
  isTerminal,
  type TaskStatus,
  toBerthError,
} from '@berth/core';
import type { EventView, ServiceHistoryPoint, ServiceView, StreamMessage, TaskRow } from '../shared/api.ts';
import { eventView, nodeRow, taskRow } from './views.ts';

export interface DashboardContext {
  /** The context's name, e.g. `devcluster-mesos` (the CLI's context name). */
  readonly name: string;
  /** `mesos`, `kubernetes`, or another adapter's backend name. */
  readonly backend: string;
  /** A connected adapter; the dashboard never closes it (its owner does). */
  readonly adapter: ClusterAdapter;
}

export interface Sequenced {
  readonly id: number;
  readonly message: StreamMessage;
}

export interface LiveHubOptions {
  /** Stream messages kept for `Last-Event-ID` resume (default 10,000). */
  readonly bufferSize?: number;
  /** Events kept per context for the Events view and task detail (default 2,000). */
  readonly eventsPerContext?: number;
  /** History points kept per Service (default 500). */
  readonly historyPoints?: number;
  /** Clock for history samples (default `Date.now`). */
  readonly now?: () => number;
}

interface ContextState {
  readonly ctx: DashboardContext;
  readonly tasks: Map<string, TaskStatus>;
  readonly events: EventView[];
  readonly history: Map<string, ServiceHistoryPoint[]>;
  /** Replica counts per Service, kept incrementally as tasks change. */
  readonly counts: Map<string, { running: number; desired: number; tasks: number }>;
  readonly explanations: Map<string, Explanation>;
}

const MAX_EXPLANATIONS = 50_000;

export class LiveHub {
  readonly #buffer: (Sequenced | undefined)[];
  readonly #eventsPerContext: number;
  readonly #historyPoints: number;
  readonly #now: () => number;
  readonly #contexts = new Map<string, ContextState>();
  readonly #listeners = new Set<(m: Sequenced) => void>();
  readonly #abort = new AbortController();
  readonly #loops: Promise<void>[] = [];
  #seq = 0;
  /** Resolves once every context's initial task list is loaded. */
  readonly ready: Promise<void>;

  constructor(contexts: readonly DashboardContext[], options: LiveHubOptions = {}) {
    this.#buffer = new Array(options.bufferSize ?? 10_000);
    this.#eventsPerContext = options.eventsPerContext ?? 2_000;
    this.#historyPoints = options.historyPoints ?? 500;
    this.#now = options.now ?? Date.now;
    for (const ctx of contexts) {
      this.#contexts.set(ctx.name, {
        ctx,
        tasks: new Map(),
        events: [],
        history: new Map(),
        counts: new Map(),
        explanations: new Map(),
      });
    }
    this.ready = Promise.all([...this.#contexts.values()].map((s) => this.#start(s))).then(() => {});
  }

  /** The latest sequence number handed out (0 before any change). */
  get lastId(): number {
    return this.#seq;
  }

  /**
   * Messages after `lastId`, oldest first; `undefined` when some of them already fell out of the
   * buffer (the client must reload its lists).
   */
  since(lastId: number): Sequenced[] | undefined {
    if (lastId >= this.#seq) return [];
    const size = this.#buffer.length;
    if (this.#seq - lastId > size) return undefined;
    const out: Sequenced[] = [];
    for (let id = lastId + 1; id <= this.#seq; id++) {
      const m = this.#buffer[id % size];
      if (m === undefined || m.id !== id) return undefined;
      out.push(m);
    }
    return out;
  }

  subscribe(listener: (m: Sequenced) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  events(context: string): readonly EventView[] {
    return this.#state(context)?.events ?? [];
  }

  /** Every task of the context as last reported (seeded from `adapter.tasks()`, then live). */
  tasks(context: string): Iterable<TaskStatus> {
    return this.#state(context)?.tasks.values() ?? [];
  }

  task(context: string, taskId: string): TaskStatus | undefined {
    return this.#state(context)?.tasks.get(taskId);
  }

  explanation(context: string, taskId: string): Explanation | undefined {
    return this.#state(context)?.explanations.get(taskId);
  }

  /** Keep the plan's explanation of a task submitted through the dashboard. */
  recordExplanation(context: string, taskId: string, e: Explanation): void {
    const s = this.#state(context);
    if (s === undefined) return;
    s.explanations.delete(taskId);
    s.explanations.set(taskId, e);
    if (s.explanations.size > MAX_EXPLANATIONS) {
      const oldest = s.explanations.keys().next().value;
      if (oldest !== undefined) s.explanations.delete(oldest);
    }
  }

  services(context: string): ServiceView[] {
    const s = this.#state(context);
    if (s === undefined) return [];
    return [...s.counts]
      .map(([name, v]) => ({ name, ...v }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  history(context: string, service: string): readonly ServiceHistoryPoint[] {
    return this.#state(context)?.history.get(service) ?? [];
  }

  /** Ends every watch; resolves when the loops have stopped. */
  async close(): Promise<void> {
    this.#abort.abort();
    this.#listeners.clear();
    await Promise.allSettled(this.#loops);
  }

  #state(context: string): ContextState | undefined {
    return this.#contexts.get(context);
  }

  #publish(message: StreamMessage): void {
    const id = ++this.#seq;
    const m = { id, message };
    this.#buffer[id % this.#buffer.length] = m;
    for (const l of this.#listeners) l(m);
  }

  async #start(s: ContextState): Promise<void> {
    const { adapter } = s.ctx;
    const signal = this.#abort.signal;
    // Subscribe to events first so nothing that happens while the task list loads is missed.
    this.#loops.push(this.#loop(s, 'events', adapter.events({ signal }), (e) => this.#onEvent(s, e)));
    this.#loops.push(this.#loop(s, 'nodes', adapter.watchNodes({ signal }), (n) => this.#onNode(s, n)));
    try {
      for (const t of await adapter.tasks()) this.#count(s, t, 1);
    } catch (err) {
      this.#note(s, 'tasks', err);
    }
    for (const service of new Set([...s.tasks.values()].flatMap((t) => t.service ?? []))) {
      this.#sample(s, service);
    }
    this.#loops.push(
      this.#loop(s, 'tasks', adapter.watchTasks({ signal, initial: true }), (t) => this.#onTask(s, t)),
    );
  }

  async #loop<T>(s: ContextState, what: string, source: AsyncIterable<T>, on: (v: T) => void) {
    try {
      for await (const v of source) {
        if (this.#abort.signal.aborted) break;
        on(v);
      }
    } catch (err) {
      if (!this.#abort.signal.aborted) this.#note(s, what, err);
    }
  }

  /** A watch that failed becomes a warning event, so the operator sees the view went stale. */
  #note(s: ContextState, what: string, err: unknown): void {
    const e = toBerthError(err, 'dashboard');
    const last = s.events.at(-1);
    this.#onEvent(s, {
      seq: (last?.seq ?? 0) + 1,
      at: this.#now(),
      level: 'warning',
      kind: 'WatchFailed',
      message: `${what} watch of ${s.ctx.name} ended: ${e.message}`,
    });
  }

  #onTask(s: ContextState, t: TaskStatus): void {
    const old = s.tasks.get(t.taskId);
    if (
      old !== undefined &&
      old.state === t.state &&
      old.timestamps.updated === t.timestamps.updated &&
      old.message === t.message
    ) {
      return;
    }
    if (old !== undefined) this.#count(s, old, -1);
    this.#count(s, t, 1);
    const row: TaskRow = taskRow(t);
    this.#publish({ type: 'task', context: s.ctx.name, row });
    if (t.service !== undefined) this.#sample(s, t.service);
  }

  #onNode(s: ContextState, e: { type: string; node: Parameters<typeof nodeRow>[0] }): void {
    this.#publish({ type: 'node', context: s.ctx.name, change: e.type, row: nodeRow(e.node) });
  }

  #onEvent(s: ContextState, e: Parameters<typeof eventView>[1]): void {
    const view = eventView(s.ctx.name, e);
    s.events.push(view);
    if (s.events.length > this.#eventsPerContext)
      s.events.splice(0, s.events.length - this.#eventsPerContext);
    this.#publish({ type: 'event', context: s.ctx.name, event: view });
  }

  /** Add (`sign` 1) or remove (-1) a task from the task map and its Service's counts. */
  #count(s: ContextState, t: TaskStatus, sign: 1 | -1): void {
    if (sign === 1) s.tasks.set(t.taskId, t);
    if (t.service === undefined) return;
    const c = s.counts.get(t.service) ?? { running: 0, desired: 0, tasks: 0 };
    c.tasks += sign;
    if (t.state === 'RUNNING') c.running += sign;
    if (!isTerminal(t.state)) c.desired += sign;
    s.counts.set(t.service, c);
  }

  #sample(s: ContextState, service: string): void {
    const c = s.counts.get(service);
    if (c === undefined) return;
    const { running, desired } = c;
    const points = s.history.get(service) ?? [];
    const last = points.at(-1);
    if (last !== undefined && last.running === running && last.desired === desired) return;
    points.push({ at: this.#now(), running, desired });
    if (points.length > this.#historyPoints) points.splice(0, points.length - this.#historyPoints);
    s.history.set(service, points);
  }
}
