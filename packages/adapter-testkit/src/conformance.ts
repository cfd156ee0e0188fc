/**
 * Run the conformance cases against an adapter. `describeAdapterConformance` registers them with
 * vitest from the adapter package's own test file; `runConformanceCase` runs one case as a plain
 * async function (what the suite's own tests use).
 */
import { BerthError, type ClusterAdapter, isTerminal, type TaskSpec } from '@berth/core';
import { describe, it } from 'vitest';
import {
  CONFORMANCE_CASES,
  type ConformanceCase,
  type ConformanceCaseId,
  type ConformanceContext,
  type ConformanceTimeouts,
  describeStatus,
} from './cases.ts';
import { type ConformanceCommands, DEFAULT_COMMANDS, serviceDocument, taskDocument } from './fixtures.ts';
import type { BackendProbe } from './probe.ts';
import { WaitForTimeoutError, waitFor } from './wait-for.ts';

export interface ConformanceOptions {
  /** Shown as the describe block: `ClusterAdapter conformance: <name>`. */
  readonly name: string;
  /** A new, unconnected adapter each call. */
  readonly createAdapter: () => ClusterAdapter | Promise<ClusterAdapter>;
  /** Checks what really reached the backend. */
  readonly probe: BackendProbe;
  /** Cases to skip, each with the reason why (an empty reason is an error). */
  readonly skip?: Readonly<Partial<Record<ConformanceCaseId, string>>>;
  /** Adapter-specific cases, run with the same context. */
  readonly extraCases?: readonly ConformanceCase[];
  /** Replace the shell commands the cases run. */
  readonly commands?: Partial<ConformanceCommands>;
  /** Merged into every task spec the suite builds, e.g. `{ image: 'busybox:1.36' }`. */
  readonly taskOverrides?: Partial<TaskSpec>;
  readonly timeouts?: Partial<ConformanceTimeouts>;
}

/** A conformance case failed; the message names the case and the broken behaviour. */
export class ConformanceError extends Error {
  override readonly name = 'ConformanceError';
  readonly caseId: string;

  constructor(c: Pick<ConformanceCase, 'id' | 'title'>, message: string, options?: { cause?: unknown }) {
    super(`[conformance: ${c.title}] ${message}`, options);
    this.caseId = c.id;
  }
}

export type ConformanceOutcome =
  | { readonly status: 'passed' }
  | { readonly status: 'skipped'; readonly reason: string };

function allCases(options: ConformanceOptions): readonly ConformanceCase[] {
  return [...CONFORMANCE_CASES, ...(options.extraCases ?? [])];
}

/** Reject typos and empty reasons in `skip` at registration, before any case runs. */
function checkSkips(options: ConformanceOptions): void {
  const ids = new Set(allCases(options).map((c) => c.id));
  for (const [id, reason] of Object.entries(options.skip ?? {})) {
    if (!ids.has(id)) {
      throw new BerthError('SPEC_INVALID', `skip.${id}: no conformance case has this id`, {
        component: 'adapter-testkit',
        hint: `Use one of: ${[...ids].join(', ')}.`,
      });
    }
    if (typeof reason !== 'string' || reason.trim() === '') {
      throw new BerthError('SPEC_INVALID', `skip.${id}: a skipped case needs a written reason`, {
        component: 'adapter-testkit',
        hint: `Write why, e.g. skip: { '${id}': 'the backend has no …' }.`,
      });
    }
  }
}

let runCounter = 0;

