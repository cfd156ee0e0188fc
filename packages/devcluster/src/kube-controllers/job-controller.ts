/**
 * The Job controller: runs `parallelism` pods at a time until `completions` succeed (or, without
 * completions, until one succeeds and none is left running), recreating failed ones with the
 * pod-failure back-off (10 s doubling, capped at 6 min) until `backoffLimit` failures fail the Job;
 * `activeDeadlineSeconds` fails it too. Status: startTime, active, ready, succeeded, failed,
 * completionTime and the Complete / Failed / Suspended conditions that `kubectl wait` reads.
 */
import type { Controller, ControllerContext } from './controller.ts';
import {
  condition,
  controllerRef,
  isActivePod,
  isDeleting,
  isPodReady,
  type JsonObject,
  labelsOf,
  nameOf,
  namespaceOf,
  num,
  obj,
  objs,
  parseTime,
  podPhase,
  selectorMatches,
  timestamp,
  uidOf,
  withCondition,
} from './objects.ts';
import {
  claimPods,
  deletionRank,
  type PodOwnerKind,
  podFromTemplate,
  statusDiffers,
} from './replica-set-controller.ts';
import { isConflictOrGone, WorkQueue } from './runtime.ts';

export interface JobControllerOptions {
  /** First re-creation delay after a pod failure (10,000 ms), doubling per failure up to 6 min. */
  readonly podFailureBackoffMs?: number;
}

const JOB_KIND: PodOwnerKind = { apiVersion: 'batch/v1', kind: 'Job' };
const COMPONENT = 'job-controller';
const MAX_BACKOFF_MS = 360_000;

function isFinished(job: JsonObject): boolean {
  return ['Complete', 'Failed'].some((t) => condition(job, t)?.status === 'True');
}

