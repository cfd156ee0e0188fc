/**
 * One line per autoscaling decision for the adapter's event log: the outcome (current → desired,
 * the reason that shaped it) and every metric's inputs (utilization against the target, the
 * per-metric recommendation, how many replicas were ready, not yet ready or without a sample).
 */
import type { ScaleDecision } from '@berth/core';

export function describeDecision(service: string, d: ScaleDecision, scaled: boolean): string {
  const change = d.rescale
    ? `${d.currentReplicas} → ${d.desiredReplicas} replicas${scaled ? '' : ' (not applied)'}`
    : `stays at ${d.currentReplicas} replicas`;
  const shaped = [
    `reason ${d.reason}`,
    ...(d.recommendedReplicas === undefined ? [] : [`recommended ${d.recommendedReplicas}`]),
    ...(d.stabilizedReplicas === undefined ? [] : [`stabilized ${d.stabilizedReplicas}`]),
  ].join(', ');
  const metrics = d.metrics
    .map((m) => {
      const g = m.groups;
      const counts = `ready ${g.ready.length}, unready ${g.unready.length}, missing ${g.missing.length}`;
      return m.status === 'ok'
        ? `${m.resource} ${m.utilization}% of request (target ${m.targetAverageUtilization}%) → ${m.replicas} [${counts}]`
        : `${m.resource} unavailable: ${m.reason} [${counts}]`;
    })
    .join('; ');
  return `autoscale ${service}: ${change} (${shaped}); ${metrics === '' ? 'no metric read' : metrics}`;
}
