import { MAX_NODE_SCORE } from '../plugin.ts';

/**
 * Kubernetes `DefaultNormalizeScore`: scale to 0–100 over the highest score (integer division);
 * `reverse` turns "more is worse" counts into scores. All zero → 0 (or 100 reversed).
 */
export function normalizeToMax(scores: Float64Array, count: number, reverse: boolean): void {
  let max = 0;
  for (let k = 0; k < count; k++) if (scores[k]! > max) max = scores[k]!;
  if (max === 0) {
    if (reverse) scores.fill(MAX_NODE_SCORE, 0, count);
    return;
  }
  for (let k = 0; k < count; k++) {
    const v = Math.floor((MAX_NODE_SCORE * scores[k]!) / max);
    scores[k] = reverse ? MAX_NODE_SCORE - v : v;
  }
}

/** Min-max scaling to 0–100 (inter-task affinity, whose raw scores may be negative). */
export function normalizeMinMax(scores: Float64Array, count: number): void {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (let k = 0; k < count; k++) {
    const v = scores[k]!;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const span = max - min;
  for (let k = 0; k < count; k++)
    scores[k] = span > 0 ? Math.floor((MAX_NODE_SCORE * (scores[k]! - min)) / span) : 0;
}