export function startJobController(ctx: ControllerContext, options: JobControllerOptions = {}): Controller {
  const { api, clock } = ctx;
  const backoffBase = options.podFailureBackoffMs ?? 10_000;
  const jobs = ctx.informers.get('jobs.batch');
  const pods = ctx.informers.get('pods');
  /** job uid → uids of pods already counted as succeeded / failed. */
  const counted = new Map<string, { succeeded: Set<string>; failed: Set<string>; lastFailure: number }>();

  const sync = (key: string) => {
    const [ns, name] = key.split('/') as [string, string];
    const job = jobs.get(ns, name);
    if (job === undefined || isDeleting(job)) return;
    const spec = obj(job.spec);
    const old = obj(job.status);
    const now = clock.now();
    const owned = claimPods(ctx, job, JOB_KIND, pods.list(ns));
    let track = counted.get(uidOf(job));
    if (track === undefined) {
      track = { succeeded: new Set(), failed: new Set(), lastFailure: 0 };
      counted.set(uidOf(job), track);
    }
    for (const pod of owned) {
      const phase = podPhase(pod);
      if (phase === 'Succeeded') track.succeeded.add(uidOf(pod));
      if (phase === 'Failed' && !track.failed.has(uidOf(pod))) {
        track.failed.add(uidOf(pod));
        track.lastFailure = Math.max(track.lastFailure, now);
      }
    }
    const succeeded = Math.max(num(old.succeeded) ?? 0, track.succeeded.size);
    const failed = Math.max(num(old.failed) ?? 0, track.failed.size);
    const active = owned.filter(isActivePod);
    const startTime = typeof old.startTime === 'string' ? old.startTime : timestamp(now);
    let conditions = objs(old.conditions);
    let completionTime = old.completionTime;
    const completions = num(spec.completions);
    const parallelism = num(spec.parallelism) ?? 1;
    const suspended = spec.suspend === true;
    const finished = isFinished(job);

    const deleteAll = (list: readonly JsonObject[]) => {
      for (const pod of list) {
        try {
          api.delete('pods', ns, nameOf(pod));
        } catch (error) {
          if (!isConflictOrGone(error)) throw error;
        }
      }
    };
    const fail = (reason: string, message: string) => {
      deleteAll(active);
      conditions = withCondition(
        conditions,
        { type: 'Failed', status: 'True', reason, message, lastProbeTime: timestamp(now) },
        now,
      );
      ctx.events.record({ ...JOB_KIND, object: job }, 'Warning', reason, message, COMPONENT);
    };

    if (!finished) {
      const deadline = num(spec.activeDeadlineSeconds);
      const started = parseTime(startTime) ?? now;
      const backoffLimit = num(spec.backoffLimit) ?? 6;
      if (failed > backoffLimit) fail('BackoffLimitExceeded', 'Job has reached the specified backoff limit');
      else if (deadline !== undefined && !suspended && now - started >= deadline * 1000)
        fail('DeadlineExceeded', 'Job was active longer than specified deadline');
      else if (
        (completions !== undefined && succeeded >= completions) ||
        (completions === undefined && succeeded > 0 && active.length === 0)
      ) {
        deleteAll(active);
        completionTime = timestamp(now);
        conditions = withCondition(
          conditions,
          { type: 'Complete', status: 'True', lastProbeTime: timestamp(now) },
          now,
        );
        ctx.events.record({ ...JOB_KIND, object: job }, 'Normal', 'Completed', 'Job completed', COMPONENT);
      } else if (suspended) {
        deleteAll(active);
        conditions = withCondition(
          conditions,
          {
            type: 'Suspended',
            status: 'True',
            reason: 'JobSuspended',
            message: 'Job suspended',
            lastProbeTime: timestamp(now),
          },
          now,
        );
      } else {
        if (condition(job, 'Suspended')?.status === 'True')
          conditions = withCondition(
            conditions,
            {
              type: 'Suspended',
              status: 'False',
              reason: 'JobResumed',
              message: 'Job resumed',
              lastProbeTime: timestamp(now),
            },
            now,
          );
        if (deadline !== undefined) queue.addAfter(key, Math.max(1, started + deadline * 1000 - now));
        const wantActive =
          completions === undefined
            ? succeeded > 0
              ? 0
              : parallelism
            : Math.max(0, Math.min(parallelism, completions - succeeded));
        if (active.length > wantActive)
          deleteAll([...active].sort(deletionRank).slice(0, active.length - wantActive));
        else if (active.length < wantActive) {
          const delay = failed === 0 ? 0 : Math.min(MAX_BACKOFF_MS, backoffBase * 2 ** (failed - 1));
          const readyAt = track.lastFailure + delay;
          if (failed > 0 && readyAt > now) queue.addAfter(key, readyAt - now);
          else {
            for (let i = active.length; i < wantActive; i++) {
              const pod = api.create('pods', ns, podFromTemplate(job, JOB_KIND, obj(spec.template)));
              ctx.events.record(
                { ...JOB_KIND, object: job },
                'Normal',
                'SuccessfulCreate',
                `Created pod: ${nameOf(pod)}`,
                COMPONENT,
              );
            }
          }
        }
      }
    } else if (active.length > 0) deleteAll(active);

    const current = claimPods(ctx, job, JOB_KIND, pods.list(ns)).filter(isActivePod);
    const status: JsonObject = {
      startTime,
      active: current.length,
      ready: current.filter(isPodReady).length,
      succeeded,
      failed,
      ...(typeof completionTime === 'string' ? { completionTime } : {}),
      ...(conditions.length > 0 ? { conditions } : {}),
      terminating: owned.filter((p) => isDeleting(p)).length,
    };
    if (statusDiffers(old, status))
      api.patch('jobs.batch', ns, name, 'merge', { status }, { subresource: 'status' });
  };

  const queue = new WorkQueue(sync, { clock, onError: ctx.onError });
  const offJobs = jobs.on((type, job) => {
    if (type === 'DELETED') counted.delete(uidOf(job));
    else queue.add(`${namespaceOf(job)}/${nameOf(job)}`);
  });
  const offPods = pods.on((_type, pod) => {
    const ref = controllerRef(pod);
    if (ref !== undefined) {
      if (ref.kind === 'Job') queue.add(`${namespaceOf(pod)}/${ref.name}`);
      return;
    }
    for (const job of jobs.list(namespaceOf(pod)))
      if (selectorMatches(obj(job.spec).selector, labelsOf(pod)))
        queue.add(`${namespaceOf(job)}/${nameOf(job)}`);
  });
  for (const job of jobs.list()) queue.add(`${namespaceOf(job)}/${nameOf(job)}`);

  return {
    name: 'job',
    idle: () => queue.idle(),
    stop: () => {
      offJobs();
      offPods();
      queue.close();
    },
  };
}
