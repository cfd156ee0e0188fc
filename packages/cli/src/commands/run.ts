/** `berth run -f spec.yaml [--dry-run] [--wait] [--timeout]`. */
import {
  type BerthDocument,
  BerthError,
  isTerminal,
  replicaTaskId,
  type SubmitResult,
  type TaskStatus,
} from '@berth/core';
import type { CommandContext } from '../command-context.ts';
import { CommandFailed } from '../errors.ts';
import { parseDuration } from '../output/age.ts';
import { listDocument, parseOutputFormat, printMachine } from '../output/format.ts';
import { startProgress } from '../output/progress.ts';
import { renderTable } from '../output/table.ts';
import { readSpecFiles } from '../spec-files.ts';

export interface RunOptions {
  readonly filename?: string[];
  readonly dryRun?: boolean;
  readonly wait?: boolean;
  readonly timeout: string;
  readonly output?: string;
}

/** The task ids a document launches: its name for a Task, `name-i` per replica or parallel task. */
export function documentTaskIds(doc: BerthDocument): string[] {
  const n = doc.kind === 'Task' ? 0 : doc.kind === 'Service' ? doc.spec.replicas : doc.spec.parallelism;
  if (doc.kind === 'Task') return [doc.metadata.name];
  return Array.from({ length: n }, (_, i) => replicaTaskId(doc.metadata.name, i));
}

const lower = (kind: string) => kind.toLowerCase();

export async function runCommand(ctx: CommandContext, opts: RunOptions): Promise<void> {
  const format = parseOutputFormat(opts.output, ['table', 'json', 'yaml', 'name']);
  const timeoutMs = parseDuration(opts.timeout);
  if (timeoutMs === undefined || timeoutMs <= 0) {
    throw new BerthError(
      'SPEC_INVALID',
      `--timeout: cannot read ${JSON.stringify(opts.timeout)} as a duration`,
      {
        component: 'cli',
        hint: 'Write a duration such as 90s, 5m or 1h (a bare number is seconds).',
      },
    );
  }
  // Everything is validated before the cluster is contacted.
  const { documents } = await readSpecFiles(opts.filename, ctx.io);

  if (opts.dryRun) {
    const items = documents.map((d) => ({
      document: `${d.kind}/${d.metadata.name}`,
      tenant: d.metadata.tenant,
      tasks: documentTaskIds(d),
    }));
    if (
      printMachine(
        format,
        { apiVersion: 'berth.dev/v1', kind: 'RunPlan', dryRun: true, items },
        ctx.io.stdout,
      )
    )
      return;
    for (const d of documents) {
      const ids = documentTaskIds(d);
      ctx.io.stdout(
        format === 'name'
          ? `${lower(d.kind)}/${d.metadata.name}\n`
          : `${lower(d.kind)}/${d.metadata.name} valid (dry run): ${ids.length} ${ids.length === 1 ? 'task' : 'tasks'} ${ids.join(', ')}\n`,
      );
    }
    return;
  }

  await ctx.withAdapter(async (adapter) => {
    const results = await adapter.submit(documents);
    const conflicts = results.filter((r) => r.outcome === 'conflict');
    if (!printMachine(format, listDocument('SubmitResult', results.map(resultItem)), ctx.io.stdout)) {
      for (const [doc, rs] of groupByDocument(results)) {
        const [kind = doc, name = ''] = doc.split('/');
        const outcome = rs.every((r) => r.outcome === 'unchanged')
          ? 'unchanged'
          : rs.some((r) => r.outcome === 'conflict')
            ? 'conflict'
            : 'created';
        ctx.io.stdout(format === 'name' ? `${lower(kind)}/${name}\n` : `${lower(kind)}/${name} ${outcome}\n`);
      }
    }
    if (conflicts.length > 0) {
      throw new BerthError(
        'CONFLICT',
        `${conflicts.length === 1 ? 'task' : 'tasks'} ${conflicts.map((c) => c.taskId).join(', ')} already ${conflicts.length === 1 ? 'exists' : 'exist'} with a different spec; nothing was sent for ${conflicts.length === 1 ? 'it' : 'them'}`,
        {
          component: 'cli',
          hint: 'Delete the old task(s) first (berth delete task NAME), or rename the document.',
        },
      );
    }
    if (!opts.wait) return;
    const deadline = Date.now() + timeoutMs;
    const ids = await replicaIds(adapter, documents, results, deadline);
    await waitForRunning(ctx, adapter, ids, Math.max(1, deadline - Date.now()), format === 'table');
  });
}

/**
 * The task ids to wait for. A backend whose replicas are named by its own controller (Kubernetes:
 * a Deployment's ReplicaSet names the pods) reports one result named after the Service: its
 * replicas are then the tasks of that service, found as they appear.
 */
