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

/**
 * One node per agent: allocatable = the sum of that agent's offered resources (so nothing is
 * allocated yet), free ports = the offered port ranges, labels = the agent's attributes.
 */
export function snapshotFromMesosOffers(
  offers: readonly MesosOffer[],
  options: MesosSnapshotOptions = {},
): Snapshot {
  const agents = new Map<
    string,
    { hostname: string; resources: Resources; attributes: Record<string, string> }
  >();
  for (const offer of offers) {
    const id = offer.agent_id.value;
    const res = fromMesosResources(offer.resources, {
      unsupported: 'skip',
      ...(options.role === undefined ? {} : { role: options.role }),
    });
    const agent = agents.get(id);
    if (agent === undefined) {
      const attributes: Record<string, string> = {};
      for (const a of offer.attributes ?? []) {
        const v = mesosAttributeValue(a);
        if (v !== undefined) attributes[a.name] = v;
      }
      agents.set(id, { hostname: offer.hostname, resources: res, attributes });
    } else agent.resources = agent.resources.add(res);
  }
  const nodes: SnapshotNodeInput[] = [];
  for (const [id, a] of agents) {
    nodes.push({
      id,
      hostname: a.hostname,
      labels: a.attributes,
      allocatable: a.resources,
      freePorts: a.resources.ports ?? PortRanges.EMPTY,
      unschedulable: options.unschedulable?.has(id) ?? false,
      tasks: options.tasks?.get(id) ?? [],
    });
  }
  return createSnapshot(nodes);
}
