/**
 * Explanations are data (for the CLI, the dashboard and events) with a rendered `message`.
 */
import type { StatusCode } from './status.ts';

export interface PluginScore {
  readonly plugin: string;
  /** The plugin's normalised score, 0–100. */
  readonly score: number;
  readonly weight: number;
}

export interface ScoredNode {
  readonly nodeId: string;
  /** Σ score × weight over the profile's score plugins. */
  readonly score: number;
  readonly scores: readonly PluginScore[];
}

export interface PlacedExplanation {
  readonly kind: 'placed';
  readonly nodeId: string;
  readonly score: number;
  readonly scores: readonly PluginScore[];
  /** The best other feasible nodes, best first. */
  readonly alternatives: readonly ScoredNode[];
  readonly totalNodes: number;
  /** Nodes whose filters were run (all of them unless sampling is on). */
  readonly evaluatedNodes: number;
  readonly feasibleNodes: number;
  /** How many nodes shared the top score (the seeded tie-break chose among them). */
  readonly tiedNodes: number;
  readonly message: string;
}

export interface ReasonCount {
  readonly reason: string;
  readonly count: number;
}

export interface NodeRejection {
  readonly nodeId: string;
  readonly plugin: string;
  readonly code: StatusCode;
  readonly reasons: readonly string[];
}

export interface UnplaceableExplanation {
  readonly kind: 'unplaceable';
  readonly totalNodes: number;
  readonly feasibleNodes: number;
  /** How many nodes gave each reason, most frequent first (a node may give several). */
  readonly reasons: readonly ReasonCount[];
  /** Per-node detail, only when asked for (`explain.nodes`). */
  readonly nodes?: readonly NodeRejection[];
  /** Set when the task failed before or after filtering (pre-filter, reserve, permit, error). */
  readonly status?: {
    readonly plugin?: string;
    readonly code: StatusCode;
    readonly reasons: readonly string[];
  };
  /** What the post-filter plugins (preemption) proposed, if anything. */
  readonly postFilter?: {
    readonly plugin: string;
    readonly code: StatusCode;
    readonly reasons: readonly string[];
    readonly nominatedNodeId?: string;
    readonly victims?: readonly string[];
  };
  /** `0/5000 nodes available: 3100 insufficient cpu, 1900 constraint rack:UNIQUE not satisfied`. */
  readonly message: string;
}

export type Explanation = PlacedExplanation | UnplaceableExplanation;

/** Counts reasons into the sorted list (count descending, then reason). */
export function sortReasons(counts: ReadonlyMap<string, number>): ReasonCount[] {
  return [...counts]
    .map(([reason, count]) => ({ reason, count }))
    .sort((a, b) => b.count - a.count || (a.reason < b.reason ? -1 : a.reason > b.reason ? 1 : 0));
}

/** The kube-scheduler style one-liner. */
export function unplaceableMessage(
  totalNodes: number,
  feasible: number,
  reasons: readonly ReasonCount[],
  extra?: string,
): string {
  const head = `${feasible}/${totalNodes} nodes available`;
  const body = reasons.map((r) => `${r.count} ${r.reason}`).join(', ');
  const parts = body === '' ? head : `${head}: ${body}`;
  return extra === undefined ? parts : `${parts}; ${extra}`;
}

export function placedMessage(e: Omit<PlacedExplanation, 'message' | 'kind'>): string {
  const detail = e.scores
    .map((s) => `${s.plugin} ${s.score}${s.weight === 1 ? '' : `×${s.weight}`}`)
    .join(', ');
  return `placed on ${e.nodeId} (score ${e.score}${detail === '' ? '' : `: ${detail}`}); ${e.feasibleNodes}/${e.totalNodes} nodes feasible`;
}
