/**
 * The ReplicaSet controller: keeps `spec.replicas` active pods matching the selector, adopting
 * orphans that match (an ownerReference with controller=true) and releasing owned pods that no
 * longer match; surplus pods go in kube's order (unbound, pending, not ready, newest first).
 * Status: replicas, fullyLabeledReplicas, readyReplicas, availableReplicas (ready for
 * minReadySeconds), observedGeneration.
 */
import type { Controller, ControllerContext } from './controller.ts';
import {
  canonical,
  controllerRef,
  controllerRefTo,
  isActivePod,
  isDeleting,
  isPodAvailable,
  isPodReady,
  type JsonObject,
  labelsOf,
  meta,
  nameOf,
  namespaceOf,
  nodeNameOf,
  num,
  obj,
  objs,
  parseTime,
  podPhase,
  selectorIsEmpty,
  selectorMatches,
  str,
  uidOf,
} from './objects.ts';
import { isConflictOrGone, WorkQueue } from './runtime.ts';

/** Most pods created or deleted per sync (kube's burstReplicas). */
const BURST = 500;

export interface PodOwnerKind {
  readonly apiVersion: string;
  readonly kind: string;
}

/** The owner's pods: those it controls plus matching orphans it adopts; releases non-matching ones. */
export function claimPods(
  ctx: ControllerContext,
  owner: JsonObject,
  kind: PodOwnerKind,
  candidates: readonly JsonObject[],
): JsonObject[] {
  return claimObjects(ctx, 'pods', owner, kind, candidates);
}

/** `claimPods` for any namespaced resource (a Deployment claims ReplicaSets). */
export function claimObjects(
  ctx: ControllerContext,
  resource: string,
  owner: JsonObject,
  kind: PodOwnerKind,
  candidates: readonly JsonObject[],
): JsonObject[] {
  const selector = obj(owner.spec).selector;
  const uid = uidOf(owner);
  const out: JsonObject[] = [];
  for (const pod of candidates) {
    const ref = controllerRef(pod);
    const matches = !selectorIsEmpty(selector) && selectorMatches(selector, labelsOf(pod));
    if (ref !== undefined) {
      if (ref.uid !== uid) continue;
      if (matches) {
        out.push(pod);
        continue;
      }
      if (isDeleting(owner)) continue;
      // Release: the pod no longer matches the selector.
      const refs = objs(meta(pod).ownerReferences).filter((r) => r.uid !== uid);
      try {
        ctx.api.patch(resource, namespaceOf(pod), nameOf(pod), 'merge', {
          metadata: { ownerReferences: refs.length === 0 ? null : refs },
        });
      } catch (error) {
        if (!isConflictOrGone(error)) throw error;
      }
      continue;
    }
    if (!matches || isDeleting(owner) || isDeleting(pod)) continue;
    try {
      const adopted = ctx.api.patch(resource, namespaceOf(pod), nameOf(pod), 'merge', {
        metadata: {
          ownerReferences: [
            ...objs(meta(pod).ownerReferences),
            controllerRefTo(owner, kind.apiVersion, kind.kind),
          ],
        },
      });
      out.push(adopted);
    } catch (error) {
      if (!isConflictOrGone(error)) throw error;
    }
  }
  return out;
}

/** kube's ActivePods order: the ones to delete first sort first. */
export function deletionRank(a: JsonObject, b: JsonObject): number {
  const bound = (p: JsonObject) => (nodeNameOf(p) === '' ? 0 : 1);
  if (bound(a) !== bound(b)) return bound(a) - bound(b);
  const phase = (p: JsonObject) => (podPhase(p) === 'Pending' ? 0 : podPhase(p) === 'Unknown' ? 1 : 2);
  if (phase(a) !== phase(b)) return phase(a) - phase(b);
  const ready = (p: JsonObject) => (isPodReady(p) ? 1 : 0);
  if (ready(a) !== ready(b)) return ready(a) - ready(b);
  const restarts = (p: JsonObject) =>
    objs(obj(p.status).containerStatuses).reduce((s, c) => s + (num(c.restartCount) ?? 0), 0);
  if (restarts(a) !== restarts(b)) return restarts(b) - restarts(a);
  const created = (p: JsonObject) => parseTime(meta(p).creationTimestamp) ?? 0;
  return created(b) - created(a);
}

/** A pod object from an owner's template. */
export function podFromTemplate(
  owner: JsonObject,
  kind: PodOwnerKind,
  template: JsonObject,
  extraLabels: Record<string, string> = {},
): JsonObject {
  const tmeta = obj(template.metadata);
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      generateName: `${nameOf(owner)}-`,
      namespace: namespaceOf(owner),
      labels: { ...obj(tmeta.labels), ...extraLabels },
      ...(tmeta.annotations === undefined ? {} : { annotations: obj(tmeta.annotations) }),
      ...(tmeta.finalizers === undefined ? {} : { finalizers: tmeta.finalizers }),
      ownerReferences: [controllerRefTo(owner, kind.apiVersion, kind.kind)],
    },
    spec: obj(template.spec),
  };
}

