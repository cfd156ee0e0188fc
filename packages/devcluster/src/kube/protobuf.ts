/**
 * Decoder for `application/vnd.kubernetes.protobuf` request bodies, which kubectl's typed
 * commands (`create deployment`, `create namespace`, `run`, `expose`, `drain`, ...) send. The
 * envelope is `k8s\0` + runtime.Unknown{typeMeta, raw}; `raw` is the object in proto2 wire
 * format, decoded here into the JSON shape the rest of the server handles, field numbers taken
 * from the generated table in proto-fields.ts.
 */
import type { Json, JsonObject } from './patch.ts';
import { PROTO_FIELDS } from './proto-fields.ts';
import { badRequest, unsupportedMediaType } from './status.ts';

const MAGIC = [0x6b, 0x38, 0x73, 0x00] as const;

/** Proto package of each API group version the face serves. */
export const PACKAGES: Readonly<Record<string, string>> = {
  v1: 'core.v1',
  'apps/v1': 'apps.v1',
  'batch/v1': 'batch.v1',
  'coordination.k8s.io/v1': 'coordination.v1',
  'discovery.k8s.io/v1': 'discovery.v1',
  'scheduling.k8s.io/v1': 'scheduling.v1',
  'autoscaling/v1': 'autoscaling.v1',
  'autoscaling/v2': 'autoscaling.v2',
  'policy/v1': 'policy.v1',
  'meta.k8s.io/v1': 'meta',
};

/**
 * Go pointer fields whose zero value is meaningful (protobuf carries them only when set). Other
 * zero numbers, false booleans and empty strings are what Go's encoder writes for unset
 * non-pointer fields; JSON omits them (`omitempty`), and so does this decoder.
 */
const KEEP_ZERO: ReadonlySet<string> = new Set([
  'replicas',
  'minReplicas',
  'parallelism',
  'completions',
  'backoffLimit',
  'backoffLimitPerIndex',
  'maxFailedIndexes',
  'terminationGracePeriodSeconds',
  'activeDeadlineSeconds',
  'priority',
  'progressDeadlineSeconds',
  'revisionHistoryLimit',
  'ttlSecondsAfterFinished',
  'deletionGracePeriodSeconds',
  'gracePeriodSeconds',
  'leaseDurationSeconds',
  'leaseTransitions',
  'tolerationSeconds',
  'runAsUser',
  'runAsGroup',
  'fsGroup',
  'defaultMode',
  'value',
  'suspend',
  'manualSelector',
  'automountServiceAccountToken',
  'enableServiceLinks',
  'hostUsers',
  'setHostnameAsFQDN',
  'shareProcessNamespace',
  'allocateLoadBalancerNodePorts',
  'privileged',
  'readOnlyRootFilesystem',
  'runAsNonRoot',
  'allowPrivilegeEscalation',
  'optional',
  'ready',
  'serving',
  'terminating',
  'controller',
  'blockOwnerDeletion',
  'orphanDependents',
]);

/**
 * Go structs embedded without a JSON name: protobuf nests them in a field, JSON inlines their
 * fields into the parent (Volume.volumeSource, Probe.handler, …).
 */
export const INLINE_FIELDS: ReadonlySet<string> = new Set([
  'volumeSource',
  'persistentVolumeSource',
  'localObjectReference',
  'handler',
  'ephemeralContainerCommon',
]);

export interface FieldDef {
  readonly name: string;
  readonly type: string;
  readonly repeated: boolean;
  readonly map: boolean;
}

const parsed = new Map<string, Map<number, FieldDef>>();

/** Fields of a protobuf message by number (from the generated table), or undefined if unknown. */
export function fieldsOf(message: string): Map<number, FieldDef> | undefined {
  const cached = parsed.get(message);
  if (cached !== undefined) return cached;
  const spec = PROTO_FIELDS[message];
  if (spec === undefined) return undefined;
  const out = new Map<number, FieldDef>();
  for (const entry of spec.split(';')) {
    const [num, name, rawType] = entry.split(' ') as [string, string, string];
    const repeated = rawType.startsWith('*');
    const map = rawType.startsWith('{');
    out.set(Number(num), { name, type: repeated || map ? rawType.slice(1) : rawType, repeated, map });
  }
  parsed.set(message, out);
  return out;
}

class Reader {
  readonly #buf: Uint8Array;
  pos = 0;
  readonly end: number;

