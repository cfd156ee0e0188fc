/**
 * The three patch formats of the Kubernetes API: JSON merge patch (RFC 7386), JSON patch
 * (RFC 6902) and strategic merge patch (lists merged by key, `$patch` directives).
 * Every function returns a new value and leaves its inputs untouched.
 */
import { badRequest } from './status.ts';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Deep copy of a JSON value (several times faster than structuredClone for small objects). */
export function clone<T>(value: T): T {
  return copyJson(value as Json) as T;
}

function copyJson(value: Json): Json {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(copyJson);
  const out: JsonObject = {};
  for (const key of Object.keys(value)) {
    const v = value[key];
    if (v !== undefined) out[key] = copyJson(v);
  }
  return out;
}

/** RFC 7386: objects merge recursively, `null` deletes, anything else replaces. */
export function mergePatch(target: Json, patch: Json): Json {
  if (!isObject(patch)) return clone(patch);
  const out: JsonObject = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key] ?? null, value);
  }
  return out;
}

interface JsonPatchOp {
  readonly op: string;
  readonly path: string;
  readonly from?: string;
  readonly value?: Json;
}

function pointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw badRequest(`json patch: path "${path}" must start with "/"`);
  return path
    .slice(1)
    .split('/')
    .map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'));
}

function parentOf(doc: Json, tokens: readonly string[], path: string): Json {
  let node: Json = doc;
  for (const t of tokens.slice(0, -1)) {
    if (Array.isArray(node)) node = node[Number(t)] ?? null;
    else if (isObject(node)) node = node[t] ?? null;
    else node = null;
    if (node === null)
      throw badRequest(
        `the server rejected our request due to an error in our request: doc is missing path: "${path}"`,
      );
  }
  return node;
}

function getAt(doc: Json, path: string): Json {
  let node: Json = doc;
  for (const t of pointer(path)) {
    const next: Json | undefined = Array.isArray(node)
      ? node[Number(t)]
      : isObject(node)
        ? node[t]
        : undefined;
    if (next === undefined)
      throw badRequest(
        `the server rejected our request due to an error in our request: doc is missing path: "${path}"`,
      );
    node = next;
  }
  return node;
}

function arrayIndex(arr: Json[], token: string, path: string, forAdd: boolean): number {
  if (forAdd && token === '-') return arr.length;
  const i = Number(token);
  const max = forAdd ? arr.length : arr.length - 1;
  if (!/^\d+$/.test(token) || i > max)
    throw badRequest(
      `the server rejected our request due to an error in our request: index out of range: "${path}"`,
    );
  return i;
}

function removeAt(doc: Json, path: string): Json {
  const tokens = pointer(path);
  const parent = parentOf(doc, tokens, path);
  const last = tokens[tokens.length - 1]!;
  if (Array.isArray(parent)) {
    const i = arrayIndex(parent, last, path, false);
    return parent.splice(i, 1)[0] ?? null;
  }
  if (isObject(parent) && Object.hasOwn(parent, last)) {
    const old = parent[last]!;
    delete parent[last];
    return old;
  }
  throw badRequest(
    `the server rejected our request due to an error in our request: Unable to remove nonexistent key: ${last}: missing value`,
  );
}

function addAt(doc: Json, path: string, value: Json, replace: boolean): Json {
  const tokens = pointer(path);
  if (tokens.length === 0) return value;
  const parent = parentOf(doc, tokens, path);
  const last = tokens[tokens.length - 1]!;
  if (Array.isArray(parent)) {
    const i = arrayIndex(parent, last, path, !replace);
    if (replace) parent[i] = value;
    else parent.splice(i, 0, value);
  } else if (isObject(parent)) {
    if (replace && !Object.hasOwn(parent, last)) {
      throw badRequest(
        `the server rejected our request due to an error in our request: replace operation does not apply: doc is missing key: ${path}: missing value`,
      );
    }
    parent[last] = value;
  } else {
    throw badRequest(
      `the server rejected our request due to an error in our request: doc is missing path: "${path}"`,
    );
  }
  return doc;
}

/** RFC 6902 operations add, remove, replace, move, copy and test, applied in order. */
export function jsonPatch(target: Json, ops: Json): Json {
  if (!Array.isArray(ops)) throw badRequest('json patch: the patch must be a JSON array of operations');
  let doc = clone(target);
  for (const raw of ops) {
    if (!isObject(raw) || typeof raw.op !== 'string' || typeof raw.path !== 'string') {
      throw badRequest('json patch: every operation needs string "op" and "path"');
    }
    const op = raw as unknown as JsonPatchOp;
    switch (op.op) {
      case 'add':
        doc = addAt(doc, op.path, clone(op.value ?? null), false);
        break;
      case 'replace':
        doc = addAt(doc, op.path, clone(op.value ?? null), true);
        break;
      case 'remove':
        removeAt(doc, op.path);
        break;
      case 'move': {
        const moved = removeAt(doc, op.from ?? '');
        doc = addAt(doc, op.path, moved, false);
        break;
      }
      case 'copy':
        doc = addAt(doc, op.path, clone(getAt(doc, op.from ?? '')), false);
        break;
      case 'test':
        if (JSON.stringify(getAt(doc, op.path)) !== JSON.stringify(op.value ?? null)) {
          throw badRequest(
            `the server rejected our request due to an error in our request: testing value ${op.path} failed: test failed`,
          );
        }
        break;
      default:
        throw badRequest(
          `the server rejected our request due to an error in our request: Unexpected kind: ${op.op}`,
        );
    }
  }
  return doc;
}

