/**
 * The Deployment controller: one ReplicaSet per pod template (named and labelled by its
 * `pod-template-hash`), rolled with the RollingUpdate rules (new ReplicaSet up to replicas +
 * maxSurge, old ones down while availability stays above replicas − maxUnavailable) or Recreate,
 * revisions in `deployment.kubernetes.io/revision`, old ReplicaSets beyond revisionHistoryLimit
 * removed, and the status `kubectl rollout status` reads: observedGeneration, replicas,
 * updatedReplicas, readyReplicas, availableReplicas, unavailableReplicas, and the Available and
 * Progressing conditions (ProgressDeadlineExceeded after progressDeadlineSeconds without progress).
 */
import type { Controller, ControllerContext } from './controller.ts';
import {
  annotationsOf,
  canonical,
  condition,
  controllerRef,
  controllerRefTo,
  isDeleting,
  type Json,
  type JsonObject,
  labelsOf,
  meta,
  nameOf,
  namespaceOf,
  num,
  obj,
  objs,
  parseTime,
  selectorMatches,
  str,
  timestamp,
  withCondition,
} from './objects.ts';
import { claimObjects, type PodOwnerKind, statusDiffers } from './replica-set-controller.ts';
import { WorkQueue } from './runtime.ts';

export const POD_TEMPLATE_HASH = 'pod-template-hash';
export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';
const DESIRED_ANNOTATION = 'deployment.kubernetes.io/desired-replicas';
const MAX_ANNOTATION = 'deployment.kubernetes.io/max-replicas';
const DEPLOYMENT_KIND: PodOwnerKind = { apiVersion: 'apps/v1', kind: 'Deployment' };
const RS = 'replicasets.apps';
const SAFE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** FNV-1a (32 bit) of the template, printed with the apimachinery's safe alphabet. */
export function templateHash(template: Json | undefined, collisionCount = 0): string {
  let h = 0x811c9dc5;
  const text = canonical(template) + (collisionCount > 0 ? String(collisionCount) : '');
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  let out = '';
  for (const ch of String(h)) out += SAFE_ALPHABET[Number(ch) % SAFE_ALPHABET.length];
  return out;
}

/** `25%` of `total` (rounded up for surge, down for unavailability) or an integer. */
export function scaledValue(v: Json | undefined, total: number, roundUp: boolean): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && /^\d+%$/.test(v)) {
    const x = (Number(v.slice(0, -1)) * total) / 100;
    return roundUp ? Math.ceil(x) : Math.floor(x);
  }
  if (typeof v === 'string' && /^\d+$/.test(v)) return Number(v);
  return 0;
}

/** maxSurge and maxUnavailable of a deployment (never both 0: unavailability then becomes 1). */
export function rollingLimits(d: JsonObject): { surge: number; unavailable: number } {
  const spec = obj(d.spec);
  const replicas = num(spec.replicas) ?? 1;
  const strategy = obj(spec.strategy);
  if (str(strategy.type) === 'Recreate') return { surge: 0, unavailable: replicas };
  const ru = obj(strategy.rollingUpdate);
  const surge = scaledValue(ru.maxSurge ?? '25%', replicas, true);
  let unavailable = scaledValue(ru.maxUnavailable ?? '25%', replicas, false);
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return { surge, unavailable: Math.min(unavailable, replicas) };
}

function withoutHash(template: Json | undefined): string {
  const t = obj(template);
  const m = obj(t.metadata);
  const labels = { ...obj(m.labels) };
  delete labels[POD_TEMPLATE_HASH];
  return canonical({ ...t, metadata: { ...m, labels } });
}

const replicasOf = (rs: JsonObject) => num(obj(rs.spec).replicas) ?? 0;
const statusNum = (o: JsonObject, k: string) => num(obj(o.status)[k]) ?? 0;
const revisionOf = (rs: JsonObject) => Number(annotationsOf(rs)[REVISION_ANNOTATION] ?? '0') || 0;

