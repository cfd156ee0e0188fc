/** `berth endpoints SERVICE [-w]`: host:port of every RUNNING replica. */
import type { Endpoint } from '@berth/core';
import type { CommandContext } from '../command-context.ts';
import { listDocument, parseOutputFormat, toJson, toYaml } from '../output/format.ts';
import { renderTable } from '../output/table.ts';
import { compareTaskIds, portsText } from '../output/views.ts';

function key(list: readonly Endpoint[]): string {
  return JSON.stringify(list.map((e) => [e.taskId, e.host, e.ports]));
}

export async function endpointsCommand(
  ctx: CommandContext,
  service: string,
  opts: { watch?: boolean; output?: string },
): Promise<void> {
  const format = parseOutputFormat(opts.output, ['table', 'json', 'yaml', 'name']);
  const print = (list: readonly Endpoint[]) => {
    const doc = listDocument(
      'Endpoint',
      list.map((e) => ({ kind: 'Endpoint', service, ...e })),
    );
    if (format === 'json') ctx.io.stdout(opts.watch ? `${JSON.stringify(doc)}\n` : toJson(doc));
    else if (format === 'yaml') ctx.io.stdout(`${opts.watch ? '---\n' : ''}${toYaml(doc)}`);
    else if (format === 'name')
      for (const e of list) for (const p of Object.values(e.ports)) ctx.io.stdout(`${e.host}:${p}\n`);
    else if (list.length === 0) ctx.io.stdout(`service/${service}: no running replicas\n`);
    else
      ctx.io.stdout(
        renderTable(
          [{ header: 'TASK', noTruncate: true }, { header: 'NODE' }, { header: 'HOST' }, { header: 'PORTS' }],
          list.map((e) => [e.taskId, e.nodeId, e.host, portsText(e.ports)]),
          ctx.io.columns,
        ),
      );
  };
  await ctx.withAdapter(async (adapter) => {
    const sorted = async () =>
      (await adapter.endpoints(service)).sort((a, b) => compareTaskIds(a.taskId, b.taskId));
    let current = await sorted();
    print(current);
    if (!opts.watch) return;
    const signal = ctx.io.signal === undefined ? {} : { signal: ctx.io.signal };
    for await (const s of adapter.watchTasks({ ...signal, filter: { service } })) {
      if (s.service !== service) continue;
      const next = await sorted();
      if (key(next) === key(current)) continue;
      current = next;
      print(current);
    }
  });
}