/**
 * Merge keys of the lists kubectl patches strategically, by field name (the same for every
 * kind, as in the Kubernetes Go types). A list not named here is replaced as a whole, except
 * lists of scalars declared as sets.
 */
const MERGE_KEYS: Readonly<Record<string, string>> = {
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  volumes: 'name',
  env: 'name',
  volumeMounts: 'mountPath',
  volumeDevices: 'devicePath',
  imagePullSecrets: 'name',
  ownerReferences: 'uid',
  conditions: 'type',
  hostAliases: 'ip',
  topologySpreadConstraints: 'topologyKey',
  resourceClaims: 'name',
  schedulingGates: 'name',
  containerStatuses: 'name',
  initContainerStatuses: 'name',
  addresses: 'type',
  taints: 'key',
  readinessGates: 'conditionType',
};
/** `ports` merges by containerPort inside containers and by port inside a Service spec. */
const SET_LISTS: ReadonlySet<string> = new Set(['finalizers']);

function mergeKeyFor(field: string, parentHasContainerShape: boolean): string | undefined {
  if (field === 'ports') return parentHasContainerShape ? 'containerPort' : 'port';
  return MERGE_KEYS[field];
}

/** Strategic merge patch for the fields and directives kubectl sends. */
export function strategicMergePatch(target: Json, patch: Json): Json {
  return smpObject(isObject(target) ? target : {}, patch, false);
}

function smpObject(target: JsonObject, patch: Json, containerShape: boolean): Json {
  if (!isObject(patch)) return clone(patch);
  if (patch.$patch === 'replace') {
    const rest = { ...patch };
    delete rest.$patch;
    return stripDirectives(rest);
  }
  if (patch.$patch === 'delete') return null;
  const out: JsonObject = { ...target };
  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith('$setElementOrder/') || key === '$retainKeys' || key === '$patch') continue;
    if (key.startsWith('$deleteFromPrimitiveList/')) {
      const field = key.slice('$deleteFromPrimitiveList/'.length);
      const current = out[field];
      if (Array.isArray(current) && Array.isArray(value)) {
        const drop = new Set(value.map((v) => JSON.stringify(v)));
        out[field] = current.filter((v) => !drop.has(JSON.stringify(v)));
      }
      continue;
    }
    if (value === null) {
      delete out[key];
      continue;
    }
    const current = out[key];
    if (Array.isArray(value)) {
      const mergeKey = mergeKeyFor(key, containerShape);
      if (mergeKey !== undefined && Array.isArray(current)) {
        out[key] = smpList(current, value, mergeKey, key);
      } else if (SET_LISTS.has(key) && Array.isArray(current)) {
        const seen = new Set(current.map((v) => JSON.stringify(v)));
        out[key] = [...current, ...value.filter((v) => !seen.has(JSON.stringify(v)))];
      } else {
        out[key] = stripDirectives(value);
      }
    } else if (isObject(value)) {
      out[key] = smpObject(isObject(current) ? current : {}, value, false);
      if (out[key] === null) delete out[key];
    } else {
      out[key] = value;
    }
  }
  return out;
}

function smpList(current: Json[], patch: Json[], mergeKey: string, field: string): Json[] {
  const containerShape =
    field === 'containers' || field === 'initContainers' || field === 'ephemeralContainers';
  const out = current.map((item) => clone(item));
  if (patch.some((p) => isObject(p) && p.$patch === 'replace')) {
    return patch.filter((p) => !(isObject(p) && p.$patch === 'replace')).map((p) => stripDirectives(p));
  }
  for (const item of patch) {
    if (!isObject(item) || !(mergeKey in item)) {
      out.push(stripDirectives(item));
      continue;
    }
    const keyValue = JSON.stringify(item[mergeKey]);
    const index = out.findIndex((c) => isObject(c) && JSON.stringify(c[mergeKey]) === keyValue);
    if (item.$patch === 'delete') {
      if (index >= 0) out.splice(index, 1);
      continue;
    }
    if (index >= 0) out[index] = smpObject(out[index] as JsonObject, item, containerShape);
    else out.push(smpObject({}, item, containerShape));
  }
  return out;
}

function stripDirectives(value: Json): Json {
  if (Array.isArray(value)) return value.map(stripDirectives);
  if (!isObject(value)) return value;
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(value)) {
    if (k.startsWith('$')) continue;
    out[k] = stripDirectives(v);
  }
  return out;
}
