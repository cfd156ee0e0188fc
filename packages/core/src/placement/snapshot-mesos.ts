/**
 * A snapshot from Mesos offers: one node per agent, holding what that agent's offers make
 * available. Typed over the v1 JSON shapes Berth reads; no Mesos library involved.
 */
import { fromMesosResources, type MesosResource, PortRanges, type Resources } from '../resources/index.ts';
import { createSnapshot, type RunningTask, type Snapshot, type SnapshotNodeInput } from './snapshot.ts';

/** A Mesos v1 `Attribute` in JSON form. */
export interface MesosAttribute {
  readonly name: string;
  readonly type: 'SCALAR' | 'RANGES' | 'SET' | 'TEXT' | (string & {});
  readonly scalar?: { readonly value: number };
  readonly ranges?: { readonly range: readonly { readonly begin: number; readonly end: number }[] };
  readonly set?: { readonly item: readonly string[] };
  readonly text?: { readonly value: string };
}

/** The fields of a Mesos v1 `Offer` the snapshot uses. */
export interface MesosOffer {
  readonly id: { readonly value: string };
  readonly agent_id: { readonly value: string };
  readonly hostname: string;
  readonly resources: readonly MesosResource[];
  readonly attributes?: readonly MesosAttribute[];
}

export interface MesosSnapshotOptions {
  /** Use only resources this role may use (allocated or reserved to it, or unreserved). */
  readonly role?: string;
  /** Tasks already running per agent id (from the operator API), so constraints can count them. */
  readonly tasks?: ReadonlyMap<string, readonly RunningTask[]>;
  /** Agents under maintenance (or otherwise to avoid), by agent id. */
  readonly unschedulable?: ReadonlySet<string>;
}

/** An attribute's value the way Mesos prints it: text as is, `1.5`, `[31000-32000]`, `{a,b}`. */
export function mesosAttributeValue(a: MesosAttribute): string | undefined {
  switch (a.type) {
    case 'TEXT':
      return a.text?.value;
    case 'SCALAR':
      return a.scalar === undefined ? undefined : String(a.scalar.value);
    case 'RANGES':
      return a.ranges === undefined
        ? undefined
        : `[${a.ranges.range.map((r) => `${r.begin}-${r.end}`).join(',')}]`;
    case 'SET':
      return a.set === undefined ? undefined : `{${a.set.item.join(',')}}`;
    default:
      return undefined;
  }
}

const NO_TASKS: readonly RunningTask[] = [];

/** A node being built: an agent's later offers add to its resources. */
interface AgentNode extends SnapshotNodeInput {
  allocatable: Resources;
  freePorts: PortRanges;
}

/** An agent's attributes as node labels: each attribute's value the way Mesos prints it. */
function attributeLabels(attributes: readonly MesosAttribute[] | undefined): Record<string, string> {
  const labels: Record<string, string> = {};
  if (attributes === undefined) return labels;
  for (const a of attributes) {
    const v = mesosAttributeValue(a);
    if (v !== undefined) labels[a.name] = v;
  }
  return labels;
}

/**
 * One node per agent: allocatable = the sum of that agent's offered resources (so nothing is
 * allocated yet), free ports = the offered port ranges, labels = the agent's attributes. One pass
 * over the offers; an agent's later offers add to its node.
 */
export function snapshotFromMesosOffers(
  offers: readonly MesosOffer[],
  options: MesosSnapshotOptions = {},
): Snapshot {
  const convert = {
    unsupported: 'skip',
    ...(options.role === undefined ? {} : { role: options.role }),
  } as const;
  const { tasks, unschedulable } = options;
  const nodes: AgentNode[] = [];
  const nodeOf = new Map<string, number>();
  for (const offer of offers) {
    const id = offer.agent_id.value;
    const res = fromMesosResources(offer.resources, convert);
    const at = nodeOf.get(id);
    if (at !== undefined) {
      const node = nodes[at]!;
      node.allocatable = node.allocatable.add(res);
      node.freePorts = node.allocatable.ports ?? PortRanges.EMPTY;
      continue;
    }
    nodeOf.set(id, nodes.length);
    nodes.push({
      id,
      hostname: offer.hostname,
      labels: attributeLabels(offer.attributes),
      allocatable: res,
      freePorts: res.ports ?? PortRanges.EMPTY,
      unschedulable: unschedulable?.has(id) ?? false,
      tasks: tasks?.get(id) ?? NO_TASKS,
    });
  }
  return createSnapshot(nodes);
}
