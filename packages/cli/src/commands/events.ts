/** `berth events [-w] [--duration]`: what the cluster did, in order. */
import { BerthError, type ClusterEvent } from '@berth/core';
import type { CommandContext } from '../command-context.ts';
import { age, parseDuration } from '../output/age.ts';
import { listDocument, parseOutputFormat, toJson, toYaml } from '../output/format.ts';
import { type Column, renderTable } from '../output/table.ts';

const COLUMNS: readonly Column[] = [
  { header: 'LAST SEEN' },
  { header: 'TYPE' },
  { header: 'REASON' },
  { header: 'OBJECT' },
  { header: 'MESSAGE' },
];

export function eventItem(e: ClusterEvent) {
  return { ...e, time: new Date(e.at).toISOString() };
}

function object(e: ClusterEvent): string {
  if (e.taskId !== undefined) return `task/${e.taskId}`;
  if (e.service !== undefined) return `service/${e.service}`;
  if (e.nodeId !== undefined) return `node/${e.nodeId}`;
  return '<cluster>';
}

export async function eventsCommand(
  ctx: CommandContext,
  opts: { watch?: boolean; duration: string; output?: string },
): Promise<void> {
  const format = parseOutputFormat(opts.output, ['table', 'json', 'yaml']);
  const durationMs = parseDuration(opts.duration);
  if (durationMs === undefined) {
    throw new BerthError(
      'SPEC_INVALID',
      `--duration: cannot read ${JSON.stringify(opts.duration)} as a duration`,
      {
        component: 'cli',
        hint: 'Write a duration such as 2s, 30s or 1m.',
      },
    );
  }
  const row = (e: ClusterEvent) => [
    age(e.at, ctx.io.now()),
    e.level === 'warning' ? 'Warning' : 'Normal',
    e.kind,
    object(e),
    e.message,
  ];
  const c = ctx.colors;
  const style = {
    style: (h: string) => c.bold(h),
    cellStyle: (col: number, t: string) => (col === 1 && t === 'Warning' ? c.yellow(t) : t),
  };
  await ctx.withAdapter(async (adapter) => {
    if (!opts.watch) {
      let events: ClusterEvent[];
      if (adapter.recentEvents !== undefined) events = await adapter.recentEvents();
      else {
        // The adapter reports events from the connection on: listen for --duration.
        const stop = new AbortController();
        const timer = setTimeout(() => stop.abort(), durationMs);
        const signal =
          ctx.io.signal === undefined ? stop.signal : AbortSignal.any([stop.signal, ctx.io.signal]);
        events = [];
        try {
          for await (const e of adapter.events({ signal })) events.push(e);
        } finally {
          clearTimeout(timer);
        }
      }
      if (format === 'json') ctx.io.stdout(toJson(listDocument('Event', events.map(eventItem))));
      else if (format === 'yaml') ctx.io.stdout(toYaml(listDocument('Event', events.map(eventItem))));
      else if (events.length === 0) ctx.io.stderr('No events.\n');
      else ctx.io.stdout(renderTable(COLUMNS, events.map(row), ctx.io.columns, style));
      return;
    }
    let header = true;
    for await (const e of adapter.events(ctx.io.signal === undefined ? {} : { signal: ctx.io.signal })) {
      if (format === 'json') ctx.io.stdout(`${JSON.stringify(eventItem(e))}\n`);
      else if (format === 'yaml') ctx.io.stdout(`---\n${toYaml(eventItem(e))}`);
      else ctx.io.stdout(renderTable(COLUMNS, [row(e)], ctx.io.columns, { ...style, header }));
      header = false;
    }
  });
}