/** Run one case (built-in id or extra case) against a fresh adapter. Rejects with a ConformanceError. */
export async function runConformanceCase(
  caseOrId: ConformanceCaseId | ConformanceCase,
  options: ConformanceOptions,
): Promise<ConformanceOutcome> {
  checkSkips(options);
  const c =
    typeof caseOrId === 'string'
      ? CONFORMANCE_CASES.find((k) => k.id === caseOrId)
      : (caseOrId as ConformanceCase);
  if (!c) {
    throw new BerthError('SPEC_INVALID', `no conformance case ${String(caseOrId)}`, {
      component: 'adapter-testkit',
    });
  }
  const userSkip = (options.skip as Readonly<Record<string, string>> | undefined)?.[c.id];
  if (userSkip !== undefined) return { status: 'skipped', reason: userSkip };

  const probeAdapter = await options.createAdapter();
  const missing = ((c as ConformanceCase).requires ?? []).filter(
    (cap) => !probeAdapter.capabilities.has(cap),
  );
  await probeAdapter.close();
  if (missing.length > 0) {
    return {
      status: 'skipped',
      reason: `adapter ${probeAdapter.name} does not declare ${missing.join(', ')}`,
    };
  }

  const timeouts: ConformanceTimeouts = { stateMs: 10_000, settleMs: 500, ...options.timeouts };
  const prefix = `cf${(++runCounter).toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const opened: ClusterAdapter[] = [];
  const services = new Set<string>();
  const fixture = { overrides: options.taskOverrides ?? {} };

  const ctx: ConformanceContext = {
    probe: options.probe,
    commands: { ...DEFAULT_COMMANDS, ...options.commands },
    timeouts,
    async create() {
      return options.createAdapter();
    },
    async open() {
      const adapter = await options.createAdapter();
      opened.push(adapter);
      await adapter.connect();
      return adapter;
    },
    name: (suffix) => `${prefix}-${suffix}`.toLowerCase().slice(0, 63),
    task: (name, opts = {}) =>
      taskDocument(name, { ...opts, overrides: { ...fixture.overrides, ...opts.overrides } }),
    service: (name, replicas, opts = {}) => {
      services.add(name);
      return serviceDocument(name, replicas, {
        ...opts,
        overrides: { ...fixture.overrides, ...opts.overrides },
      });
    },
    async waitFor(what, probe, timeoutMs = timeouts.stateMs) {
      try {
        return await waitFor(what, probe, { timeoutMs, intervalMs: 10 });
      } catch (err) {
        if (err instanceof WaitForTimeoutError) throw new ConformanceError(c, err.message, { cause: err });
        throw err;
      }
    },
    async waitForState(adapter, taskId, states, why) {
      return ctx.waitFor(`${taskId} to be ${states.join('/')} (${why})`, async () => {
        const s = (await adapter.tasks({ ids: [taskId] })).find((t) => t.taskId === taskId);
        if (s && states.includes(s.state)) return s;
        throw new Error(`last seen ${describeStatus(s)}`);
      });
    },
    check(condition, message): asserts condition {
      if (!condition) throw new ConformanceError(c, message);
    },
  };

  try {
    await c.run(ctx);
  } catch (err) {
    if (err instanceof ConformanceError) throw err;
    const detail = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    throw new ConformanceError(c, `unexpected error: ${detail}`, { cause: err });
  } finally {
    for (const adapter of opened) await cleanUp(adapter, prefix, services);
  }
  return { status: 'passed' };
}

/** Best effort: stop everything the case started, then close. Errors here never mask the case's own. */
async function cleanUp(
  adapter: ClusterAdapter,
  prefix: string,
  services: ReadonlySet<string>,
): Promise<void> {
  try {
    for (const svc of services) await adapter.scale(svc, 0).catch(() => {});
    const mine = (await adapter.tasks()).filter((s) => s.taskId.startsWith(prefix) && !isTerminal(s.state));
    for (const s of mine) await adapter.kill(s.taskId, { gracePeriodSeconds: 0 }).catch(() => {});
  } catch {
    // the adapter may already be closed or broken; closing below is what matters
  }
  await adapter.close().catch(() => {});
}

/**
 * Register every conformance case as a vitest test under `ClusterAdapter conformance: <name>`.
 * A case the adapter cannot run is skipped with its reason shown in the report.
 */
export function describeAdapterConformance(options: ConformanceOptions): void {
  checkSkips(options);
  const stateMs = options.timeouts?.stateMs ?? 10_000;
  const caseTimeoutMs = stateMs * 4 + (options.timeouts?.settleMs ?? 500) * 3 + 5_000;
  describe(`ClusterAdapter conformance: ${options.name}`, () => {
    for (const c of allCases(options)) {
      it(
        c.title,
        async (test) => {
          const outcome = await runConformanceCase(c, options);
          if (outcome.status === 'skipped') test.skip(outcome.reason);
        },
        caseTimeoutMs,
      );
    }
  });
}
