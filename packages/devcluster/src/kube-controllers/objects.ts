/**
 * Small readers over the API's JSON objects (pods, owners, selectors, conditions), shared by the
 * controllers so each one reads a pod's readiness or a controller reference the same way.
 */
import { clone, isObject, type Json, type JsonObject } from '../kube/patch.ts';
import { type LabelSelectorObject, matchesLabels, requirementsOf } from '../kube/selectors.ts';

export type { Json, JsonObject };
export { clone, isObject };

export function str(v: Json | undefined): string {
  return typeof v === 'string' ? v : '';
}

export function num(v: Json | undefined): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

export function obj(v: Json | undefined): JsonObject {
  return isObject(v) ? v : {};
}

export function arr(v: Json | undefined): Json[] {
  return Array.isArray(v) ? v : [];
}

export function objs(v: Json | undefined): JsonObject[] {
  return arr(v).filter(isObject);
}

export function meta(o: JsonObject): JsonObject {
  return obj(o.metadata);
}

export function nameOf(o: JsonObject): string {
  return str(meta(o).name);
}

export function namespaceOf(o: JsonObject): string {
  return str(meta(o).namespace);
}

export function uidOf(o: JsonObject): string {
  return str(meta(o).uid);
}

export function keyOf(o: JsonObject): string {
  return `${namespaceOf(o)}/${nameOf(o)}`;
}

export function labelsOf(o: JsonObject): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(obj(meta(o).labels))) if (typeof v === 'string') out[k] = v;
  return out;
}

export function annotationsOf(o: JsonObject): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(obj(meta(o).annotations))) if (typeof v === 'string') out[k] = v;
  return out;
}

export function isDeleting(o: JsonObject): boolean {
  return typeof meta(o).deletionTimestamp === 'string';
}

/** `2024-05-01T10:00:00Z`, seconds precision like the API's timestamps. */
export function timestamp(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19)}Z`;
}

export function parseTime(v: Json | undefined): number | undefined {
  if (typeof v !== 'string') return undefined;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : t;
}

// ------------------------------------------------------------------ owners

export interface OwnerReference {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly uid: string;
  readonly controller?: boolean;
  readonly blockOwnerDeletion?: boolean;
}

export function ownerRefs(o: JsonObject): OwnerReference[] {
  return objs(meta(o).ownerReferences).map((r) => ({
    apiVersion: str(r.apiVersion),
    kind: str(r.kind),
    name: str(r.name),
    uid: str(r.uid),
    ...(r.controller === true ? { controller: true } : {}),
    ...(r.blockOwnerDeletion === true ? { blockOwnerDeletion: true } : {}),
  }));
}

export function controllerRef(o: JsonObject): OwnerReference | undefined {
  return ownerRefs(o).find((r) => r.controller === true);
}

/** The ownerReference a controller puts on what it creates. */
export function controllerRefTo(owner: JsonObject, apiVersion: string, kind: string): JsonObject {
  return {
    apiVersion,
    kind,
    name: nameOf(owner),
    uid: uidOf(owner),
    controller: true,
    blockOwnerDeletion: true,
  };
}

// ------------------------------------------------------------------ selectors

/** A `LabelSelector` object matches the labels (an empty selector matches everything). */
export function selectorMatches(selector: Json | undefined, labels: Record<string, string>): boolean {
  if (!isObject(selector)) return false;
  return matchesLabels(requirementsOf(selector as unknown as LabelSelectorObject), labels);
}

/** An empty or missing selector: matches nothing for workloads (the API rejects it anyway). */
export function selectorIsEmpty(selector: Json | undefined): boolean {
  if (!isObject(selector)) return true;
  return Object.keys(obj(selector.matchLabels)).length === 0 && arr(selector.matchExpressions).length === 0;
}

/** A plain `map[string]string` selector (Service.spec.selector). */
export function mapSelectorMatches(selector: Json | undefined, labels: Record<string, string>): boolean {
  const entries = Object.entries(obj(selector));
  return entries.length > 0 && entries.every(([k, v]) => labels[k] === v);
}

// ------------------------------------------------------------------ pods

export function podPhase(pod: JsonObject): string {
  return str(obj(pod.status).phase);
}

export function isTerminal(pod: JsonObject): boolean {
  const p = podPhase(pod);
  return p === 'Succeeded' || p === 'Failed';
}

/** Not finished and not being deleted: what replica counts count. */
export function isActivePod(pod: JsonObject): boolean {
  return !isTerminal(pod) && !isDeleting(pod);
}

export function condition(o: JsonObject, type: string): JsonObject | undefined {
  return objs(obj(o.status).conditions).find((c) => c.type === type);
}

export function isPodReady(pod: JsonObject): boolean {
  return condition(pod, 'Ready')?.status === 'True';
}

/** Ready for at least `minReadySeconds` at `now`. */
export function isPodAvailable(pod: JsonObject, minReadySeconds: number, now: number): boolean {
  if (!isPodReady(pod) || isDeleting(pod)) return false;
  if (minReadySeconds <= 0) return true;
  const since = parseTime(condition(pod, 'Ready')?.lastTransitionTime);
  return since !== undefined && since + minReadySeconds * 1000 <= now;
}

export function nodeNameOf(pod: JsonObject): string {
  return str(obj(pod.spec).nodeName);
}

/**
 * Replace (or add) a condition in a status, keeping `lastTransitionTime` when the status did not
 * change. Returns the new list.
 */
export function withCondition(
  conditions: Json | undefined,
  next: JsonObject & { type: string; status: string },
  now: number,
  timeFields: readonly string[] = ['lastTransitionTime'],
): JsonObject[] {
  const list = objs(conditions);
  const current = list.find((c) => c.type === next.type);
  const merged: JsonObject = { ...next };
  for (const f of timeFields) {
    if (f === 'lastTransitionTime') {
      merged[f] =
        current !== undefined && current.status === next.status && typeof current[f] === 'string'
          ? current[f]
          : timestamp(now);
    } else if (merged[f] === undefined) merged[f] = timestamp(now);
  }
  return [...list.filter((c) => c.type !== next.type), merged];
}

/** JSON with sorted keys, for comparing objects regardless of key order. */
export function canonical(v: Json | undefined): string {
  if (v === undefined) return 'undefined';
  if (!isObject(v)) {
    if (Array.isArray(v)) return `[${v.map((x) => canonical(x)).join(',')}]`;
    return JSON.stringify(v);
  }
  const keys = Object.keys(v).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`).join(',')}}`;
}

export function deepClone<T>(v: T): T {
  return clone(v);
}
