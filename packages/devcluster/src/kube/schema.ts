/**
 * The fields of each served kind, derived from the Kubernetes protobuf field table (the same
 * names and nesting as the JSON API, embedded structs inlined). One description serves two
 * ends: server-side field validation (`fieldValidation=Strict|Warn` reports unknown fields by
 * path, as `unknown field "spec.containers[0].imagee"`) and the OpenAPI v3 documents kubectl
 * reads (`kubectl explain` included).
 */
import { isObject, type Json } from './patch.ts';
import { fieldsOf, INLINE_FIELDS, PACKAGES } from './protobuf.ts';

export type SchemaNode =
  | { readonly type: 'string' | 'integer' | 'number' | 'boolean' | 'int-or-string' | 'date-time' }
  | {
      readonly type: 'object';
      readonly props: Readonly<Record<string, SchemaNode>>;
      readonly description?: string;
    }
  | { readonly type: 'array'; readonly items: SchemaNode }
  | { readonly type: 'map'; readonly values: SchemaNode }
  | { readonly type: 'any' };

export const str: SchemaNode = { type: 'string' };
export const int: SchemaNode = { type: 'integer' };
export const num: SchemaNode = { type: 'number' };
export const bool: SchemaNode = { type: 'boolean' };
export const intOrString: SchemaNode = { type: 'int-or-string' };
export const time: SchemaNode = { type: 'date-time' };
export const any: SchemaNode = { type: 'any' };
export const obj = (props: Record<string, SchemaNode>): SchemaNode => ({ type: 'object', props });
export const arr = (items: SchemaNode): SchemaNode => ({ type: 'array', items });
export const map = (values: SchemaNode): SchemaNode => ({ type: 'map', values });
const strMap = map(str);
const quantityMap = map(intOrString);

export const objectMeta = obj({
  name: str,
  generateName: str,
  namespace: str,
  selfLink: str,
  uid: str,
  resourceVersion: str,
  generation: int,
  creationTimestamp: time,
  deletionTimestamp: time,
  deletionGracePeriodSeconds: int,
  labels: strMap,
  annotations: strMap,
  ownerReferences: arr(
    obj({ apiVersion: str, kind: str, name: str, uid: str, controller: bool, blockOwnerDeletion: bool }),
  ),
  finalizers: arr(str),
  managedFields: arr(any),
});

/**
 * Kinds with no protobuf message in the generated table (metrics.k8s.io): their top-level
 * fields by hand. Every other kind's schema comes from the table (see `kindSchema`).
 */
export const KIND_FIELDS: Readonly<Record<string, Readonly<Record<string, SchemaNode>>>> = {
  PodMetrics: { timestamp: time, window: str, containers: arr(obj({ name: str, usage: quantityMap })) },
  NodeMetrics: { timestamp: time, window: str, usage: quantityMap },
};

const protoSchemas = new Map<string, SchemaNode>();

/**
 * The schema of a protobuf message from the generated field table: every field the Go type
 * has, at any depth (JSON names equal the proto field names in the Kubernetes API).
 */
function protoSchema(message: string, visiting: Set<string> = new Set()): SchemaNode {
  switch (message) {
    case 'string':
    case 'bytes':
      return str;
    case 'int32':
    case 'int64':
      return int;
    case 'double':
    case 'float':
      return num;
    case 'bool':
      return bool;
    case 'meta.Time':
    case 'meta.MicroTime':
      return time;
    case 'meta.Duration':
      return str;
    case 'api.resource.Quantity':
    case 'util.intstr.IntOrString':
      return intOrString;
    case 'runtime.RawExtension':
    case 'meta.FieldsV1':
      return any;
  }
  const cached = protoSchemas.get(message);
  if (cached !== undefined) return cached;
  const fields = fieldsOf(message);
  if (fields === undefined || visiting.has(message)) return any;
  visiting.add(message);
  const props: Record<string, SchemaNode> = {};
  for (const f of fields.values()) {
    const inner = protoSchema(f.type, visiting);
    if (INLINE_FIELDS.has(f.name) && inner.type === 'object') Object.assign(props, inner.props);
    else props[f.name] = f.map ? map(inner) : f.repeated ? arr(inner) : inner;
  }
  visiting.delete(message);
  const node = obj(props);
  protoSchemas.set(message, node);
  return node;
}