export function startDeploymentController(ctx: ControllerContext): Controller {
  const { api, clock } = ctx;
  const deployments = ctx.informers.get('deployments.apps');
  const sets = ctx.informers.get(RS);
  const pods = ctx.informers.get('pods');

  const scaleRS = (d: JsonObject, rs: JsonObject, replicas: number): JsonObject => {
    const { surge } = rollingLimits(d);
    const want = num(obj(d.spec).replicas) ?? 1;
    const annotations = {
      [DESIRED_ANNOTATION]: String(want),
      [MAX_ANNOTATION]: String(want + surge),
    };
    const same = Object.entries(annotations).every(([k, v]) => annotationsOf(rs)[k] === v);
    if (replicasOf(rs) === replicas && same) return rs;
    const next = api.patch(RS, namespaceOf(rs), nameOf(rs), 'merge', {
      metadata: { annotations },
      spec: { replicas },
    });
    if (replicasOf(rs) !== replicas) {
      const verb = replicas > replicasOf(rs) ? 'up' : 'down';
      ctx.events.record(
        { ...DEPLOYMENT_KIND, object: d },
        'Normal',
        'ScalingReplicaSet',
        `Scaled ${verb} replica set ${nameOf(rs)} from ${replicasOf(rs)} to ${replicas}`,
        'deployment-controller',
      );
    }
    return next;
  };

  const sync = (key: string) => {
    const [ns, name] = key.split('/') as [string, string];
    const d = deployments.get(ns, name);
    if (d === undefined || isDeleting(d)) return;
    const spec = obj(d.spec);
    const want = num(spec.replicas) ?? 1;
    const owned = claimObjects(ctx, RS, d, DEPLOYMENT_KIND, sets.list(ns));
    const template = obj(spec.template);
    const collision = num(obj(d.status).collisionCount) ?? 0;
    const hash = templateHash(template, collision);
    let newRS = owned.find((rs) => labelsOf(rs)[POD_TEMPLATE_HASH] === hash);
    newRS ??= owned.find((rs) => withoutHash(obj(rs.spec).template) === withoutHash(template));
    let olds = owned.filter((rs) => rs !== newRS);
    const maxOldRevision = Math.max(0, ...olds.map(revisionOf));
    const { surge, unavailable } = rollingLimits(d);
    const recreate = str(obj(spec.strategy).type) === 'Recreate';
    const paused = spec.paused === true;

    if (newRS === undefined && !paused) {
      const total = olds.reduce((s, rs) => s + replicasOf(rs), 0);
      const initial = recreate
        ? olds.some((rs) => replicasOf(rs) > 0)
          ? 0
          : want
        : olds.length === 0
          ? want
          : Math.max(0, Math.min(want, want + surge - total));
      const labels = { ...obj(obj(template.metadata).labels), [POD_TEMPLATE_HASH]: hash };
      const selector = obj(spec.selector);
      newRS = api.create(RS, ns, {
        metadata: {
          name: `${name}-${hash}`,
          namespace: ns,
          labels,
          annotations: {
            [REVISION_ANNOTATION]: String(maxOldRevision + 1),
            [DESIRED_ANNOTATION]: String(want),
            [MAX_ANNOTATION]: String(want + surge),
          },
          ownerReferences: [controllerRefTo(d, DEPLOYMENT_KIND.apiVersion, DEPLOYMENT_KIND.kind)],
        },
        spec: {
          replicas: initial,
          minReadySeconds: num(spec.minReadySeconds) ?? 0,
          selector: { ...selector, matchLabels: { ...obj(selector.matchLabels), [POD_TEMPLATE_HASH]: hash } },
          template: { ...template, metadata: { ...obj(template.metadata), labels } },
        },
      });
      ctx.events.record(
        { ...DEPLOYMENT_KIND, object: d },
        'Normal',
        'ScalingReplicaSet',
        `Scaled up replica set ${nameOf(newRS)} from 0 to ${initial}`,
        'deployment-controller',
      );
    } else if (newRS !== undefined && revisionOf(newRS) <= maxOldRevision) {
      // A rollback to an older template: that ReplicaSet becomes the newest revision.
      newRS = api.patch(RS, ns, nameOf(newRS), 'merge', {
        metadata: { annotations: { [REVISION_ANNOTATION]: String(maxOldRevision + 1) } },
      });
    }

    if (newRS !== undefined) {
      if (paused) {
        // Paused: only proportional scaling of what exists.
        if (olds.every((rs) => replicasOf(rs) === 0)) newRS = scaleRS(d, newRS, want);
      } else if (recreate) {
        const oldActive = pods
          .list(ns)
          .filter((p) => olds.some((rs) => controllerRef(p)?.uid === str(meta(rs).uid)));
        olds = olds.map((rs) => (replicasOf(rs) > 0 ? scaleRS(d, rs, 0) : rs));
        if (oldActive.length === 0) newRS = scaleRS(d, newRS, want);
      } else {
        // reconcileNewReplicaSet
        const current = replicasOf(newRS);
        if (current > want) newRS = scaleRS(d, newRS, want);
        else if (current < want) {
          const total = [newRS, ...olds].reduce((s, rs) => s + replicasOf(rs), 0);
          const room = want + surge - total;
          if (room > 0) newRS = scaleRS(d, newRS, current + Math.min(room, want - current));
        }
        // reconcileOldReplicaSets
        const oldTotal = olds.reduce((s, rs) => s + replicasOf(rs), 0);
        if (oldTotal > 0) {
          const all = [newRS, ...olds];
          const allPods = all.reduce((s, rs) => s + replicasOf(rs), 0);
          const minAvailable = want - unavailable;
          const newUnavailable = replicasOf(newRS) - statusNum(newRS, 'availableReplicas');
          let maxScaledDown = allPods - minAvailable - newUnavailable;
          if (maxScaledDown > 0) {
            // First the old sets' unhealthy replicas, oldest first.
            olds.sort(
              (a, b) =>
                (parseTime(meta(a).creationTimestamp) ?? 0) - (parseTime(meta(b).creationTimestamp) ?? 0),
            );
            olds = olds.map((rs) => {
              if (maxScaledDown <= 0) return rs;
              const unhealthy = replicasOf(rs) - statusNum(rs, 'availableReplicas');
              if (unhealthy <= 0) return rs;
              const cut = Math.min(maxScaledDown, unhealthy);
              maxScaledDown -= cut;
              return scaleRS(d, rs, replicasOf(rs) - cut);
            });
            // Then available ones while availability stays above the minimum.
            const available = [newRS, ...olds].reduce((s, rs) => s + statusNum(rs, 'availableReplicas'), 0);
            let budget = available - minAvailable;
            olds = olds.map((rs) => {
              if (budget <= 0 || replicasOf(rs) === 0) return rs;
              const cut = Math.min(budget, replicasOf(rs));
              budget -= cut;
              return scaleRS(d, rs, replicasOf(rs) - cut);
            });
          }
        }
      }
      // Old sets beyond revisionHistoryLimit that are scaled down and empty.
      const limit = num(spec.revisionHistoryLimit) ?? 10;
      const removable = olds
        .filter((rs) => replicasOf(rs) === 0 && statusNum(rs, 'replicas') === 0 && !isDeleting(rs))
        .sort((a, b) => revisionOf(a) - revisionOf(b));
      for (const rs of removable.slice(0, Math.max(0, removable.length - limit)))
        api.delete(RS, ns, nameOf(rs));
      if (annotationsOf(d)[REVISION_ANNOTATION] !== String(revisionOf(newRS))) {
        api.patch('deployments.apps', ns, name, 'merge', {
          metadata: { annotations: { [REVISION_ANNOTATION]: String(revisionOf(newRS)) } },
        });
      }
    }
    writeStatus(d, newRS, olds, unavailable);
  };

  const writeStatus = (
    d: JsonObject,
    newRS: JsonObject | undefined,
    olds: readonly JsonObject[],
    maxUnavailable: number,
  ) => {
    const latest = deployments.get(namespaceOf(d), nameOf(d)) ?? d;
    const spec = obj(latest.spec);
    const want = num(spec.replicas) ?? 1;
    const all = newRS === undefined ? [...olds] : [newRS, ...olds];
    const sum = (k: string) => all.reduce((s, rs) => s + statusNum(rs, k), 0);
    const replicas = sum('replicas');
    const updated = newRS === undefined ? 0 : statusNum(newRS, 'replicas');
    const ready = sum('readyReplicas');
    const available = sum('availableReplicas');
    const now = clock.now();
    const old = obj(latest.status);
    let conditions = objs(old.conditions);
    const availableOk = available >= want - maxUnavailable;
    conditions = withCondition(
      conditions,
      availableOk
        ? {
            type: 'Available',
            status: 'True',
            reason: 'MinimumReplicasAvailable',
            message: 'Deployment has minimum availability.',
          }
        : {
            type: 'Available',
            status: 'False',
            reason: 'MinimumReplicasUnavailable',
            message: 'Deployment does not have minimum availability.',
          },
      now,
      ['lastUpdateTime', 'lastTransitionTime'],
    ).map((c) => keepUpdateTime(c, objs(old.conditions)));
    const complete =
      updated === want &&
      replicas === want &&
      available === want &&
      newRS !== undefined &&
      replicasOf(newRS) === want;
    const progressing = condition(latest, 'Progressing');
    const rsName = newRS === undefined ? '' : nameOf(newRS);
    const deadline = num(spec.progressDeadlineSeconds);
    const moved =
      progressing === undefined ||
      old.updatedReplicas !== updated ||
      old.availableReplicas !== available ||
      old.replicas !== replicas ||
      old.observedGeneration !== num(meta(latest).generation);
    const since = parseTime(progressing?.lastUpdateTime) ?? now;
    let next: Condition;
    if (complete) {
      next = {
        type: 'Progressing',
        status: 'True',
        reason: 'NewReplicaSetAvailable',
        message: `ReplicaSet "${rsName}" has successfully progressed.`,
      };
    } else if (spec.paused === true) {
      next = {
        type: 'Progressing',
        status: 'Unknown',
        reason: 'DeploymentPaused',
        message: 'Deployment is paused',
      };
    } else if (moved || progressing?.reason === 'NewReplicaSetAvailable') {
      next = {
        type: 'Progressing',
        status: 'True',
        reason: 'ReplicaSetUpdated',
        message: `ReplicaSet "${rsName}" is progressing.`,
        lastUpdateTime: timestamp(now),
      };
      if (deadline !== undefined) queue.addAfter(`${namespaceOf(d)}/${nameOf(d)}`, deadline * 1000 + 1000);
    } else if (deadline !== undefined && now - since > deadline * 1000) {
      next = {
        type: 'Progressing',
        status: 'False',
        reason: 'ProgressDeadlineExceeded',
        message: `ReplicaSet "${rsName}" has timed out progressing.`,
      };
    } else {
      next = progressing as Condition;
    }
    conditions = withCondition(conditions, next, now, ['lastUpdateTime', 'lastTransitionTime']).map((c) =>
      keepUpdateTime(c, objs(old.conditions)),
    );
    const status: JsonObject = {
      observedGeneration: num(meta(latest).generation) ?? 1,
      replicas,
      updatedReplicas: updated,
      readyReplicas: ready,
      availableReplicas: available,
      unavailableReplicas: Math.max(0, want - available),
      conditions: conditions.sort((a, b) => (str(a.type) < str(b.type) ? -1 : 1)),
    };
    if (statusDiffers(old, status))
      api.patch(
        'deployments.apps',
        namespaceOf(d),
        nameOf(d),
        'merge',
        { status },
        { subresource: 'status' },
      );
  };

  const queue = new WorkQueue(sync, { clock, onError: ctx.onError });
  const enqueueFor = (rs: JsonObject) => {
    const ref = controllerRef(rs);
    if (ref !== undefined) {
      if (ref.kind === 'Deployment') queue.add(`${namespaceOf(rs)}/${ref.name}`);
      return;
    }
    for (const d of deployments.list(namespaceOf(rs)))
      if (selectorMatches(obj(d.spec).selector, labelsOf(rs))) queue.add(`${namespaceOf(d)}/${nameOf(d)}`);
  };
  const offD = deployments.on((type, d) => {
    if (type !== 'DELETED') queue.add(`${namespaceOf(d)}/${nameOf(d)}`);
  });
  const offRS = sets.on((_type, rs) => enqueueFor(rs));
  for (const d of deployments.list()) queue.add(`${namespaceOf(d)}/${nameOf(d)}`);

  return {
    name: 'deployment',
    idle: () => queue.idle(),
    stop: () => {
      offD();
      offRS();
      queue.close();
    },
  };
}

type Condition = JsonObject & { type: string; status: string };

/** Keep the previous lastUpdateTime when a condition did not change at all. */
function keepUpdateTime(c: JsonObject, previous: readonly JsonObject[]): JsonObject {
  const p = previous.find((x) => x.type === c.type);
  if (
    p !== undefined &&
    p.status === c.status &&
    p.reason === c.reason &&
    p.message === c.message &&
    c.reason !== 'ReplicaSetUpdated'
  )
    return { ...c, lastUpdateTime: p.lastUpdateTime ?? c.lastUpdateTime ?? null };
  return c;
}