  constructor(buf: Uint8Array, start = 0, end = buf.length) {
    this.#buf = buf;
    this.pos = start;
    this.end = end;
  }

  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (this.pos >= this.end) throw badRequest('protobuf body is truncated (varint)');
      const byte = this.#buf[this.pos++]!;
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7n;
      if (shift > 70n) throw badRequest('protobuf body has a malformed varint');
    }
  }

  bytes(): Uint8Array {
    const len = Number(this.varint());
    if (this.pos + len > this.end) throw badRequest('protobuf body is truncated (length-delimited field)');
    const out = this.#buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }

  fixed(n: number): Uint8Array {
    if (this.pos + n > this.end) throw badRequest('protobuf body is truncated (fixed-width field)');
    const out = this.#buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) this.bytes();
    else if (wire === 5) this.pos += 4;
    else throw badRequest(`protobuf body uses an unsupported wire type ${wire}`);
  }
}

const utf8 = new TextDecoder();

function rfc3339(seconds: bigint, nanos: number, micro: boolean): string {
  const ms = Number(seconds) * 1000 + Math.floor(nanos / 1e6);
  const iso = new Date(ms).toISOString().slice(0, 19);
  return micro ? `${iso}.${String(Math.floor(nanos / 1000)).padStart(6, '0')}Z` : `${iso}Z`;
}

function goDuration(nanos: bigint): string {
  if (nanos === 0n) return '0s';
  let s = Number(nanos) / 1e9;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  return `${h > 0 ? `${h}h` : ''}${h > 0 || m > 0 ? `${m}m` : ''}${Number(s.toFixed(9))}s`;
}

function scalar(type: string, wire: number, r: Reader): Json {
  switch (type) {
    case 'string':
      return utf8.decode(r.bytes());
    case 'bytes':
      return Buffer.from(r.bytes()).toString('base64');
    case 'bool':
      return r.varint() !== 0n;
    case 'int32':
      return Number(BigInt.asIntN(32, r.varint()));
    case 'int64':
      return Number(BigInt.asIntN(64, r.varint()));
    case 'double': {
      if (wire !== 1) {
        r.skip(wire);
        return null;
      }
      const b = r.fixed(8);
      return new DataView(b.buffer, b.byteOffset, 8).getFloat64(0, true);
    }
    default:
      r.skip(wire);
      return null;
  }
}

/** Decode one message to JSON; `undefined` when it is a zero value JSON would omit. */
function decodeMessage(type: string, buf: Uint8Array): Json | undefined {
  switch (type) {
    case 'meta.Time':
    case 'meta.MicroTime': {
      const { seconds, nanos } = timeParts(buf);
      return seconds === 0n && nanos === 0 ? undefined : rfc3339(seconds, nanos, type === 'meta.MicroTime');
    }
    case 'api.resource.Quantity':
      return stringField(buf, 1) ?? '0';
    case 'util.intstr.IntOrString': {
      const r = new Reader(buf);
      let kind = 0n;
      let intVal = 0;
      let strVal = '';
      while (r.pos < r.end) {
        const tag = Number(r.varint());
        const field = tag >> 3;
        if (field === 1) kind = r.varint();
        else if (field === 2) intVal = Number(BigInt.asIntN(32, r.varint()));
        else if (field === 3) strVal = utf8.decode(r.bytes());
        else r.skip(tag & 7);
      }
      return kind === 1n ? strVal : intVal;
    }
    case 'meta.Duration': {
      const r = new Reader(buf);
      let nanos = 0n;
      while (r.pos < r.end) {
        const tag = Number(r.varint());
        if (tag >> 3 === 1) nanos = BigInt.asIntN(64, r.varint());
        else r.skip(tag & 7);
      }
      return goDuration(nanos);
    }
    case 'runtime.RawExtension':
    case 'meta.FieldsV1': {
      const raw = bytesField(buf, 1);
      if (raw === undefined || raw.length === 0) return undefined;
      try {
        return JSON.parse(utf8.decode(raw)) as Json;
      } catch {
        throw badRequest(`protobuf body: ${type} does not hold JSON`);
      }
    }
  }
  const fields = fieldsOf(type);
  if (fields === undefined)
    throw unsupportedMediaType(`application/vnd.kubernetes.protobuf (message ${type})`);
  const out: JsonObject = {};
  const r = new Reader(buf);
  while (r.pos < r.end) {
    const tag = Number(r.varint());
    const def = fields.get(tag >> 3);
    const wire = tag & 7;
    if (def === undefined) {
      r.skip(wire);
      continue;
    }
    if (def.map) {
      const entry = new Reader(r.bytes());
      let key = '';
      let value: Json | undefined;
      while (entry.pos < entry.end) {
        const t = Number(entry.varint());
        if (t >> 3 === 1) key = utf8.decode(entry.bytes());
        else if (t >> 3 === 2) value = decodeValue(def.type, t & 7, entry);
        else entry.skip(t & 7);
      }
      const m = (out[def.name] ?? {}) as JsonObject;
      m[key] = value ?? (def.type === 'string' ? '' : null);
      out[def.name] = m;
      continue;
    }
    if (def.repeated && wire === 2 && isPackable(def.type)) {
      const packed = new Reader(r.bytes());
      const list = (out[def.name] ?? []) as Json[];
      while (packed.pos < packed.end) list.push(scalar(def.type, 0, packed));
      out[def.name] = list;
      continue;
    }
    const value = decodeValue(def.type, wire, r);
    if (INLINE_FIELDS.has(def.name) && !def.repeated) {
      if (value !== undefined && value !== null && typeof value === 'object' && !Array.isArray(value)) {
        Object.assign(out, value);
      }
      continue;
    }
    if (def.repeated) {
      const list = (out[def.name] ?? []) as Json[];
      list.push(value ?? (def.type === 'string' ? '' : {}));
      out[def.name] = list;
    } else if (value !== undefined && !isOmittedZero(def, value)) {
      out[def.name] = value;
    }
  }
  return out;
}

