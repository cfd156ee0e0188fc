import type { QueueSortPlugin } from '../plugin.ts';

/** Higher priority first; equal priority in arrival order. */
export const PrioritySort = {
  name: 'PrioritySort',
  less: (a, b) => a.priority > b.priority || (a.priority === b.priority && a.sequence < b.sequence),
} as const satisfies QueueSortPlugin;
