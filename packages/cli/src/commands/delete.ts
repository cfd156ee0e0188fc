/** `berth delete task|service|job NAME…`. */
import { BerthError, isTerminal, type KillOptions } from '@berth/core';
import type { CommandContext } from '../command-context.ts';
import { deriveJobs } from '../output/views.ts';
import { resourceType } from './resource-types.ts';

export async function deleteCommand(
  ctx: CommandContext,
  typeArg: string,
  names: readonly string[],
  opts: { gracePeriod?: string },
): Promise<void> {
  const type = resourceType(typeArg, ['tasks', 'services', 'jobs'], 'delete');
  const kill: KillOptions = {};
  if (opts.gracePeriod !== undefined) {
    const g = Number(opts.gracePeriod);
    if (!Number.isFinite(g) || g < 0) {
      throw new BerthError(
        'SPEC_INVALID',
        `--grace-period: must be a number of seconds >= 0, got ${opts.gracePeriod}`,
        {
          component: 'cli',
        },
      );
    }
    Object.assign(kill, { gracePeriodSeconds: g });
  }
  await ctx.withAdapter(async (adapter) => {
    const all = await adapter.tasks();
    // Resolve every name first: nothing is stopped when one of them does not exist.
    const plan: { label: string; ids: string[]; service?: string }[] = [];
    const missing: string[] = [];
    for (const name of names) {
      if (type === 'tasks') {
        if (all.some((t) => t.taskId === name)) plan.push({ label: `task/${name}`, ids: [name] });
        else missing.push(name);
      } else if (type === 'services') {
        const tasks = all.filter((t) => t.service === name);
        if (tasks.length === 0) missing.push(name);
        else
          plan.push({
            label: `service/${name}`,
            ids: tasks.filter((t) => !isTerminal(t.state)).map((t) => t.taskId),
            service: name,
          });
      } else {
        const job = (adapter.jobs === undefined ? deriveJobs(all) : await adapter.jobs()).find(
          (j) => j.name === name,
        );
        if (job === undefined) missing.push(name);
        else
          plan.push({
            label: `job/${name}`,
            ids: job.tasks.filter((t) => !isTerminal(t.state)).map((t) => t.taskId),
          });
      }
    }
    if (missing.length > 0) {
      const kind = type.slice(0, -1);
      throw new BerthError('NOT_FOUND', `${kind} ${missing.join(', ')} not found; nothing was deleted`, {
        component: 'cli',
        hint: `List them with berth get ${type}.`,
      });
    }
    for (const p of plan) {
      // A service is scaled to zero first, so the backend does not replace the replicas it loses.
      if (p.service !== undefined) await adapter.scale(p.service, 0);
      for (const id of p.ids) await adapter.kill(id, kill);
      ctx.io.stdout(`${p.label} deleted\n`);
    }
  });
}
