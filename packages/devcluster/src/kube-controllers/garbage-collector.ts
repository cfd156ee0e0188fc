/**
 * Garbage collection through ownerReferences. The face already deletes dependents when an owner
 * is deleted (Background, Foreground with the `foregroundDeletion` finalizer, Orphan), so this
 * controller covers what it cannot see at that moment: objects whose owners no longer exist (created
 * with a stale reference, or left over from a restart) are deleted once all their owners are gone,
 * and lose the references to the gone ones otherwise. Pod GC force-deletes pods bound to nodes that
 * no longer exist, as kube-controller-manager's pod garbage collector does.
 */
import { RESOURCES, type ResourceDef, storageKey } from '../kube/resources.ts';
import type { Controller, ControllerContext } from './controller.ts';
import { type JsonObject, meta, nameOf, namespaceOf, nodeNameOf, objs, ownerRefs, str } from './objects.ts';
import { isConflictOrGone, WorkQueue } from './runtime.ts';

export interface GarbageCollectorOptions {
  /** Full scan interval (30,000 ms); changes are also checked as they happen. */
  readonly resyncMs?: number;
}

const DEFS: readonly ResourceDef[] = RESOURCES.filter((r) => !r.readOnly && r.conversion === undefined);

function defOfKind(kind: string, apiVersion: string): ResourceDef | undefined {
  const group = apiVersion.includes('/') ? apiVersion.split('/')[0]! : '';
  return DEFS.find((d) => d.kind === kind && d.group === group) ?? DEFS.find((d) => d.kind === kind);
}

export function startGarbageCollector(
  ctx: ControllerContext,
  options: GarbageCollectorOptions = {},
): Controller {
  const { api, clock } = ctx;
  const resync = options.resyncMs ?? 30_000;
  const nodes = ctx.informers.get('nodes');
  const pods = ctx.informers.get('pods');

  const ownerExists = (
    namespace: string,
    ref: { kind: string; apiVersion: string; name: string; uid: string },
  ) => {
    const def = defOfKind(ref.kind, ref.apiVersion);
    if (def === undefined) return true; // a kind this server does not serve: never collect on a guess
    const owner = api.store.get(storageKey(def), def.namespaced ? namespace : '', ref.name);
    return owner !== undefined && str(meta(owner).uid) === ref.uid;
  };

  /** key = `resource\0namespace\0name` */
  const sync = (key: string) => {
    const [resource, ns, name] = key.split('\u0000') as [string, string, string];
    const def = DEFS.find((d) => storageKey(d) === resource);
    if (def === undefined) return;
    if (resource === 'pods') {
      const pod = pods.get(ns, name);
      if (pod !== undefined && nodeNameOf(pod) !== '' && nodes.get('', nodeNameOf(pod)) === undefined) {
        try {
          api.delete('pods', ns, name, { gracePeriodSeconds: 0 });
        } catch (error) {
          if (!isConflictOrGone(error)) throw error;
        }
        return;
      }
    }
    const o = api.store.get(resource, ns, name);
    if (o === undefined) return;
    const refs = ownerRefs(o);
    if (refs.length === 0) return;
    const gone = refs.filter((r) => !ownerExists(ns, r));
    if (gone.length === 0) return;
    if (gone.length === refs.length) {
      try {
        api.delete(def, ns, name, { propagationPolicy: 'Background' });
      } catch (error) {
        if (!isConflictOrGone(error)) throw error;
      }
      return;
    }
    const goneUids = new Set(gone.map((r) => r.uid));
    api.patch(def, ns, name, 'merge', {
      metadata: { ownerReferences: objs(meta(o).ownerReferences).filter((r) => !goneUids.has(str(r.uid))) },
    });
  };

  const queue = new WorkQueue(sync, { clock, onError: ctx.onError });
  const keyOf = (resource: string, o: JsonObject) => [resource, namespaceOf(o), nameOf(o)].join('\u0000');
  const scan = () => {
    for (const def of DEFS) {
      for (const o of api.store.listShared(storageKey(def))) {
        if (ownerRefs(o).length > 0 || (def.kind === 'Pod' && nodeNameOf(o) !== ''))
          queue.add(keyOf(storageKey(def), o));
      }
    }
  };
  const off = api.store.subscribe((e) => {
    if (e.type === 'DELETED') {
      if (e.resource === 'nodes')
        for (const p of pods.list()) if (nodeNameOf(p) === nameOf(e.object)) queue.add(keyOf('pods', p));
      return;
    }
    if (ownerRefs(e.object).length > 0) queue.add(keyOf(e.resource, e.object));
  });
  scan();
  const ticker = setInterval(scan, resync);
  ticker.unref();

  return {
    name: 'garbage-collector',
    idle: () => queue.idle(),
    stop: () => {
      off();
      clearInterval(ticker);
      queue.close();
    },
  };
}