async function replicaIds(
  adapter: Parameters<Parameters<CommandContext['withAdapter']>[0]>[0],
  documents: readonly BerthDocument[],
  results: readonly SubmitResult[],
  deadline: number,
): Promise<string[]> {
  const ids: string[] = [];
  for (const r of results) {
    const doc = documents.find((d) => `${d.kind}/${d.metadata.name}` === r.document);
    if (doc?.kind !== 'Service' || r.taskId !== doc.metadata.name) {
      ids.push(r.taskId);
      continue;
    }
    for (;;) {
      const live = (await adapter.tasks({ service: doc.metadata.name })).filter((t) => !isTerminal(t.state));
      if (live.length >= doc.spec.replicas || Date.now() >= deadline) {
        ids.push(...live.slice(0, doc.spec.replicas).map((t) => t.taskId));
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  return ids;
}

function resultItem(r: SubmitResult) {
  return { taskId: r.taskId, document: r.document, outcome: r.outcome, state: r.status.state };
}

function groupByDocument(results: readonly SubmitResult[]): Map<string, SubmitResult[]> {
  const m = new Map<string, SubmitResult[]>();
  for (const r of results) m.set(r.document, [...(m.get(r.document) ?? []), r]);
  return m;
}

const DONE_OK = (s: TaskStatus) => s.state === 'RUNNING' || s.state === 'FINISHED';

/**
 * Waits until every task is RUNNING (or FINISHED). A task that fails ends the wait with exit 1;
 * at the timeout, tasks still pending because no node fits give UNSCHEDULABLE, others TIMEOUT.
 */
async function waitForRunning(
  ctx: CommandContext,
  adapter: Parameters<Parameters<CommandContext['withAdapter']>[0]>[0],
  ids: readonly string[],
  timeoutMs: number,
  table: boolean,
): Promise<void> {
  const latest = new Map<string, TaskStatus>();
  const stop = new AbortController();
  const signal = ctx.io.signal === undefined ? stop.signal : AbortSignal.any([stop.signal, ctx.io.signal]);
  const progress = startProgress(ctx.io, `waiting for ${ids.length} task(s) to run`);
  const timer = setTimeout(() => stop.abort(), timeoutMs);
  const settled = () =>
    ids.every((id) => latest.has(id) && (DONE_OK(latest.get(id)!) || isTerminal(latest.get(id)!.state)));
  try {
    for (const s of await adapter.tasks({ ids })) latest.set(s.taskId, s);
    if (!settled()) {
      for await (const s of adapter.watchTasks({ filter: { ids }, initial: true, signal })) {
        latest.set(s.taskId, s);
        const running = ids.filter((id) => latest.get(id)?.state === 'RUNNING').length;
        progress.update(`${running}/${ids.length} running`);
        if (settled()) break;
      }
    }
    // One last look: a task that crashed right after starting has already reported it.
    for (const s of await adapter.tasks({ ids })) latest.set(s.taskId, s);
  } finally {
    clearTimeout(timer);
    progress.stop();
  }
  const failed = ids
    .map((id) => latest.get(id))
    .filter((s): s is TaskStatus => s !== undefined && isTerminal(s.state) && s.state !== 'FINISHED');
  if (table && latest.size > 0) {
    ctx.io.stdout(
      renderTable(
        [
          { header: 'NAME', noTruncate: true },
          { header: 'STATE' },
          { header: 'NODE' },
          { header: 'MESSAGE' },
        ],
        ids.map((id) => {
          const s = latest.get(id);
          return [id, s?.state ?? 'UNKNOWN', s?.nodeId ?? '<none>', s?.message ?? ''];
        }),
        ctx.io.columns,
      ),
    );
  }
  if (failed.length > 0) {
    throw new CommandFailed(
      `${failed.map((s) => `${s.taskId} ${s.state}${s.message ? ` (${s.message})` : ''}`).join('; ')}`,
    );
  }
  if (settled()) return;
  if (ctx.io.signal?.aborted) throw new CommandFailed('interrupted while waiting', 130);
  const pending = ids.filter((id) => !DONE_OK(latest.get(id) ?? ({ state: 'PENDING' } as TaskStatus)));
  const unschedulable = pending
    .map((id) => latest.get(id))
    .filter((s) => s?.state === 'PENDING' && s.reason !== undefined);
  if (unschedulable.length > 0 && unschedulable.length === pending.length) {
    throw new BerthError(
      'UNSCHEDULABLE',
      `${pending.length} task(s) still pending after ${timeoutMs / 1000}s`,
      {
        component: 'cli',
        issues: unschedulable.map((s) => ({
          path: s!.taskId,
          message: s!.message ?? s!.reason ?? 'pending',
        })),
        hint: 'berth plan -f … shows why per node; free capacity or lower the requests.',
      },
    );
  }
  throw new BerthError('TIMEOUT', `tasks not running after ${timeoutMs / 1000}s: ${pending.join(', ')}`, {
    component: 'cli',
    hint: 'Raise --timeout, or inspect them with berth describe task NAME.',
  });
}
