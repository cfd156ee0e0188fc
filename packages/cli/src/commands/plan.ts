/** `berth plan -f spec.yaml [--profile] [--seed] [--snapshot]`: placement without launching anything. */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import {
  BerthError,
  BUILT_IN_PROFILES,
  type ClusterSnapshot,
  isBuiltInProfileName,
  type PlacementResult,
  type PlacementTask,
  place,
  placementTaskFromSpec,
} from '@berth/core';
import type { CommandContext } from '../command-context.ts';
import { parseOutputFormat, printMachine } from '../output/format.ts';
import { renderTable } from '../output/table.ts';
import { parseSnapshotDocument, toPlacementSnapshot } from '../snapshot-file.ts';
import { readSpecFiles } from '../spec-files.ts';
import { documentTaskIds } from './run.ts';

export interface PlanOptions {
  readonly filename?: string[];
  readonly profile: string;
  readonly seed: string;
  readonly snapshot?: string;
  readonly output?: string;
}

/** The profiles `plan` offers (`kubernetes-default` too, for comparison with kube-scheduler). */
const PROFILES = Object.keys(BUILT_IN_PROFILES);

async function readSnapshotFile(file: string, ctx: CommandContext): Promise<ClusterSnapshot> {
  let text: string;
  try {
    text = await readFile(resolve(ctx.io.cwd, file), 'utf8');
  } catch (err) {
    throw new BerthError('SPEC_INVALID', `--snapshot: cannot read ${file}: ${(err as Error).message}`, {
      component: 'cli',
      cause: err,
      hint: 'Save a snapshot with berth get snapshot -o json > snapshot.json.',
    });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new BerthError('SPEC_INVALID', `--snapshot: ${file} is not JSON: ${(err as Error).message}`, {
      component: 'cli',
      cause: err,
    });
  }
  return parseSnapshotDocument(raw, file);
}

export async function planCommand(ctx: CommandContext, opts: PlanOptions): Promise<void> {
  const format = parseOutputFormat(opts.output, ['table', 'wide', 'json', 'yaml']);
  if (!isBuiltInProfileName(opts.profile)) {
    throw new BerthError('SPEC_INVALID', `--profile: unknown profile ${JSON.stringify(opts.profile)}`, {
      component: 'cli',
      hint: `Use one of ${PROFILES.join(', ')}.`,
    });
  }
  const seed = Number(opts.seed);
  if (!Number.isSafeInteger(seed)) {
    throw new BerthError('SPEC_INVALID', `--seed: must be an integer, got ${JSON.stringify(opts.seed)}`, {
      component: 'cli',
    });
  }
  const { documents } = await readSpecFiles(opts.filename, ctx.io);
  const tasks: PlacementTask[] = [];
  for (const doc of documents) {
    const spec = doc.kind === 'Task' ? doc.spec : doc.spec.template;
    const group = doc.kind === 'Job' && doc.spec.gang ? `job/${doc.metadata.name}` : undefined;
    for (const id of documentTaskIds(doc)) {
      tasks.push(
        placementTaskFromSpec(
          spec,
          id,
          {
            'berth.dev/task-id': id,
            ...(doc.kind === 'Service' ? { 'berth.dev/service': doc.metadata.name } : {}),
          },
          { sequence: tasks.length, ...(group === undefined ? {} : { group }) },
        ),
      );
    }
  }
  const clusterSnapshot =
    opts.snapshot !== undefined
      ? await readSnapshotFile(opts.snapshot, ctx)
      : await ctx.withAdapter((adapter) => adapter.snapshot());
  const result = place(tasks, toPlacementSnapshot(clusterSnapshot), opts.profile, {
    seed,
    now: clusterSnapshot.takenAt,
  });
  const doc = planDocument(result, opts.profile, seed, clusterSnapshot, opts.snapshot);
  if (!printMachine(format, doc, ctx.io.stdout)) printPlanTable(ctx, result, format === 'wide');
  ctx.io.stderr(
    `profile ${opts.profile}, seed ${seed}, ${clusterSnapshot.nodes.length} nodes (${opts.snapshot ?? 'live snapshot'}): ` +
      `${result.placements.length} placed, ${result.unplaceable.length} unplaceable\n`,
  );
  if (result.unplaceable.length > 0) {
    throw new BerthError(
      'UNSCHEDULABLE',
      `${result.unplaceable.length} of ${tasks.length} tasks cannot be placed`,
      {
        component: 'cli',
        issues: result.unplaceable.map((u) => ({ path: u.taskId, message: u.explanation.message })),
        hint: 'Lower the requests, relax constraints, or add capacity; compare profiles with --profile.',
      },
    );
  }
}

function planDocument(
  r: PlacementResult,
  profile: string,
  seed: number,
  s: ClusterSnapshot,
  file: string | undefined,
) {
  return {
    apiVersion: 'berth.dev/v1',
    kind: 'Plan',
    profile,
    seed,
    snapshot: { source: file ?? 'cluster', backend: s.backend, takenAt: s.takenAt, nodes: s.nodes.length },
    placements: r.placements.map((p) => ({
      taskId: p.taskId,
      nodeId: p.nodeId,
      hostname: p.hostname,
      ports: [...p.ports],
      score: p.explanation.score,
      scores: p.explanation.scores.map((x) => ({ plugin: x.plugin, score: x.score, weight: x.weight })),
      feasibleNodes: p.explanation.feasibleNodes,
      totalNodes: p.explanation.totalNodes,
      tiedNodes: p.explanation.tiedNodes,
      alternatives: p.explanation.alternatives.map((a) => ({ nodeId: a.nodeId, score: a.score })),
      message: p.explanation.message,
    })),
    unplaceable: r.unplaceable.map((u) => ({
      taskId: u.taskId,
      totalNodes: u.explanation.totalNodes,
      reasons: u.explanation.reasons.map((x) => ({ reason: x.reason, count: x.count })),
      ...(u.explanation.status === undefined ? {} : { status: u.explanation.status }),
      message: u.explanation.message,
    })),
  };
}

function printPlanTable(ctx: CommandContext, r: PlacementResult, wide: boolean): void {
  const c = ctx.colors;
  const rows: string[][] = [];
  for (const p of r.placements) {
    const e = p.explanation;
    const breakdown = e.scores
      .map((s) => `${s.plugin}=${s.score}${s.weight === 1 ? '' : `×${s.weight}`}`)
      .join(' ');
    const row = [p.taskId, p.nodeId, String(e.score), breakdown || '-'];
    if (wide)
      row.push(
        `${e.feasibleNodes}/${e.totalNodes}`,
        e.alternatives.map((a) => `${a.nodeId}:${a.score}`).join(',') || '<none>',
      );
    rows.push(row);
  }
  for (const u of r.unplaceable) {
    const row = [u.taskId, '<none>', '-', u.explanation.message];
    if (wide) row.push(`0/${u.explanation.totalNodes}`, '<none>');
    rows.push(row);
  }
  const columns = [
    { header: 'TASK', noTruncate: true },
    { header: 'NODE' },
    { header: 'SCORE' },
    { header: 'BREAKDOWN / REASONS' },
    ...(wide ? [{ header: 'FEASIBLE' }, { header: 'ALTERNATIVES' }] : []),
  ];
  ctx.io.stdout(
    renderTable(columns, rows, ctx.io.columns, {
      cellStyle: (col, text) => (col !== 1 ? text : text === '<none>' ? c.red(text) : c.green(text)),
    }),
  );
}
