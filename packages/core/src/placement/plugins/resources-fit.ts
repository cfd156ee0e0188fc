import { PortRanges } from '../../resources/index.ts';
import { stateKey } from '../cycle-state.ts';
import type { FilterPlugin, PlacementContext, PreFilterPlugin } from '../plugin.ts';
import type { ResourceColumn } from '../snapshot.ts';
import { type Status, unschedulable } from '../status.ts';

interface FitState {
  readonly extended: readonly { name: string; amount: number; column: ResourceColumn | undefined }[];
  readonly fixedPorts: PortRanges;
  readonly portCount: number;
}

const FIT_STATE = stateKey<FitState>('ResourcesFit/preFilter');

function fitState(ctx: PlacementContext): FitState {
  let s = ctx.state.read(FIT_STATE);
  if (s === undefined) {
    const { task, snapshot } = ctx;
    s = {
      extended: [...task.requests.extended].map(([name, amount]) => ({
        name,
        amount,
        column: snapshot.resource(name),
      })),
      fixedPorts: task.fixedPorts.length === 0 ? PortRanges.EMPTY : PortRanges.fromPorts(task.fixedPorts),
      portCount: task.ports.length,
    };
    ctx.state.write(FIT_STATE, s);
  }
  return s;
}

/**
 * The statuses for shortfalls of cpu, memory, disk and gpus alone, by bit (1 cpu, 2 memory,
 * 4 disk, 8 gpus), built once and shared: a failed cycle asks every node why, and most answers
 * are one of these.
 */
const STANDARD_SHORTFALLS: readonly Status[] = Array.from({ length: 16 }, (_, bits) =>
  Object.freeze({
    code: 'Unschedulable' as const,
    reasons: Object.freeze(
      ['insufficient cpu', 'insufficient memory', 'insufficient disk', 'insufficient gpus'].filter(
        (_, k) => (bits & (1 << k)) !== 0,
      ),
    ),
    plugin: 'ResourcesFit',
  }),
);

function free(c: ResourceColumn, i: number): number {
  return c.alloc[i]! - c.used[i]!;
}

/** The extended-resource and fixed-port part of the check, without allocating (the hot path). */
function fitsSlow(ctx: PlacementContext, st: FitState, i: number): boolean {
  for (const e of st.extended) if (e.column === undefined || e.amount > free(e.column, i)) return false;
  const { task } = ctx;
  if (task.fixedPorts.length === 0) return true;
  const ports = ctx.snapshot.freePorts(i);
  for (const p of task.fixedPorts) if (!ports.contains(p)) return false;
  // All fixed ports are free, so what is left for the dynamic ones is the rest.
  return ports.size - st.fixedPorts.size >= task.dynamicPorts;
}

/**
 * Does the node have the free cpu, memory, disk, GPUs, extended resources and host ports (the
 * fixed ones, plus enough others for the dynamic ones) the task requests? Zero requests always fit.
 */
export const ResourcesFit = {
  name: 'ResourcesFit',
  shapeKey(ctx: PlacementContext) {
    const { requests: r, fixedPorts, dynamicPorts } = ctx.task;
    let key = `${r.cpu},${r.memory},${r.disk},${r.gpus}`;
    for (const [name, v] of r.extended) key += `,${name}=${v}`;
    if (fixedPorts.length > 0 || dynamicPorts > 0) key += `|${fixedPorts.join(',')}|${dynamicPorts}`;
    return key;
  },
  preFilter(ctx: PlacementContext) {
    fitState(ctx);
    return undefined;
  },
  filter(ctx: PlacementContext, i: number): Status | undefined {
    const { task, snapshot: s } = ctx;
    const r = task.requests;
    const st = fitState(ctx);
    let bits = 0;
    if (r.cpu > 0 && r.cpu > free(s.cpu, i)) bits |= 1;
    if (r.memory > 0 && r.memory > free(s.memory, i)) bits |= 2;
    if (r.disk > 0 && r.disk > free(s.disk, i)) bits |= 4;
    if (r.gpus > 0 && r.gpus > free(s.gpus, i)) bits |= 8;
    const standard = STANDARD_SHORTFALLS[bits]!;
    if (st.extended.length === 0 && st.portCount === 0) return bits === 0 ? undefined : standard;
    const reasons = [...standard.reasons];
    for (const e of st.extended) {
      if (e.column === undefined || e.amount > free(e.column, i)) reasons.push(`insufficient ${e.name}`);
    }
    if (st.portCount > 0) {
      const ports = s.freePorts(i);
      for (const p of task.fixedPorts) if (!ports.contains(p)) reasons.push(`host port ${p} not free`);
      if (ports.sub(st.fixedPorts).size < task.dynamicPorts) reasons.push('insufficient ports');
    }
    return reasons.length === 0 ? undefined : unschedulable(...reasons);
  },
  filterAll(ctx: PlacementContext, cand: Int32Array, count: number): number {
    const { task, snapshot: s } = ctx;
    const r = task.requests;
    const st = fitState(ctx);
    const rc = r.cpu;
    const rm = r.memory;
    const rd = r.disk;
    const rg = r.gpus;
    const ca = s.cpu.alloc;
    const cu = s.cpu.used;
    const ma = s.memory.alloc;
    const mu = s.memory.used;
    const da = s.disk.alloc;
    const du = s.disk.used;
    const ga = s.gpus.alloc;
    const gu = s.gpus.used;
    const portCount = st.portCount;
    const pc = s.freePortCount;
    const slow = st.extended.length > 0 || task.fixedPorts.length > 0;
    let kept = 0;
    for (let k = 0; k < count; k++) {
      const i = cand[k]!;
      if (rc > 0 && rc > ca[i]! - cu[i]!) continue;
      if (rm > 0 && rm > ma[i]! - mu[i]!) continue;
      if (rd > 0 && rd > da[i]! - du[i]!) continue;
      if (rg > 0 && rg > ga[i]! - gu[i]!) continue;
      if (portCount > pc[i]!) continue;
      if (slow && !fitsSlow(ctx, st, i)) continue;
      cand[kept++] = i;
    }
    return kept;
  },
} as const satisfies PreFilterPlugin & FilterPlugin;
