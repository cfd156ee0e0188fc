/** `berth describe node|task|service NAME`: kubectl-style `Key: value` blocks. */
import { BerthError, isTerminal, type TaskStatus } from '@berth/core';
import type { CommandContext } from '../command-context.ts';
import { age } from '../output/age.ts';
import { toJson, toYaml } from '../output/format.ts';
import { renderTable } from '../output/table.ts';
import {
  bytes,
  compareTaskIds,
  cores,
  groupServices,
  nodeItem,
  nodeStatus,
  portsText,
  serviceItem,
  taskItem,
} from '../output/views.ts';
import { resourceType } from './resource-types.ts';

function block(pairs: readonly (readonly [string, string])[]): string {
  const width = Math.max(...pairs.map(([k]) => k.length)) + 2;
  return pairs.map(([k, v]) => `${`${k}:`.padEnd(width)}${v}\n`).join('');
}

function map(labels: Readonly<Record<string, string>>): string {
  const list = Object.entries(labels).map(([k, v]) => `${k}=${v}`);
  return list.length === 0 ? '<none>' : list.join('\n'.padEnd(17));
}

const when = (ms: number | undefined) => (ms === undefined ? '<none>' : new Date(ms).toISOString());

export async function describeCommand(
  ctx: CommandContext,
  typeArg: string,
  name: string,
  opts: { output: string },
): Promise<void> {
  const type = resourceType(typeArg, ['nodes', 'tasks', 'services'], 'describe');
  if (!['text', 'json', 'yaml'].includes(opts.output)) {
    throw new BerthError('SPEC_INVALID', `--output: unknown format ${JSON.stringify(opts.output)}`, {
      component: 'cli',
      hint: 'Use one of text, json, yaml.',
    });
  }
  const emit = (item: unknown, text: () => string) =>
    ctx.io.stdout(opts.output === 'json' ? toJson(item) : opts.output === 'yaml' ? toYaml(item) : text());
  const now = ctx.io.now();

  await ctx.withAdapter(async (adapter) => {
    if (type === 'nodes') {
      const snap = await adapter.snapshot();
      const n = snap.nodes.find((x) => x.id === name || x.hostname === name);
      if (n === undefined)
        throw notFound(
          'node',
          name,
          snap.nodes.map((x) => x.id),
        );
      const allocs = snap.allocations.filter((a) => a.nodeId === n.id);
      const pct = (u: number, t: number) => (t === 0 ? '' : ` (${Math.round((u / t) * 100)}%)`);
      emit(
        { ...nodeItem(n, snap), allocations: allocs.map((a) => ({ ...a, resources: a.resources.toJSON() })) },
        () =>
          [
            block([
              ['Name', n.id],
              ['Hostname', n.hostname],
              ['Status', nodeStatus(n)],
              ['Labels', map(n.labels)],
              [
                'Taints',
                n.taints
                  .map((t) => `${t.key}${t.value === undefined ? '' : `=${t.value}`}:${t.effect}`)
                  .join(', ') || '<none>',
              ],
              ['Allocatable', n.allocatable.toString()],
              [
                'Allocated',
                `cpu ${cores(n.allocated.cpu)}${pct(n.allocated.cpu, n.allocatable.cpu)}, memory ${bytes(n.allocated.memory)}${pct(n.allocated.memory, n.allocatable.memory)}`,
              ],
            ]),
            `Tasks (${allocs.length}):\n`,
            allocs.length === 0
              ? '  <none>\n'
              : renderTable(
                  [
                    { header: '  NAME' },
                    { header: 'SERVICE' },
                    { header: 'TENANT' },
                    { header: 'PRIORITY' },
                    { header: 'RESOURCES' },
                  ],
                  allocs.map((a) => [
                    `  ${a.taskId}`,
                    a.service ?? '<none>',
                    a.tenant,
                    String(a.priority),
                    a.resources.toString(),
                  ]),
                  ctx.io.columns,
                ),
          ].join(''),
      );
      return;
    }

    const all = await adapter.tasks();
    if (type === 'tasks') {
      const s = all.find((t) => t.taskId === name);
      if (s === undefined)
        throw notFound(
          'task',
          name,
          all.map((t) => t.taskId),
        );
      emit(taskItem(s), () => describeTask(s, now));
      return;
    }

    const g = groupServices(all).find((x) => x.name === name);
    if (g === undefined)
      throw notFound(
        'service',
        name,
        groupServices(all).map((x) => x.name),
      );
    const endpoints = await adapter.endpoints(name);
    const item = serviceItem(g);
    emit({ ...item, endpoints }, () =>
      [
        block([
          ['Name', g.name],
          [
            'Replicas',
            `${item.replicas} desired | ${item.ready} running | ${g.tasks.filter((t) => isTerminal(t.state)).length} ended`,
          ],
          [
            'Endpoints',
            endpoints
              .map(
                (e) =>
                  Object.values(e.ports)
                    .map((p) => `${e.host}:${p}`)
                    .join(',') || e.host,
              )
              .join(', ') || '<none>',
          ],
        ]),
        'Tasks:\n',
        renderTable(
          [
            { header: '  NAME' },
            { header: 'STATE' },
            { header: 'NODE' },
            { header: 'PORTS' },
            { header: 'AGE' },
          ],
          g.tasks
            .sort((a, b) => compareTaskIds(a.taskId, b.taskId))
            .map((t) => [
              `  ${t.taskId}`,
              t.state,
              t.nodeId ?? '<none>',
              portsText(t.ports),
              age(t.timestamps.created, now),
            ]),
          ctx.io.columns,
        ),
      ].join(''),
    );
  });
}

function describeTask(s: TaskStatus, now: number): string {
  return block([
    ['Name', s.taskId],
    ['Service', s.service ?? '<none>'],
    ['State', s.state],
    ['Backend State', `${s.rawState} (${s.backend})`],
    ['Reason', s.reason ?? '<none>'],
    ['Message', s.message ?? '<none>'],
    ['Exit Code', s.exitCode === undefined ? '<none>' : String(s.exitCode)],
    [
      'Node',
      s.nodeId === undefined ? '<none>' : `${s.nodeId}${s.hostname === undefined ? '' : ` (${s.hostname})`}`,
    ],
    ['Ports', portsText(s.ports)],
    ['Created', `${when(s.timestamps.created)} (${age(s.timestamps.created, now)} ago)`],
    ['Started', when(s.timestamps.started)],
    ['Finished', when(s.timestamps.finished)],
  ]);
}

function notFound(kind: string, name: string, known: readonly string[]): BerthError {
  return new BerthError('NOT_FOUND', `${kind} ${name} not found`, {
    component: 'cli',
    hint: known.length === 0 ? `There are no ${kind}s.` : `List them with berth get ${kind}s.`,
    details: { kind, name },
  });
}