/**
 * The schema of a kind: from the protobuf field table when the kind has a message there (all
 * built-in kinds), else the hand-written fields above (metrics kinds).
 */
export function kindSchema(kind: string, apiVersion = ''): SchemaNode {
  const pkg = PACKAGES[apiVersion];
  const message = pkg === undefined ? undefined : `${pkg}.${kind}`;
  if (message !== undefined && fieldsOf(message) !== undefined) {
    const generated = protoSchema(message);
    if (generated.type === 'object') return obj({ apiVersion: str, kind: str, ...generated.props });
  }
  const fields = KIND_FIELDS[`${apiVersion} ${kind}`] ?? KIND_FIELDS[kind] ?? {};
  return obj({ apiVersion: str, kind: str, metadata: objectMeta, ...fields });
}

export interface FieldProblems {
  /** Paths of fields the schema does not declare, e.g. `spec.containers[0].imagee`. */
  readonly unknown: string[];
  /** Type mismatches, e.g. `.spec.containers: expected array, got string`. */
  readonly mistyped: string[];
}

function jsonType(value: Json): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

/** Walk `value` against `schema`, collecting unknown and mistyped fields (null is always fine). */
export function checkFields(schema: SchemaNode, value: Json, prune = false): FieldProblems {
  const problems: FieldProblems = { unknown: [], mistyped: [] };
  walk(schema, value, '', problems, prune);
  return problems;
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

/** With `prune`, unknown fields are also deleted from `value` in place (what decoding does). */
function walk(schema: SchemaNode, value: Json, path: string, out: FieldProblems, prune: boolean): void {
  if (value === null || schema.type === 'any') return;
  const actual = jsonType(value);
  const mistyped = (expected: string) => out.mistyped.push(`${path}: expected ${expected}, got ${actual}`);
  switch (schema.type) {
    case 'string':
    case 'date-time':
      if (actual !== 'string') mistyped('string');
      return;
    case 'integer':
      if (actual !== 'number' || !Number.isInteger(value)) mistyped('integer');
      return;
    case 'number':
      if (actual !== 'number') mistyped('number');
      return;
    case 'boolean':
      if (actual !== 'boolean') mistyped('boolean');
      return;
    case 'int-or-string':
      if (actual !== 'string' && actual !== 'number') mistyped('integer or string');
      return;
    case 'array':
      if (!Array.isArray(value)) {
        mistyped('array');
        return;
      }
      value.forEach((item, i) => {
        walk(schema.items, item, `${path}[${i}]`, out, prune);
      });
      return;
    case 'map':
      if (!isObject(value)) {
        mistyped('object');
        return;
      }
      for (const [k, v] of Object.entries(value)) walk(schema.values, v, join(path, k), out, prune);
      return;
    case 'object':
      if (!isObject(value)) {
        mistyped('object');
        return;
      }
      for (const [k, v] of Object.entries(value)) {
        const child = schema.props[k];
        if (child === undefined) {
          out.unknown.push(join(path, k));
          if (prune) delete value[k];
        } else walk(child, v, join(path, k), out, prune);
      }
      return;
  }
}

/** The OpenAPI v3 schema object for a node (inline, no $ref). */
export function toOpenApi(schema: SchemaNode): JsonSchema {
  switch (schema.type) {
    case 'string':
      return { type: 'string' };
    case 'date-time':
      return { type: 'string', format: 'date-time' };
    case 'integer':
      return { type: 'integer', format: 'int64' };
    case 'number':
      return { type: 'number', format: 'double' };
    case 'boolean':
      return { type: 'boolean' };
    case 'int-or-string':
      return { 'x-kubernetes-int-or-string': true };
    case 'any':
      return { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
    case 'array':
      return { type: 'array', items: toOpenApi(schema.items) };
    case 'map':
      return { type: 'object', additionalProperties: toOpenApi(schema.values) };
    case 'object': {
      const properties: Record<string, JsonSchema> = {};
      for (const [k, v] of Object.entries(schema.props)) properties[k] = toOpenApi(v);
      return { type: 'object', properties };
    }
  }
}

export type JsonSchema = { readonly [key: string]: Json | JsonSchema };