const RS_KIND: PodOwnerKind = { apiVersion: 'apps/v1', kind: 'ReplicaSet' };

export function startReplicaSetController(ctx: ControllerContext): Controller {
  const { api, clock } = ctx;
  const sets = ctx.informers.get('replicasets.apps');
  const pods = ctx.informers.get('pods');

  const sync = (key: string) => {
    const [ns, name] = key.split('/') as [string, string];
    const rs = sets.get(ns, name);
    if (rs === undefined) return;
    const spec = obj(rs.spec);
    const owned = claimPods(ctx, rs, RS_KIND, pods.list(ns));
    const active = owned.filter(isActivePod);
    const want = isDeleting(rs) ? active.length : (num(spec.replicas) ?? 1);
    const diff = active.length - want;
    if (diff < 0) {
      const template = obj(spec.template);
      for (let i = 0; i < Math.min(-diff, BURST); i++) {
        const pod = api.create('pods', ns, podFromTemplate(rs, RS_KIND, template));
        ctx.events.record(
          { ...RS_KIND, object: rs },
          'Normal',
          'SuccessfulCreate',
          `Created pod: ${nameOf(pod)}`,
          'replicaset-controller',
        );
      }
    } else if (diff > 0) {
      for (const pod of [...active].sort(deletionRank).slice(0, Math.min(diff, BURST))) {
        try {
          api.delete('pods', ns, nameOf(pod));
          ctx.events.record(
            { ...RS_KIND, object: rs },
            'Normal',
            'SuccessfulDelete',
            `Deleted pod: ${nameOf(pod)}`,
            'replicaset-controller',
          );
        } catch (error) {
          if (!isConflictOrGone(error)) throw error;
        }
      }
    }
    // Status from the cache as it is now (the writes above came back synchronously).
    const now = clock.now();
    const minReady = num(spec.minReadySeconds) ?? 0;
    const current = claimPods(ctx, rs, RS_KIND, pods.list(ns)).filter(isActivePod);
    const templateLabels = obj(obj(obj(spec.template).metadata).labels);
    const status = {
      replicas: current.length,
      fullyLabeledReplicas: current.filter((p) =>
        Object.entries(templateLabels).every(([k, v]) => labelsOf(p)[k] === v),
      ).length,
      readyReplicas: current.filter(isPodReady).length,
      availableReplicas: current.filter((p) => isPodAvailable(p, minReady, now)).length,
      observedGeneration: num(meta(rs).generation) ?? 1,
    };
    if (statusDiffers(obj(rs.status), status)) {
      api.patch('replicasets.apps', ns, name, 'merge', { status }, { subresource: 'status' });
    }
    // Pods becoming available later (minReadySeconds) need another look.
    if (minReady > 0 && status.readyReplicas > status.availableReplicas) queue.addAfter(key, minReady * 1000);
  };

  const queue = new WorkQueue(sync, { clock, onError: ctx.onError });
  const enqueueOwner = (pod: JsonObject) => {
    const ref = controllerRef(pod);
    if (ref !== undefined) {
      if (ref.kind === 'ReplicaSet') queue.add(`${namespaceOf(pod)}/${ref.name}`);
      return;
    }
    // An orphan: every set whose selector matches may adopt it.
    for (const rs of sets.list(namespaceOf(pod)))
      if (selectorMatches(obj(rs.spec).selector, labelsOf(pod)))
        queue.add(`${namespaceOf(rs)}/${nameOf(rs)}`);
  };
  const offSets = sets.on((type, rs) => {
    if (type !== 'DELETED') queue.add(`${namespaceOf(rs)}/${nameOf(rs)}`);
  });
  const offPods = pods.on((_type, pod, previous) => {
    enqueueOwner(pod);
    if (previous !== undefined && str(controllerRef(previous)?.uid) !== str(controllerRef(pod)?.uid))
      enqueueOwner(previous);
  });
  for (const rs of sets.list()) queue.add(`${namespaceOf(rs)}/${nameOf(rs)}`);

  return {
    name: 'replicaset',
    idle: () => queue.idle(),
    stop: () => {
      offSets();
      offPods();
      queue.close();
    },
  };
}

/** Whether any of `next`'s fields differs from `current` (other fields are left alone). */
export function statusDiffers(current: JsonObject, next: JsonObject): boolean {
  return Object.entries(next).some(([k, v]) => canonical(current[k]) !== canonical(v));
}
