/** `berth get nodes|tasks|services|jobs|snapshot [names] [-o] [-l] [-w]`. */
import { BerthError, type ClusterSnapshot, type TaskStatus } from '@berth/core';
import type { JobSummary } from '../backends/registry.ts';
import type { CommandContext } from '../command-context.ts';
import { listDocument, type OutputFormat, parseOutputFormat, toJson, toYaml } from '../output/format.ts';
import { selectorPredicate } from '../output/selector.ts';
import { stateColor } from '../output/style.ts';
import { type Column, renderTable } from '../output/table.ts';
import {
  compareTaskIds,
  deriveJobs,
  groupServices,
  JOB_COLUMNS,
  jobItem,
  jobRow,
  NODE_COLUMNS,
  NODE_WIDE_COLUMNS,
  nodeItem,
  nodeRow,
  SERVICE_COLUMNS,
  SERVICE_WIDE_COLUMNS,
  serviceItem,
  serviceRow,
  TASK_COLUMNS,
  TASK_WIDE_COLUMNS,
  taskItem,
  taskLabels,
  taskRow,
} from '../output/views.ts';
import { snapshotDocument } from '../snapshot-file.ts';
import { resourceType } from './resource-types.ts';

export interface GetOptions {
  readonly output?: string;
  readonly selector?: string;
  readonly watch?: boolean;
}

/** One listed object: its name, its machine form and its table row. */
interface Entry {
  readonly name: string;
  readonly item: unknown;
  readonly row: string[];
}

interface Printer {
  list(entries: readonly Entry[]): void;
  /** One changed object while watching. */
  change(entry: Entry): void;
}

function printer(
  ctx: CommandContext,
  kind: string,
  columns: readonly Column[],
  format: OutputFormat,
): Printer {
  const lower = kind.toLowerCase();
  const c = ctx.colors;
  const stateColumn = columns.findIndex((col) => col.header === 'STATE' || col.header === 'STATUS');
  const style = {
    style: (h: string) => c.bold(h),
    cellStyle: (col: number, text: string) => (col === stateColumn ? stateColor(c, text) : text),
  };
  const out = ctx.io.stdout;
  return {
    list(entries) {
      if (format === 'json')
        out(
          toJson(
            listDocument(
              kind,
              entries.map((e) => e.item),
            ),
          ),
        );
      else if (format === 'yaml')
        out(
          toYaml(
            listDocument(
              kind,
              entries.map((e) => e.item),
            ),
          ),
        );
      else if (format === 'name') for (const e of entries) out(`${lower}/${e.name}\n`);
      else if (entries.length === 0) ctx.io.stderr(`No ${lower}s found.\n`);
      else
        out(
          renderTable(
            columns,
            entries.map((e) => e.row),
            ctx.io.columns,
            style,
          ),
        );
    },
    change(e) {
      if (format === 'json') out(`${JSON.stringify(e.item)}\n`);
      else if (format === 'yaml') out(`---\n${toYaml(e.item)}`);
      else if (format === 'name') out(`${lower}/${e.name}\n`);
      else out(renderTable(columns, [e.row], ctx.io.columns, { ...style, header: false }));
    },
  };
}

function checkNames(kind: string, names: readonly string[], found: readonly Entry[]): void {
  const missing = names.filter((n) => !found.some((e) => e.name === n));
  if (missing.length > 0) {
    throw new BerthError('NOT_FOUND', `${kind.toLowerCase()} ${missing.join(', ')} not found`, {
      component: 'cli',
      hint: `List them with berth get ${kind.toLowerCase()}s.`,
    });
  }
}