function isPackable(type: string): boolean {
  return type === 'int32' || type === 'int64' || type === 'bool';
}

function isOmittedZero(def: FieldDef, value: Json): boolean {
  if (value === '') return true;
  if ((value === 0 || value === false) && !KEEP_ZERO.has(def.name)) return true;
  return false;
}

function decodeValue(type: string, wire: number, r: Reader): Json | undefined {
  if (['string', 'bytes', 'bool', 'int32', 'int64', 'double'].includes(type)) return scalar(type, wire, r);
  if (wire !== 2) {
    r.skip(wire);
    return undefined;
  }
  return decodeMessage(type, r.bytes());
}

function timeParts(buf: Uint8Array): { seconds: bigint; nanos: number } {
  const r = new Reader(buf);
  let seconds = 0n;
  let nanos = 0;
  while (r.pos < r.end) {
    const tag = Number(r.varint());
    if (tag >> 3 === 1) seconds = BigInt.asIntN(64, r.varint());
    else if (tag >> 3 === 2) nanos = Number(r.varint());
    else r.skip(tag & 7);
  }
  return { seconds, nanos };
}

function bytesField(buf: Uint8Array, field: number): Uint8Array | undefined {
  const r = new Reader(buf);
  let out: Uint8Array | undefined;
  while (r.pos < r.end) {
    const tag = Number(r.varint());
    if (tag >> 3 === field && (tag & 7) === 2) out = r.bytes();
    else r.skip(tag & 7);
  }
  return out;
}

function stringField(buf: Uint8Array, field: number): string | undefined {
  const b = bytesField(buf, field);
  return b === undefined ? undefined : utf8.decode(b);
}

export function isKubeProtobuf(body: Uint8Array): boolean {
  return MAGIC.every((b, i) => body[i] === b);
}

/** Decode a `k8s\0`-framed protobuf object into its JSON form (with apiVersion and kind). */
export function decodeKubeProtobuf(body: Uint8Array): JsonObject {
  if (!isKubeProtobuf(body)) throw badRequest('protobuf body does not start with the k8s\\0 magic prefix');
  const envelope = body.subarray(MAGIC.length);
  const typeMeta = bytesField(envelope, 1);
  const raw = bytesField(envelope, 2) ?? new Uint8Array();
  const apiVersion = typeMeta === undefined ? '' : (stringField(typeMeta, 1) ?? '');
  const kind = typeMeta === undefined ? '' : (stringField(typeMeta, 2) ?? '');
  const pkg = kind === 'DeleteOptions' ? 'meta' : PACKAGES[apiVersion];
  const message = pkg === undefined ? undefined : `${pkg}.${kind}`;
  if (message === undefined || PROTO_FIELDS[message] === undefined) {
    throw unsupportedMediaType(`application/vnd.kubernetes.protobuf (${apiVersion} ${kind})`);
  }
  const decoded = decodeMessage(message, raw);
  return { apiVersion, kind, ...((decoded ?? {}) as JsonObject) };
}
