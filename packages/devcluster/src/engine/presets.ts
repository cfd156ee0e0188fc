import { statfsSync } from 'node:fs';
import { availableParallelism, tmpdir, totalmem } from 'node:os';
import { BerthError } from '@berth/core';
import type { EnginePreset, NodeGroupSpec, NodeSpec } from './types.ts';

const GiB = 1024 ** 3;

/** Well-known label keys the engine sets on every node. */
export const NODE_LABELS = {
  hostname: 'kubernetes.io/hostname',
  zone: 'topology.kubernetes.io/zone',
  rack: 'berth.dev/rack',
} as const;

/** The machine the laptop preset splits, injectable for tests. */
export interface MachineInfo {
  readonly cores: number;
  readonly memoryBytes: number;
  readonly diskBytes: number;
}

export function thisMachine(): MachineInfo {
  let diskBytes = 64 * GiB;
  try {
    const s = statfsSync(tmpdir());
    diskBytes = s.bavail * s.bsize;
  } catch {
    // statfs is unavailable on some platforms: keep the default.
  }
  return { cores: availableParallelism(), memoryBytes: totalmem(), diskBytes };
}

/**
 * The node groups of a preset.
 * - `laptop`: 3 nodes splitting this machine's cores, memory and temp-disk space evenly, each with
 *   its own 1,000-port range (31000–31999, 32000–32999, …) so real processes on different virtual
 *   nodes never compete for a port.
 * - `rack`: 200 simulated-size nodes (8 cpus, 32 GiB) in 10 racks over 2 zones.
 * - `large`: 5,000 nodes (16 cpus, 64 GiB) in 100 racks over 3 zones.
 */
export function presetGroups(preset: EnginePreset, machine: MachineInfo = thisMachine()): NodeGroupSpec[] {
  switch (preset) {
    case 'laptop': {
      const n = 3;
      return Array.from({ length: n }, (_, i) => ({
        count: 1,
        prefix: `node-${i + 1}`,
        capacity: {
          cpu: Math.floor((machine.cores * 1000) / n),
          memory: Math.floor(machine.memoryBytes / n),
          disk: Math.floor(machine.diskBytes / n),
        },
        ports: { begin: 31000 + i * 1000, end: 31999 + i * 1000 },
        labels: { [NODE_LABELS.zone]: 'zone-a' },
        attributes: { zone: 'zone-a' },
      }));
    }
    case 'rack':
      return [
        {
          count: 200,
          prefix: 'rack-node',
          capacity: { cpu: 8000, memory: 32 * GiB, disk: 256 * GiB },
          racks: 10,
          zones: 2,
        },
      ];
    case 'large':
      return [
        {
          count: 5000,
          prefix: 'large-node',
          capacity: { cpu: 16000, memory: 64 * GiB, disk: 512 * GiB },
          racks: 100,
          zones: 3,
        },
      ];
    default:
      throw new BerthError('SPEC_INVALID', `unknown devcluster preset ${JSON.stringify(preset)}`, {
        component: 'devcluster',
        hint: 'Use preset: "laptop", "rack" or "large", or describe nodes with `nodes: [...]`.',
      });
  }
}

function zoneName(i: number): string {
  // zone-a … zone-z, then zone-aa …
  let s = '';
  let n = i;
  do {
    s = String.fromCharCode(97 + (n % 26)) + s;
    n = Math.floor(n / 26) - 1;
  } while (n >= 0);
  return `zone-${s}`;
}

function positiveInt(value: number | undefined, field: string): void {
  if (value !== undefined && (!Number.isInteger(value) || value < 1)) {
    throw new BerthError('SPEC_INVALID', `${field} must be a positive integer, got ${value}`, {
      component: 'devcluster',
      hint: `Set ${field} to 1 or more, or leave it out.`,
    });
  }
}

/**
 * Expands groups into one spec per node: ids `<prefix>-<n>` (or just `<prefix>` for a single-node
 * group with an explicit prefix), racks of consecutive nodes, racks dealt round-robin into zones.
 */
export function expandGroups(groups: readonly NodeGroupSpec[]): NodeSpec[] {
  const out: NodeSpec[] = [];
  groups.forEach((g, gi) => {
    const field = `nodes[${gi}]`;
    positiveInt(g.count, `${field}.count`);
    positiveInt(g.racks, `${field}.racks`);
    positiveInt(g.zones, `${field}.zones`);
    const { count, prefix, racks, zones, domain, ...shared } = g;
    const single = count === 1 && prefix !== undefined;
    for (let i = 0; i < count; i++) {
      const id = single ? prefix : `${prefix ?? 'node'}-${i + 1}`;
      const rackIndex = racks === undefined ? undefined : Math.floor((i * racks) / count);
      const rack = rackIndex === undefined ? undefined : `rack-${rackIndex + 1}`;
      const zone =
        zones === undefined ? undefined : zoneName(rackIndex === undefined ? i % zones : rackIndex % zones);
      out.push({
        ...shared,
        id,
        hostname: domain === undefined ? id : `${id}.${domain}`,
        ...(rack === undefined ? {} : { rack }),
        ...(zone === undefined ? {} : { zone }),
      });
    }
  });
  return out;
}