export async function getCommand(
  ctx: CommandContext,
  typeArg: string,
  names: readonly string[],
  opts: GetOptions,
): Promise<void> {
  const type = resourceType(typeArg, ['nodes', 'tasks', 'services', 'jobs', 'snapshot'], 'get');
  if (type === 'snapshot') {
    const format = parseOutputFormat(opts.output ?? 'json', ['json', 'yaml']);
    const snap = await ctx.withAdapter((a) => a.snapshot());
    ctx.io.stdout(format === 'json' ? toJson(snapshotDocument(snap)) : toYaml(snapshotDocument(snap)));
    return;
  }
  const format = parseOutputFormat(opts.output);
  const wide = format === 'wide';
  const matches = selectorPredicate(opts.selector);
  const wanted = (name: string) => names.length === 0 || names.includes(name);
  const now = ctx.io.now;

  await ctx.withAdapter(async (adapter) => {
    if (type === 'nodes') {
      const p = printer(ctx, 'Node', wide ? NODE_WIDE_COLUMNS : NODE_COLUMNS, format);
      let snap = await adapter.snapshot();
      const entry = (n: ClusterSnapshot['nodes'][number]): Entry => ({
        name: n.id,
        item: nodeItem(n, snap),
        row: nodeRow(n, snap, wide),
      });
      const list = snap.nodes.filter((n) => wanted(n.id) && matches(n.labels)).map(entry);
      checkNames('Node', names, list);
      p.list(list);
      if (!opts.watch) return;
      for await (const ev of adapter.watchNodes(watchOptions(ctx))) {
        if (!wanted(ev.node.id) || !matches(ev.node.labels)) continue;
        snap = {
          ...snap,
          nodes: snap.nodes.filter((n) => n.id !== ev.node.id).concat(ev.type === 'removed' ? [] : [ev.node]),
        };
        p.change(entry(ev.node));
      }
      return;
    }

    const keepTask = (s: TaskStatus) => matches(taskLabels(s));
    const tasks = (await adapter.tasks()).filter(keepTask).sort((a, b) => compareTaskIds(a.taskId, b.taskId));
    const latest = new Map(tasks.map((t) => [t.taskId, t]));

    if (type === 'tasks') {
      const p = printer(ctx, 'Task', wide ? TASK_WIDE_COLUMNS : TASK_COLUMNS, format);
      const entry = (s: TaskStatus): Entry => ({
        name: s.taskId,
        item: taskItem(s),
        row: taskRow(s, now(), wide),
      });
      const list = tasks.filter((t) => wanted(t.taskId)).map(entry);
      checkNames('Task', names, list);
      p.list(list);
      if (!opts.watch) return;
      const filter = names.length === 0 ? {} : { filter: { ids: names } };
      for await (const s of adapter.watchTasks({ ...watchOptions(ctx), ...filter }))
        if (keepTask(s)) p.change(entry(s));
      return;
    }

    if (type === 'services') {
      const p = printer(ctx, 'Service', wide ? SERVICE_WIDE_COLUMNS : SERVICE_COLUMNS, format);
      const entries = () =>
        groupServices([...latest.values()])
          .filter((g) => wanted(g.name))
          .map((g) => ({ name: g.name, item: serviceItem(g), row: serviceRow(g, now(), wide) }));
      const list = entries();
      checkNames('Service', names, list);
      p.list(list);
      if (!opts.watch) return;
      for await (const s of adapter.watchTasks(watchOptions(ctx))) {
        if (s.service === undefined || !wanted(s.service) || !keepTask(s)) continue;
        latest.set(s.taskId, s);
        const e = entries().find((x) => x.name === s.service);
        if (e !== undefined) p.change(e);
      }
      return;
    }

    const p = printer(ctx, 'Job', JOB_COLUMNS, format);
    const jobs = async (): Promise<JobSummary[]> =>
      adapter.jobs === undefined ? deriveJobs([...latest.values()]) : await adapter.jobs();
    const entries = async () =>
      (await jobs())
        .filter((j) => wanted(j.name))
        .map((j) => ({ name: j.name, item: jobItem(j), row: jobRow(j, now()) }));
    const list = await entries();
    checkNames('Job', names, list);
    p.list(list);
    if (!opts.watch) return;
    for await (const s of adapter.watchTasks(watchOptions(ctx))) {
      if (s.service !== undefined) continue;
      latest.set(s.taskId, s);
      const e = (await entries()).find((x) => s.taskId.startsWith(`${x.name}-`));
      if (e !== undefined) p.change(e);
    }
  });
}

export function watchOptions(ctx: CommandContext): { signal?: AbortSignal } {
  return ctx.io.signal === undefined ? {} : { signal: ctx.io.signal };
}
