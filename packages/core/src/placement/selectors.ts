/**
 * Kubernetes matching rules: node selector terms (In, NotIn, Exists, DoesNotExist, Gt, Lt), label
 * selectors (matchLabels + In, NotIn, Exists, DoesNotExist) and toleration of taints.
 */
import type { LabelSelector, NodeSelectorRequirement, NodeSelectorTerm, Toleration } from '../spec/index.ts';
import type { Taint } from './snapshot.ts';

type Labels = Readonly<Record<string, string>>;

function hasOwn(labels: Labels, key: string): boolean {
  return Object.hasOwn(labels, key);
}

export function matchesNodeSelectorRequirement(labels: Labels, r: NodeSelectorRequirement): boolean {
  const present = hasOwn(labels, r.key);
  const value = present ? labels[r.key]! : '';
  switch (r.operator) {
    case 'In':
      return present && r.values.includes(value);
    case 'NotIn':
      return !present || !r.values.includes(value);
    case 'Exists':
      return present;
    case 'DoesNotExist':
      return !present;
    case 'Gt':
    case 'Lt': {
      if (!present || r.values.length !== 1) return false;
      if (!/^-?\d+$/.test(value)) return false;
      const a = BigInt(value);
      const b = BigInt(r.values[0]!);
      return r.operator === 'Gt' ? a > b : a < b;
    }
    default:
      return false;
  }
}

/** A term matches when all its expressions do; a term without expressions matches nothing (as upstream). */
export function matchesNodeSelectorTerm(labels: Labels, term: NodeSelectorTerm): boolean {
  if (term.matchExpressions.length === 0) return false;
  for (const r of term.matchExpressions) if (!matchesNodeSelectorRequirement(labels, r)) return false;
  return true;
}

/** Terms are alternatives: one matching term is enough. */
export function matchesNodeSelectorTerms(labels: Labels, terms: readonly NodeSelectorTerm[]): boolean {
  for (const t of terms) if (matchesNodeSelectorTerm(labels, t)) return true;
  return false;
}

export function matchesNodeSelector(labels: Labels, selector: Labels): boolean {
  for (const k in selector) if (!hasOwn(labels, k) || labels[k] !== selector[k]) return false;
  return true;
}

/** matchLabels AND matchExpressions; an empty selector matches every task. */
export function matchesLabelSelector(labels: Labels, selector: LabelSelector): boolean {
  for (const k in selector.matchLabels)
    if (!hasOwn(labels, k) || labels[k] !== selector.matchLabels[k]) return false;
  for (const e of selector.matchExpressions) {
    const present = hasOwn(labels, e.key);
    switch (e.operator) {
      case 'In':
        if (!present || !e.values.includes(labels[e.key]!)) return false;
        break;
      case 'NotIn':
        if (present && e.values.includes(labels[e.key]!)) return false;
        break;
      case 'Exists':
        if (!present) return false;
        break;
      case 'DoesNotExist':
        if (present) return false;
        break;
    }
  }
  return true;
}

/** Kubernetes `Toleration.ToleratesTaint`. */
export function toleratesTaint(t: Toleration, taint: Taint): boolean {
  if (t.effect !== undefined && t.effect !== taint.effect) return false;
  if (t.key !== undefined && t.key !== '' && t.key !== taint.key) return false;
  if (t.operator === 'Exists') return true;
  return (t.value ?? '') === (taint.value ?? '');
}

export function tolerated(tolerations: readonly Toleration[], taint: Taint): boolean {
  for (const t of tolerations) if (toleratesTaint(t, taint)) return true;
  return false;
}

export function formatTaint(t: Taint): string {
  return t.value === undefined || t.value === '' ? `${t.key}:${t.effect}` : `${t.key}=${t.value}:${t.effect}`;
}

/** A stable text key for memoising per-selector data. */
export function canonicalKey(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        )
      : v,
  );
}
