/**
 * The API semantics of kube-apiserver over a VersionedStore: create/get/list/update/patch/
 * delete/watch with defaulting, validation, field validation, optimistic concurrency,
 * graceful deletion, finalizers, owner-reference garbage collection and the pod, scale and
 * namespace subresources. The HTTP layer and in-process callers share this one object.
 */
import { randomUUID } from 'node:crypto';
import { BerthError } from '@berth/core';
import {
  clone,
  isObject,
  type Json,
  type JsonObject,
  jsonPatch,
  mergePatch,
  strategicMergePatch,
} from './patch.ts';
import {
  apiVersionOf,
  type Conversion,
  type DefaultingContext,
  fieldLabels,
  fieldValues,
  findResource,
  NAME_RULES,
  nameRuleOf,
  RESOURCES,
  type ResourceDef,
  storageKey,
} from './resources.ts';
import { checkFields, kindSchema } from './schema.ts';
import {
  type FieldRequirement,
  formatRequirements,
  type LabelRequirement,
  matchesFields,
  matchesLabels,
  parseFieldSelector,
  parseLabelSelector,
  requirementsOf,
} from './selectors.ts';
import {
  alreadyExists,
  badRequest,
  cause,
  conflict,
  forbidden,
  invalid,
  KubeStatusError,
  notFound,
  STALE_OBJECT_MESSAGE,
  type StatusCause,
} from './status.ts';
import {
  metaOf,
  type StoreEvent,
  type StoreSnapshot,
  VersionedStore,
  type WatchEventType,
} from './versioned-store.ts';

export type PatchType = 'json' | 'merge' | 'strategic';
export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';
export type PropagationPolicy = 'Orphan' | 'Background' | 'Foreground';

export interface WriteOptions {
  /** `dryRun=All`: run everything, store nothing. */
  readonly dryRun?: boolean;
  /** Unknown fields: reject (Strict), drop with a warning (Warn, the default) or drop (Ignore). */
  readonly fieldValidation?: FieldValidation;
  /** Write the `status` subresource (only status changes are kept) instead of the main resource. */
  readonly subresource?: 'status';
}

export interface WriteResult {
  readonly object: JsonObject;
  /** Texts for `Warning: 299 - "…"` headers. */
  readonly warnings: readonly string[];
}

export interface ListOptions {
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  readonly limit?: number;
  readonly continue?: string;
  /** List as of this revision (with resourceVersionMatch=Exact) or any newer (NotOlderThan / default). */
  readonly resourceVersion?: string;
  readonly resourceVersionMatch?: 'Exact' | 'NotOlderThan';
}

export interface ListResult {
  readonly items: JsonObject[];
  readonly resourceVersion: string;
  readonly continue?: string;
  readonly remainingItemCount?: number;
}

export interface DeleteOptions {
  readonly gracePeriodSeconds?: number;
  readonly propagationPolicy?: PropagationPolicy;
  readonly preconditions?: { readonly uid?: string; readonly resourceVersion?: string };
  readonly dryRun?: boolean;
}

export interface DeleteResult {
  /** The object as deleted, or (still terminating) with its deletionTimestamp. */
  readonly object: JsonObject;
  /** False while finalizers or a grace period keep the object. */
  readonly removed: boolean;
}

export interface WatchOptions {
  readonly resourceVersion?: string;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  readonly allowWatchBookmarks?: boolean;
  readonly sendInitialEvents?: boolean;
  /**
   * Deliver the store's own objects of ADDED/MODIFIED/DELETED events: no copy per watcher, and no
   * `apiVersion`/`kind` added (objects of a converted version still get theirs). They must never
   * be mutated; the HTTP face serializes each once for all its watchers.
   */
  readonly shared?: boolean;
}

export interface WatchEvent {
  readonly type: WatchEventType | 'BOOKMARK' | 'ERROR';
  readonly object: JsonObject;
}

export interface KubeApiOptions {
  /** Past changes kept for watch resumption (default 2000). */
  readonly retainedEvents?: number;
  /** Service cluster IP range, e.g. `10.96.0.0/12` (the default). */
  readonly serviceCIDR?: string;
  /**
   * With no kubelet attached, terminating pods that are bound to a node are removed this many
   * milliseconds after their deletion (default 0 = at once, after a Terminating update); `null`
   * leaves them to a kubelet, which confirms with a delete of gracePeriodSeconds=0.
   */
  readonly podTerminationMs?: number | null;
  /** Milliseconds since the epoch; injectable for tests (default Date.now). */
  readonly now?: () => number;
  /** Start from a saved store (see `VersionedStore.snapshot`) instead of an empty one. */
  readonly initialState?: StoreSnapshot;
}

export type ResourceName = string | ResourceDef;

const INITIAL_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'] as const;
const PROTECTED_NAMESPACES: ReadonlySet<string> = new Set(['default', 'kube-system', 'kube-public']);
const WITH_STATUS_RESET: ReadonlySet<string> = new Set([
  'Pod',
  'Deployment',
  'ReplicaSet',
  'Job',
  'Service',
  'HorizontalPodAutoscaler',
]);
const GENERATE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

interface ContinueToken {
  readonly rv: number;
  readonly start: string;
}

function str(v: Json | undefined): string {
  return typeof v === 'string' ? v : '';
}

function timestamp(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19)}Z`;
}

function stripForCompare(obj: JsonObject): string {
  const c = clone(obj);
  const m = metaOf(c);
  delete m.resourceVersion;
  delete m.managedFields;
  return JSON.stringify(c);
}

function specPart(obj: JsonObject): string {
  const c: JsonObject = {};
  for (const [k, v] of Object.entries(obj)) if (k !== 'metadata' && k !== 'status') c[k] = v;
  return JSON.stringify(c);
}

function ipToInt(ip: string): number {
  return ip.split('.').reduce((acc, part) => acc * 256 + Number(part), 0);
}

function intToIp(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');
}

function labelsOf(obj: JsonObject): Record<string, string> {
  const l = metaOf(obj).labels;
  const out: Record<string, string> = {};
  if (isObject(l)) for (const [k, v] of Object.entries(l)) if (typeof v === 'string') out[k] = v;
  return out;
}

function optionError(field: string, value: unknown, expected: string): BerthError {
  return new BerthError(
    'SPEC_INVALID',
    `KubeApi option \`${field}\` is ${JSON.stringify(value)}: ${expected}`,
    {
      component: 'devcluster',
      hint: `fix \`${field}\` or leave it out for the default`,
      details: { field },
    },
  );
}

/** Reject bad options before anything is built (one BerthError naming the option). */
export function validateApiOptions(options: KubeApiOptions): void {
  const cidr = options.serviceCIDR;
  if (cidr !== undefined) {
    const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
    const octets = m === null ? [] : m.slice(1, 5).map(Number);
    const bits = m === null ? -1 : Number(m[5]);
    if (m === null || octets.some((o) => o > 255) || bits < 8 || bits > 30) {
      throw optionError(
        'serviceCIDR',
        cidr,
        'expected an IPv4 CIDR with a prefix of 8 to 30 bits, e.g. "10.96.0.0/12"',
      );
    }
  }
  const retained = options.retainedEvents;
  if (retained !== undefined && (!Number.isInteger(retained) || retained < 1)) {
    throw optionError('retainedEvents', retained, 'expected a positive integer (changes kept for watches)');
  }
  const termination = options.podTerminationMs;
  if (
    termination !== undefined &&
    termination !== null &&
    (!Number.isFinite(termination) || termination < 0)
  ) {
    throw optionError(
      'podTerminationMs',
      termination,
      'expected milliseconds ≥ 0, or null to leave it to a kubelet',
    );
  }
}

/** A pod spec without the fields an update may change (images, deadlines, tolerations, gates). */
function immutablePodSpec(spec: JsonObject): string {
  const c = clone(spec);
  for (const key of [
    'activeDeadlineSeconds',
    'terminationGracePeriodSeconds',
    'tolerations',
    'schedulingGates',
    'ephemeralContainers',
  ]) {
    delete c[key];
  }
  for (const key of ['containers', 'initContainers']) {
    for (const container of Array.isArray(c[key]) ? c[key] : [])
      if (isObject(container)) delete container.image;
  }
  return JSON.stringify(c);
}

/** Every entry of `before` is still in `after` (tolerations may only be added). */
function isSubsetList(before: Json | undefined, after: Json | undefined): boolean {
  const now = new Set((Array.isArray(after) ? after : []).map((t) => JSON.stringify(t)));
  return (Array.isArray(before) ? before : []).every((t) => now.has(JSON.stringify(t)));
}

/** Kube API semantics over a versioned store. Use `startKubeApiServer` for the HTTPS face. */
export class KubeApi {
  readonly store: VersionedStore;
  readonly #now: () => number;
  readonly #podTerminationMs: number | null;
  readonly #cidrBase: number;
  readonly #cidrSize: number;
  readonly #usedIPs = new Set<string>();
  readonly #usedNodePorts = new Set<number>();
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  /** owner uid → `resource\0namespace\0name` of objects naming it in ownerReferences. */
  readonly #owned = new Map<string, Set<string>>();
  #nextIP = 1;
  #nextNodePort = 30000;

  constructor(options: KubeApiOptions = {}) {
    this.store = new VersionedStore(
      options.retainedEvents === undefined ? {} : { retainedEvents: options.retainedEvents },
    );
    this.#now = options.now ?? Date.now;
    this.#podTerminationMs = options.podTerminationMs === undefined ? 0 : options.podTerminationMs;
    validateApiOptions(options);
    const [base, bits] = (options.serviceCIDR ?? '10.96.0.0/12').split('/');
    this.#cidrBase = ipToInt(base ?? '10.96.0.0');
    this.#cidrSize = 2 ** (32 - Number(bits ?? 12));
    this.store.subscribe((event) => this.#indexOwners(event));
    if (options.initialState !== undefined) {
      this.store.restore(options.initialState);
      for (const def of RESOURCES) {
        if (def.readOnly || def.conversion !== undefined) continue;
        for (const obj of this.store.listShared(storageKey(def))) {
          this.#indexOwners({
            type: 'ADDED',
            resource: storageKey(def),
            revision: 0,
            object: obj,
            previous: undefined,
          });
          if (def.kind === 'Service') this.#reserveServiceAddresses(obj);
        }
      }
    }
    for (const ns of INITIAL_NAMESPACES) {
      if (this.store.get('namespaces', '', ns) === undefined)
        this.create('namespaces', '', { metadata: { name: ns } });
    }
  }

  /** Cancel pending timers (pod termination). */
  close(): void {
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
  }

  resource(name: ResourceName): ResourceDef {
    if (typeof name !== 'string') return name;
    const def = findResource(name);
    if (def === undefined) {
      throw new KubeStatusError(404, 'NotFound', `the server doesn't have a resource type "${name}"`);
    }
    return def;
  }

  // ------------------------------------------------------------------ defaulting context

  readonly #ctx: DefaultingContext = {
    allocateClusterIP: () => {
      for (let i = 0; i < this.#cidrSize - 2; i++) {
        const offset = ((this.#nextIP - 1 + i) % (this.#cidrSize - 2)) + 1;
        const ip = intToIp(this.#cidrBase + offset);
        if (!this.#usedIPs.has(ip)) {
          this.#usedIPs.add(ip);
          this.#nextIP = offset + 1;
          return ip;
        }
      }
      throw new KubeStatusError(
        500,
        'InternalError',
        'Internal error occurred: failed to allocate a serviceIP: range is full',
      );
    },
    allocateNodePort: () => {
      for (let i = 0; i <= 2767; i++) {
        const port = 30000 + ((this.#nextNodePort - 30000 + i) % 2768);
        if (!this.#usedNodePorts.has(port)) {
          this.#usedNodePorts.add(port);
          this.#nextNodePort = port + 1;
          return port;
        }
      }
      throw new KubeStatusError(
        500,
        'InternalError',
        'Internal error occurred: failed to allocate a nodePort: range is full',
      );
    },
    priorityValue: (name) => {
      const pc = this.store.get('priorityclasses.scheduling.k8s.io', '', name);
      return pc !== undefined && typeof pc.value === 'number' ? pc.value : undefined;
    },
    defaultPriority: () => {
      const pc = this.store
        .list('priorityclasses.scheduling.k8s.io')
        .find((p) => p.globalDefault === true && typeof p.value === 'number');
      return pc === undefined ? undefined : { name: str(metaOf(pc).name), value: pc.value as number };
    },
  };

  // ------------------------------------------------------------------ reads

  /** For a converted (older) version: the stored version's definition and the conversion. */
  #aliased(def: ResourceDef): { storage: ResourceDef; conv: Conversion } | undefined {
    if (def.conversion === undefined) return undefined;
    const storage = RESOURCES.find((r) => r.conversion === undefined && storageKey(r) === storageKey(def));
    return storage === undefined ? undefined : { storage, conv: def.conversion };
  }

  #view(def: ResourceDef, conv: Conversion, obj: JsonObject): JsonObject {
    return { ...conv.fromStorage(obj), apiVersion: apiVersionOf(def), kind: def.kind };
  }

  get(resource: ResourceName, namespace: string, name: string): JsonObject {
    const def = this.resource(resource);
    const alias = this.#aliased(def);
    if (alias !== undefined) return this.#view(def, alias.conv, this.get(alias.storage, namespace, name));
    const obj = this.store.get(storageKey(def), def.namespaced ? namespace : '', name);
    if (obj === undefined) throw notFound(def, name);
    return this.#withType(def, obj);
  }

  #withType(def: ResourceDef, obj: JsonObject): JsonObject {
    return { apiVersion: apiVersionOf(def), kind: def.kind, ...obj };
  }

  #matcher(def: ResourceDef, labelSelector?: string, fieldSelector?: string): (obj: JsonObject) => boolean {
    const labels: LabelRequirement[] = parseLabelSelector(labelSelector ?? '');
    const fields: FieldRequirement[] = parseFieldSelector(fieldSelector ?? '', fieldLabels(def));
    if (labels.length === 0 && fields.length === 0) return () => true;
    return (obj) => matchesLabels(labels, labelsOf(obj)) && matchesFields(fields, fieldValues(def, obj));
  }

  list(resource: ResourceName, namespace: string, options: ListOptions = {}): ListResult {
    return this.#list(resource, namespace, options, true);
  }

  /**
   * `list` without copying the items: they are the store's own objects, for callers that only
   * serialize them (the HTTP layer). Never mutate them.
   */
  listReadonly(resource: ResourceName, namespace: string, options: ListOptions = {}): ListResult {
    return this.#list(resource, namespace, options, false);
  }

  #list(resource: ResourceName, namespace: string, options: ListOptions, copy: boolean): ListResult {
    const def = this.resource(resource);
    const alias = this.#aliased(def);
    if (alias !== undefined) {
      const result = this.list(alias.storage, namespace, options);
      return { ...result, items: result.items.map((o) => this.#view(def, alias.conv, o)) };
    }
    const match = this.#matcher(def, options.labelSelector, options.fieldSelector);
    let atRevision: number | undefined;
    let start = '';
    if (options.continue !== undefined && options.continue !== '') {
      const token = this.#decodeContinue(options.continue);
      atRevision = token.rv;
      start = token.start;
    } else if (
      options.resourceVersion !== undefined &&
      options.resourceVersion !== '' &&
      options.resourceVersion !== '0'
    ) {
      const rv = Number(options.resourceVersion);
      if (!Number.isInteger(rv)) throw badRequest(`invalid resource version: ${options.resourceVersion}`);
      if (options.resourceVersionMatch === 'Exact') atRevision = rv;
      else if (rv > this.store.revision) {
        throw new KubeStatusError(
          504,
          'Timeout',
          `Too large resource version: ${rv}, current: ${this.store.revision}`,
        );
      }
    }
    const revision = atRevision ?? this.store.revision;
    const all = this.store.listShared(storageKey(def), def.namespaced ? namespace : '', atRevision);
    const matching = all.filter((o) => {
      const m = metaOf(o);
      return `${str(m.namespace)}/${str(m.name)}` > start && match(o);
    });
    const limit = options.limit !== undefined && options.limit > 0 ? options.limit : matching.length;
    const page = copy ? matching.slice(0, limit).map((o) => clone(o)) : matching.slice(0, limit);
    const rest = matching.length - page.length;
    const last = page[page.length - 1];
    const result: ListResult = {
      items: page,
      resourceVersion: String(revision),
      ...(rest > 0 && last !== undefined
        ? {
            continue: Buffer.from(
              JSON.stringify({
                rv: revision,
                start: `${str(metaOf(last).namespace)}/${str(metaOf(last).name)}`,
              }),
            ).toString('base64url'),
            remainingItemCount: rest,
          }
        : {}),
    };
    return result;
  }

  #decodeContinue(token: string): ContinueToken {
    try {
      const parsed: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
      if (isObject(parsed as Json) && typeof (parsed as JsonObject).rv === 'number')
        return parsed as unknown as ContinueToken;
    } catch {
      // fall through to the error below
    }
    throw badRequest('continue key is not valid: illegal base64 data or malformed token');
  }

  // ------------------------------------------------------------------ writes

  #checkNamespace(def: ResourceDef, namespace: string, name: string): void {
    if (!def.namespaced) return;
    if (namespace === '')
      throw badRequest('the server could not find the requested resource: a namespace is required');
    const ns = this.store.get('namespaces', '', namespace);
    if (ns === undefined) throw notFound({ group: '', plural: 'namespaces' }, namespace);
    if (isObject(ns.status) && ns.status.phase === 'Terminating') {
      throw forbidden(
        def,
        name,
        `unable to create new content in namespace ${namespace} because it is being terminated`,
      );
    }
  }

  #decode(
    def: ResourceDef,
    body: Json,
    validation: FieldValidation,
    name: string,
  ): { obj: JsonObject; warnings: string[] } {
    if (!isObject(body))
      throw badRequest(
        `the body of the request must be a JSON object, got ${JSON.stringify(body)?.slice(0, 40)}`,
      );
    const obj = clone(body);
    const expectedVersion = apiVersionOf(def);
    if (obj.kind !== undefined && obj.kind !== def.kind && obj.kind !== 'Scale') {
      throw badRequest(
        `the object provided is unrecognized (must be of type ${def.kind}): ${str(obj.kind)} ${name}`,
      );
    }
    if (obj.apiVersion !== undefined && obj.apiVersion !== expectedVersion && obj.kind !== 'Scale') {
      throw badRequest(
        `the API version in the data (${str(obj.apiVersion)}) does not match the expected API version (${expectedVersion})`,
      );
    }
    const problems = checkFields(kindSchema(def.kind, expectedVersion), obj, true);
    if (problems.mistyped.length > 0) {
      throw badRequest(
        `${def.kind} in version "${def.version}" cannot be handled as a ${def.kind}: json: ${problems.mistyped.join('; ')}`,
      );
    }
    const unknown = problems.unknown.map((p) => `unknown field "${p}"`);
    if (unknown.length > 0 && validation === 'Strict') {
      throw badRequest(
        `${def.kind} in version "${def.version}" cannot be handled as a ${def.kind}: strict decoding error: ${unknown.join(', ')}`,
      );
    }
    delete obj.apiVersion;
    delete obj.kind;
    metaOf(obj);
    return { obj, warnings: validation === 'Warn' ? unknown : [] };
  }

  #validateOrThrow(def: ResourceDef, obj: JsonObject, extra: StatusCause[] = []): void {
    const name = str(metaOf(obj).name);
    const causes = [...extra, ...def.validate(obj)];
    const labels = metaOf(obj).labels;
    if (isObject(labels)) {
      for (const [k, v] of Object.entries(labels)) {
        if (
          typeof v !== 'string' ||
          v.length > 63 ||
          !/^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/.test(v)
        ) {
          causes.push(
            cause.invalid(
              'metadata.labels',
              v,
              "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
            ),
          );
        }
        if (k === '') causes.push(cause.invalid('metadata.labels', k, 'name part must be non-empty'));
      }
    }
    if (causes.length > 0) throw invalid(def.kind, def.group, name, causes);
  }

  create(resource: ResourceName, namespace: string, body: Json, options: WriteOptions = {}): JsonObject {
    return this.createWithWarnings(resource, namespace, body, options).object;
  }

  createWithWarnings(
    resource: ResourceName,
    namespace: string,
    body: Json,
    options: WriteOptions = {},
  ): WriteResult {
    const def = this.#writable(resource);
    const alias = this.#aliased(def);
    if (alias !== undefined) {
      const name = isObject(body) && isObject(body.metadata) ? str(body.metadata.name) : '';
      const { obj, warnings } = this.#decode(def, body, options.fieldValidation ?? 'Warn', name);
      const result = this.createWithWarnings(alias.storage, namespace, alias.conv.toStorage(obj), {
        ...options,
        fieldValidation: 'Ignore',
      });
      return { object: this.#view(def, alias.conv, result.object), warnings };
    }
    const bodyMeta = isObject(body) && isObject(body.metadata) ? body.metadata : {};
    const ns = def.namespaced ? namespace || str(bodyMeta.namespace) : '';
    const { obj, warnings } = this.#decode(def, body, options.fieldValidation ?? 'Warn', str(bodyMeta.name));
    const meta = metaOf(obj);
    if (def.namespaced && meta.namespace !== undefined && meta.namespace !== '' && meta.namespace !== ns) {
      throw badRequest(
        'the namespace of the provided object does not match the namespace sent on the request',
      );
    }
    const extra: StatusCause[] = [];
    if (str(meta.name) === '' && str(meta.generateName) !== '') {
      let suffix = '';
      for (let i = 0; i < 5; i++)
        suffix += GENERATE_ALPHABET[Math.floor(Math.random() * GENERATE_ALPHABET.length)];
      meta.name = `${str(meta.generateName)}${suffix}`;
    }
    const name = str(meta.name);
    if (name === '') extra.push(cause.required('metadata.name', 'name or generateName is required'));
    else {
      const rule = NAME_RULES[nameRuleOf(def)];
      if (!rule.test(name)) extra.push(cause.invalid('metadata.name', name, rule.message));
    }
    if (extra.length > 0) throw invalid(def.kind, def.group, name, extra);
    this.#checkNamespace(def, ns, name);
    if (this.store.get(storageKey(def), ns, name) !== undefined) throw alreadyExists(def, name);
    if (def.namespaced) meta.namespace = ns;
    else delete meta.namespace;
    meta.uid = randomUUID();
    meta.creationTimestamp = timestamp(this.#now());
    delete meta.resourceVersion;
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
    if (def.generation) meta.generation = 1;
    else delete meta.generation;
    if (WITH_STATUS_RESET.has(def.kind)) delete obj.status;
    def.defaults(obj, this.#ctx);
    this.#validateOrThrow(def, obj);
    if (def.kind === 'Service') this.#reserveServiceAddresses(obj);
    if (options.dryRun === true) return { object: this.#withType(def, obj), warnings };
    return { object: this.#withType(def, this.store.write(storageKey(def), obj)), warnings };
  }

  #reserveServiceAddresses(svc: JsonObject): void {
    const spec = isObject(svc.spec) ? svc.spec : {};
    if (typeof spec.clusterIP === 'string' && spec.clusterIP !== 'None') this.#usedIPs.add(spec.clusterIP);
    for (const p of Array.isArray(spec.ports) ? spec.ports : []) {
      if (isObject(p) && typeof p.nodePort === 'number') this.#usedNodePorts.add(p.nodePort);
    }
  }

  #writable(resource: ResourceName): ResourceDef {
    const def = this.resource(resource);
    if (def.readOnly) {
      throw new KubeStatusError(
        405,
        'MethodNotAllowed',
        'the server does not allow this method on the requested resource',
        {},
      );
    }
    return def;
  }

  update(
    resource: ResourceName,
    namespace: string,
    name: string,
    body: Json,
    options: WriteOptions = {},
  ): JsonObject {
    return this.updateWithWarnings(resource, namespace, name, body, options).object;
  }

  updateWithWarnings(
    resource: ResourceName,
    namespace: string,
    name: string,
    body: Json,
    options: WriteOptions = {},
  ): WriteResult {
    const def = this.#writable(resource);
    const alias = this.#aliased(def);
    if (alias !== undefined) {
      const stored = this.get(alias.storage, namespace, name);
      const { obj, warnings } = this.#decode(def, body, options.fieldValidation ?? 'Warn', name);
      const result = this.updateWithWarnings(
        alias.storage,
        namespace,
        name,
        alias.conv.toStorage(obj, stored),
        {
          ...options,
          fieldValidation: 'Ignore',
        },
      );
      return { object: this.#view(def, alias.conv, result.object), warnings };
    }
    const ns = def.namespaced ? namespace : '';
    const existing = this.store.get(storageKey(def), ns, name);
    if (existing === undefined) throw notFound(def, name);
    const { obj, warnings } = this.#decode(def, body, options.fieldValidation ?? 'Warn', name);
    const meta = metaOf(obj);
    if (meta.name !== undefined && meta.name !== name) {
      throw badRequest(
        `the name of the object (${str(meta.name)}) does not match the name on the URL (${name})`,
      );
    }
    if (def.namespaced && meta.namespace !== undefined && meta.namespace !== '' && meta.namespace !== ns) {
      throw badRequest(
        'the namespace of the provided object does not match the namespace sent on the request',
      );
    }
    const rv = meta.resourceVersion;
    if (rv !== undefined && rv !== '' && rv !== metaOf(existing).resourceVersion) {
      throw conflict(def, name, STALE_OBJECT_MESSAGE);
    }
    return this.#commitUpdate(def, existing, obj, options, warnings);
  }

  #commitUpdate(
    def: ResourceDef,
    existing: JsonObject,
    incoming: JsonObject,
    options: WriteOptions,
    warnings: string[],
  ): WriteResult {
    const oldMeta = metaOf(existing);
    let next: JsonObject;
    if (options.subresource === 'status') {
      next = clone(existing);
      if (incoming.status === undefined) delete next.status;
      else next.status = clone(incoming.status);
    } else {
      next = clone(incoming);
      const hasStatusSub = def.subresources.includes('status');
      if (hasStatusSub) {
        if (existing.status === undefined) delete next.status;
        else next.status = clone(existing.status);
      }
    }
    const meta = metaOf(next);
    for (const k of [
      'name',
      'namespace',
      'uid',
      'creationTimestamp',
      'deletionTimestamp',
      'deletionGracePeriodSeconds',
      'generation',
    ]) {
      if (oldMeta[k] === undefined) delete meta[k];
      else meta[k] = clone(oldMeta[k]!);
    }
    if (options.subresource !== 'status') def.defaults(next, this.#ctx);
    if (def.kind === 'Pod' || def.kind === 'Job') this.#checkImmutable(def, existing, next);
    this.#validateOrThrow(def, next);
    if (def.generation && specPart(existing) !== specPart(next)) {
      meta.generation = (typeof oldMeta.generation === 'number' ? oldMeta.generation : 1) + 1;
    }
    if (def.kind === 'Service') this.#reserveServiceAddresses(next);
    const finalizers = Array.isArray(meta.finalizers) ? meta.finalizers : [];
    const terminating = typeof meta.deletionTimestamp === 'string';
    if (options.dryRun === true) return { object: this.#withType(def, next), warnings };
    if (stripForCompare(existing) === stripForCompare(next))
      return { object: this.#withType(def, existing), warnings };
    if (terminating && finalizers.length === 0 && !this.#awaitsGrace(def, next)) {
      const removed = this.#remove(def, next);
      return { object: this.#withType(def, removed), warnings };
    }
    return { object: this.#withType(def, this.store.write(storageKey(def), next)), warnings };
  }

  #checkImmutable(def: ResourceDef, existing: JsonObject, next: JsonObject): void {
    const name = str(metaOf(existing).name);
    if (def.kind === 'Pod') {
      const before = isObject(existing.spec) ? existing.spec : {};
      const after = isObject(next.spec) ? next.spec : {};
      if (
        immutablePodSpec(before) !== immutablePodSpec(after) ||
        !isSubsetList(before.tolerations, after.tolerations)
      ) {
        throw invalid(def.kind, def.group, name, [
          cause.forbidden(
            'spec',
            'pod updates may not change fields other than `spec.containers[*].image`, `spec.initContainers[*].image`, `spec.activeDeadlineSeconds`, `spec.tolerations` (only additions to existing tolerations), `spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
          ),
        ]);
      }
    }
    if (def.kind === 'Job') {
      const sel = (o: JsonObject) => JSON.stringify(isObject(o.spec) ? o.spec.selector : null);
      if (sel(existing) !== sel(next))
        throw invalid(def.kind, def.group, name, [
          cause.invalid('spec.selector', null, 'field is immutable'),
        ]);
    }
  }

  patch(
    resource: ResourceName,
    namespace: string,
    name: string,
    type: PatchType,
    patch: Json,
    options: WriteOptions = {},
  ): JsonObject {
    return this.patchWithWarnings(resource, namespace, name, type, patch, options).object;
  }

  patchWithWarnings(
    resource: ResourceName,
    namespace: string,
    name: string,
    type: PatchType,
    patch: Json,
    options: WriteOptions = {},
  ): WriteResult {
    const def = this.#writable(resource);
    const alias = this.#aliased(def);
    if (alias !== undefined) {
      const current = this.get(def, namespace, name);
      return this.updateWithWarnings(def, namespace, name, this.#applyPatch(type, current, patch), options);
    }
    const ns = def.namespaced ? namespace : '';
    const existing = this.store.get(storageKey(def), ns, name);
    if (existing === undefined) throw notFound(def, name);
    const current = this.#withType(def, existing);
    const patched = this.#applyPatch(type, current, patch);
    if (!isObject(patched)) throw badRequest('the patch produced something that is not an object');
    const { obj, warnings } = this.#decode(def, patched, options.fieldValidation ?? 'Warn', name);
    const rv = metaOf(obj).resourceVersion;
    if (rv !== undefined && rv !== '' && rv !== metaOf(existing).resourceVersion) {
      throw conflict(def, name, STALE_OBJECT_MESSAGE);
    }
    return this.#commitUpdate(def, existing, obj, options, warnings);
  }

  #applyPatch(type: PatchType, current: Json, patch: Json): Json {
    if (type === 'json') return jsonPatch(current, patch);
    if (!isObject(patch)) throw badRequest('the patch must be a JSON object');
    return type === 'merge' ? mergePatch(current, patch) : strategicMergePatch(current, patch);
  }

  // ------------------------------------------------------------------ delete

  delete(resource: ResourceName, namespace: string, name: string, options: DeleteOptions = {}): DeleteResult {
    const def = this.#writable(resource);
    const alias = this.#aliased(def);
    if (alias !== undefined) {
      const result = this.delete(alias.storage, namespace, name, options);
      return { ...result, object: this.#view(def, alias.conv, result.object) };
    }
    const ns = def.namespaced ? namespace : '';
    const existing = this.store.get(storageKey(def), ns, name);
    if (existing === undefined) throw notFound(def, name);
    const meta = metaOf(existing);
    const pre = options.preconditions;
    if (pre?.uid !== undefined && pre.uid !== meta.uid) {
      throw conflict(
        def,
        name,
        `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${str(meta.uid)}`,
      );
    }
    if (pre?.resourceVersion !== undefined && pre.resourceVersion !== meta.resourceVersion) {
      throw conflict(
        def,
        name,
        `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${str(meta.resourceVersion)}`,
      );
    }
    if (def.kind === 'Namespace' && PROTECTED_NAMESPACES.has(name)) {
      throw forbidden(def, name, 'this namespace may not be deleted');
    }
    if (options.gracePeriodSeconds !== undefined && options.gracePeriodSeconds < 0) {
      throw invalid(def.kind, def.group, name, [
        cause.invalid('gracePeriodSeconds', options.gracePeriodSeconds, 'must be greater than or equal to 0'),
      ]);
    }
    const policy = options.propagationPolicy ?? (def.kind === 'Job' ? 'Orphan' : 'Background');
    if (options.dryRun === true) return { object: this.#withType(def, existing), removed: true };

    const next = clone(existing);
    const nextMeta = metaOf(next);
    const finalizers = (Array.isArray(nextMeta.finalizers) ? nextMeta.finalizers : []).filter(
      (f): f is string => typeof f === 'string',
    );
    if (
      policy === 'Foreground' &&
      !finalizers.includes('foregroundDeletion') &&
      this.#dependents(meta.uid).length > 0
    ) {
      finalizers.push('foregroundDeletion');
    }
    if (policy === 'Orphan') this.#orphanDependents(str(meta.uid));
    const grace = this.#graceSeconds(def, next, options.gracePeriodSeconds);
    const alreadyTerminating = typeof nextMeta.deletionTimestamp === 'string';
    if (finalizers.length > 0 || grace > 0 || def.kind === 'Namespace') {
      if (
        !alreadyTerminating ||
        (def.kind === 'Pod' && grace < Number(nextMeta.deletionGracePeriodSeconds ?? 0))
      ) {
        nextMeta.deletionTimestamp = timestamp(this.#now() + grace * 1000);
        nextMeta.deletionGracePeriodSeconds = grace;
      }
      if (finalizers.length > 0) nextMeta.finalizers = finalizers;
      if (def.kind === 'Namespace') {
        next.status = { ...(isObject(next.status) ? next.status : {}), phase: 'Terminating' };
      }
      if (grace === 0 && finalizers.length === 0 && def.kind !== 'Namespace') {
        return { object: this.#withType(def, this.#remove(def, next, policy)), removed: true };
      }
      const written =
        stripForCompare(existing) === stripForCompare(next)
          ? existing
          : this.store.write(storageKey(def), next);
      if (policy === 'Foreground') this.#deleteDependents(str(meta.uid), 'Foreground');
      if (def.kind === 'Namespace') this.#drainNamespace(name);
      if (def.kind === 'Pod' && grace > 0) this.#schedulePodRemoval(ns, name, grace);
      const still = this.store.get(storageKey(def), ns, name);
      return { object: this.#withType(def, still ?? written), removed: still === undefined };
    }
    return { object: this.#withType(def, this.#remove(def, next, policy)), removed: true };
  }

  /** A pod with a deletionTimestamp whose grace period a kubelet (or the timer) still owns. */
  #awaitsGrace(def: ResourceDef, obj: JsonObject): boolean {
    return def.kind === 'Pod' && Number(metaOf(obj).deletionGracePeriodSeconds ?? 0) > 0;
  }

  #graceSeconds(def: ResourceDef, obj: JsonObject, requested: number | undefined): number {
    if (def.kind !== 'Pod') return 0;
    const spec = isObject(obj.spec) ? obj.spec : {};
    const status = isObject(obj.status) ? obj.status : {};
    if (str(spec.nodeName) === '' || status.phase === 'Succeeded' || status.phase === 'Failed') return 0;
    const fromSpec =
      typeof spec.terminationGracePeriodSeconds === 'number' ? spec.terminationGracePeriodSeconds : 30;
    return requested ?? fromSpec;
  }

  #schedulePodRemoval(namespace: string, name: string, grace: number): void {
    if (this.#podTerminationMs === null) return;
    const delay = Math.min(this.#podTerminationMs, grace * 1000);
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      const pod = this.store.get('pods', namespace, name);
      if (pod === undefined || typeof metaOf(pod).deletionTimestamp !== 'string') return;
      try {
        this.delete('pods', namespace, name, { gracePeriodSeconds: 0 });
      } catch {
        // deleted concurrently: nothing left to do
      }
    }, delay);
    timer.unref?.();
    this.#timers.add(timer);
  }

  #remove(def: ResourceDef, obj: JsonObject, policy: PropagationPolicy = 'Background'): JsonObject {
    const meta = metaOf(obj);
    const removed = this.store.remove(
      storageKey(def),
      def.namespaced ? str(meta.namespace) : '',
      str(meta.name),
    );
    if (def.kind === 'Service') {
      const spec = isObject(obj.spec) ? obj.spec : {};
      if (typeof spec.clusterIP === 'string') this.#usedIPs.delete(spec.clusterIP);
      for (const p of Array.isArray(spec.ports) ? spec.ports : []) {
        if (isObject(p) && typeof p.nodePort === 'number') this.#usedNodePorts.delete(p.nodePort);
      }
    }
    if (policy === 'Background') this.#deleteDependents(str(meta.uid), 'Background');
    else if (policy === 'Orphan') this.#orphanDependents(str(meta.uid));
    this.#afterRemoval(def, obj);
    return removed ?? obj;
  }

  /** Everything whose ownerReferences name `uid`: [resource, object] pairs. */
  #dependents(uid: Json | undefined): [ResourceDef, JsonObject][] {
    if (typeof uid !== 'string' || uid === '') return [];
    const out: [ResourceDef, JsonObject][] = [];
    for (const key of [...(this.#owned.get(uid) ?? [])].sort()) {
      const [resource, namespace, name] = key.split('\u0000') as [string, string, string];
      const def = RESOURCES.find(
        (r) => r.conversion === undefined && !r.readOnly && storageKey(r) === resource,
      );
      const obj = def === undefined ? undefined : this.store.get(resource, namespace, name);
      if (def !== undefined && obj !== undefined) out.push([def, obj]);
    }
    return out;
  }

  /** Keep the owner uid → dependents index in step with every stored change. */
  #indexOwners(event: StoreEvent): void {
    const refsOf = (obj: JsonObject | undefined): string[] => {
      const refs = obj === undefined ? undefined : metaOf(obj).ownerReferences;
      return Array.isArray(refs)
        ? refs.flatMap((r) => (isObject(r) && typeof r.uid === 'string' ? [r.uid] : []))
        : [];
    };
    const meta = metaOf(event.object);
    const key = [event.resource, str(meta.namespace), str(meta.name)].join('\u0000');
    for (const uid of refsOf(event.previous)) {
      const set = this.#owned.get(uid);
      set?.delete(key);
      if (set?.size === 0) this.#owned.delete(uid);
    }
    if (event.type === 'DELETED') return;
    for (const uid of refsOf(event.object)) {
      let set = this.#owned.get(uid);
      if (set === undefined) {
        set = new Set();
        this.#owned.set(uid, set);
      }
      set.add(key);
    }
  }

  #deleteDependents(uid: string, policy: PropagationPolicy): void {
    for (const [def, obj] of this.#dependents(uid)) {
      const meta = metaOf(obj);
      try {
        this.delete(def, str(meta.namespace), str(meta.name), { propagationPolicy: policy });
      } catch (error) {
        if (!(error instanceof KubeStatusError && error.code === 404)) throw error;
      }
    }
  }

  #orphanDependents(uid: string): void {
    for (const [def, obj] of this.#dependents(uid)) {
      const meta = metaOf(obj);
      const refs = Array.isArray(meta.ownerReferences) ? meta.ownerReferences : [];
      meta.ownerReferences = refs.filter((r) => !(isObject(r) && r.uid === uid));
      if ((meta.ownerReferences as Json[]).length === 0) delete meta.ownerReferences;
      this.store.write(storageKey(def), obj);
    }
  }

  /** Finish owners waiting in foreground deletion and namespaces waiting to empty. */
  #afterRemoval(def: ResourceDef, obj: JsonObject): void {
    const meta = metaOf(obj);
    for (const ref of Array.isArray(meta.ownerReferences) ? meta.ownerReferences : []) {
      if (!isObject(ref)) continue;
      const ownerDef = RESOURCES.find(
        (r) => r.kind === ref.kind && !r.readOnly && r.conversion === undefined,
      );
      if (ownerDef === undefined) continue;
      const owner = this.store.get(
        storageKey(ownerDef),
        ownerDef.namespaced ? str(meta.namespace) : '',
        str(ref.name),
      );
      if (owner === undefined || owner.metadata === undefined) continue;
      const om = metaOf(owner);
      const fins = Array.isArray(om.finalizers) ? om.finalizers : [];
      if (
        om.uid === ref.uid &&
        fins.includes('foregroundDeletion') &&
        this.#dependents(om.uid).length === 0
      ) {
        om.finalizers = fins.filter((f) => f !== 'foregroundDeletion');
        this.#commitUpdate(
          ownerDef,
          this.store.get(storageKey(ownerDef), str(om.namespace), str(om.name))!,
          owner,
          {},
          [],
        );
      }
    }
    if (def.namespaced) {
      const ns = this.store.get('namespaces', '', str(meta.namespace));
      if (ns !== undefined && typeof metaOf(ns).deletionTimestamp === 'string')
        this.#finishNamespace(str(meta.namespace));
    }
  }

  #drainNamespace(namespace: string): void {
    for (const def of RESOURCES) {
      if (!def.namespaced || def.readOnly || def.conversion !== undefined) continue;
      for (const obj of this.store.list(storageKey(def), namespace)) {
        try {
          this.delete(def, namespace, str(metaOf(obj).name), { propagationPolicy: 'Background' });
        } catch (error) {
          if (!(error instanceof KubeStatusError && error.code === 404)) throw error;
        }
      }
    }
    this.#finishNamespace(namespace);
  }

  #finishNamespace(namespace: string): void {
    const ns = this.store.get('namespaces', '', namespace);
    if (ns === undefined) return;
    const empty = RESOURCES.every(
      (def) =>
        !def.namespaced ||
        def.readOnly ||
        def.conversion !== undefined ||
        this.store.listShared(storageKey(def), namespace).length === 0,
    );
    if (!empty) return;
    const fins = metaOf(ns).finalizers;
    if (Array.isArray(fins) && fins.length > 0) return;
    this.store.remove('namespaces', '', namespace);
  }

  deleteCollection(
    resource: ResourceName,
    namespace: string,
    listOptions: ListOptions = {},
    deleteOptions: DeleteOptions = {},
  ): JsonObject[] {
    const def = this.#writable(resource);
    const { items } = this.list(def, namespace, { ...listOptions, limit: 0 });
    const out: JsonObject[] = [];
    for (const item of items) {
      const meta = metaOf(item);
      try {
        out.push(this.delete(def, str(meta.namespace), str(meta.name), deleteOptions).object);
      } catch (error) {
        if (!(error instanceof KubeStatusError && error.code === 404)) throw error;
      }
    }
    return out;
  }

  // ------------------------------------------------------------------ subresources

  /** `autoscaling/v1` Scale of a deployment or replica set. */
  getScale(resource: ResourceName, namespace: string, name: string): JsonObject {
    const def = this.resource(resource);
    if (!def.subresources.includes('scale')) throw notFound(def, name);
    const obj = this.get(def, namespace, name);
    const meta = metaOf(obj);
    const spec = isObject(obj.spec) ? obj.spec : {};
    const status = isObject(obj.status) ? obj.status : {};
    const selector = isObject(spec.selector)
      ? formatRequirements(requirementsOf(spec.selector as never))
      : '';
    return {
      kind: 'Scale',
      apiVersion: 'autoscaling/v1',
      metadata: {
        name: str(meta.name),
        namespace: str(meta.namespace),
        uid: str(meta.uid),
        resourceVersion: str(meta.resourceVersion),
        creationTimestamp: str(meta.creationTimestamp),
      },
      spec: { replicas: typeof spec.replicas === 'number' ? spec.replicas : 0 },
      status: { replicas: typeof status.replicas === 'number' ? status.replicas : 0, selector },
    };
  }

  /** Write a Scale (PUT) or a patch of one: only spec.replicas carries over to the parent. */
  updateScale(
    resource: ResourceName,
    namespace: string,
    name: string,
    body: Json,
    patchType?: PatchType,
    options: WriteOptions = {},
  ): JsonObject {
    const def = this.resource(resource);
    const current = this.getScale(def, namespace, name);
    const scale = patchType === undefined ? body : this.#applyPatch(patchType, current, body);
    if (!isObject(scale)) throw badRequest('the body must be a Scale object');
    const replicas = isObject(scale.spec) ? scale.spec.replicas : undefined;
    if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
      throw invalid('Scale', 'autoscaling', name, [
        cause.invalid('spec.replicas', replicas ?? null, 'must be greater than or equal to 0'),
      ]);
    }
    const rv = isObject(scale.metadata) ? scale.metadata.resourceVersion : undefined;
    if (typeof rv === 'string' && rv !== '' && rv !== str(metaOf(current).resourceVersion)) {
      throw conflict(def, name, STALE_OBJECT_MESSAGE);
    }
    this.patch(def, namespace, name, 'merge', { spec: { replicas } }, options);
    return options.dryRun === true ? { ...current, spec: { replicas } } : this.getScale(def, namespace, name);
  }

  /** POST pods/binding: set spec.nodeName once (409 if already bound) and PodScheduled=True. */
  bind(namespace: string, name: string, binding: Json, options: WriteOptions = {}): void {
    const def = this.resource('pods');
    const target = isObject(binding) && isObject(binding.target) ? binding.target : undefined;
    const node = target === undefined ? '' : str(target.name);
    if (node === '') throw invalid('Binding', '', name, [cause.required('target.name')]);
    // The stored pod is read in place and the bound version shares everything but the parts it
    // changes (the store never mutates a stored object): no deep copies on the scheduler's hot path.
    const pod = this.store.getShared('pods', namespace, name);
    if (pod === undefined) throw notFound(def, name);
    const spec = isObject(pod.spec) ? pod.spec : {};
    if (typeof metaOf(pod).deletionTimestamp === 'string') {
      throw conflict(
        { group: '', plural: 'pods/binding' },
        name,
        `pod ${name} is being deleted, cannot be assigned to a host`,
      );
    }
    if (str(spec.nodeName) !== '') {
      throw conflict(
        { group: '', plural: 'pods/binding' },
        name,
        `pod ${name} is already assigned to node "${str(spec.nodeName)}"`,
      );
    }
    if (options.dryRun === true) return;
    const status = isObject(pod.status) ? pod.status : {};
    const conditions = (Array.isArray(status.conditions) ? status.conditions : []).filter(
      (c) => !(isObject(c) && c.type === 'PodScheduled'),
    );
    conditions.push({
      type: 'PodScheduled',
      status: 'True',
      lastProbeTime: null,
      lastTransitionTime: timestamp(this.#now()),
    });
    const meta: JsonObject = { ...metaOf(pod) };
    const bindingMeta = isObject(binding) && isObject(binding.metadata) ? binding.metadata : {};
    if (isObject(bindingMeta.annotations)) {
      meta.annotations = {
        ...(isObject(meta.annotations) ? meta.annotations : {}),
        ...clone(bindingMeta.annotations),
      };
    }
    this.store.writeShared('pods', {
      ...pod,
      metadata: meta,
      spec: { ...spec, nodeName: node },
      status: { ...status, conditions },
    });
  }

  /** POST pods/eviction: delete the pod with the eviction's deleteOptions (no PodDisruptionBudgets yet). */
  evict(namespace: string, name: string, eviction: Json, options: WriteOptions = {}): void {
    this.get('pods', namespace, name);
    const raw = isObject(eviction) && isObject(eviction.deleteOptions) ? eviction.deleteOptions : {};
    const grace = raw.gracePeriodSeconds;
    this.delete('pods', namespace, name, {
      ...(typeof grace === 'number' ? { gracePeriodSeconds: grace } : {}),
      ...(options.dryRun === true ? { dryRun: true } : {}),
    });
  }

  // ------------------------------------------------------------------ watch

  /**
   * Stream changes to `send`, starting with ADDED for every current object when no
   * resourceVersion is given (or "0"), else replaying the changes after it (410 Expired if
   * too old: thrown before anything is sent). Returns the unsubscribe function.
   */
  watch(
    resource: ResourceName,
    namespace: string,
    options: WatchOptions,
    send: (event: WatchEvent) => void,
  ): () => void {
    const def = this.resource(resource);
    const alias = this.#aliased(def);
    if (alias !== undefined) {
      return this.watch(alias.storage, namespace, options, (e) =>
        send(
          e.type === 'BOOKMARK' || e.type === 'ERROR'
            ? e
            : { type: e.type, object: this.#view(def, alias.conv, e.object) },
        ),
      );
    }
    const match = this.#matcher(def, options.labelSelector, options.fieldSelector);
    const key = storageKey(def);
    const ns = def.namespaced ? namespace : '';
    const shared = options.shared === true;
    const inScope = (obj: JsonObject) => ns === '' || str(metaOf(obj).namespace) === ns;
    const deliver = (e: StoreEvent) => {
      if (e.resource !== key || !inScope(e.object)) return;
      const now = match(e.object);
      const before = e.previous !== undefined && match(e.previous);
      let type: WatchEventType | undefined;
      if (e.type === 'ADDED') type = now ? 'ADDED' : undefined;
      else if (e.type === 'DELETED') type = before || now ? 'DELETED' : undefined;
      else if (now && before) type = 'MODIFIED';
      else if (now) type = 'ADDED';
      else if (before) type = 'DELETED';
      if (type === undefined) return;
      send({ type, object: shared ? e.object : this.#withType(def, clone(e.object)) });
    };
    const rvText = options.resourceVersion ?? '';
    const initial = rvText === '' || rvText === '0' || options.sendInitialEvents === true;
    let replay: StoreEvent[] = [];
    if (!initial) {
      const rv = Number(rvText);
      if (!Number.isInteger(rv)) throw badRequest(`invalid resource version: ${rvText}`);
      replay = this.store.since(key, rv);
    }
    if (initial) {
      for (const obj of this.store.listShared(key, ns))
        if (match(obj)) send({ type: 'ADDED', object: shared ? obj : this.#withType(def, clone(obj)) });
      if (options.sendInitialEvents === true && options.allowWatchBookmarks === true) {
        send(this.bookmark(def, { 'k8s.io/initial-events-end': 'true' }));
      }
    } else {
      for (const e of replay) deliver(e);
    }
    return this.store.subscribe(deliver);
  }

  /** A BOOKMARK event object at the current revision. */
  bookmark(resource: ResourceName, annotations?: Record<string, string>): WatchEvent {
    const def = this.resource(resource);
    return {
      type: 'BOOKMARK',
      object: {
        kind: def.kind,
        apiVersion: apiVersionOf(def),
        metadata: {
          resourceVersion: String(this.store.revision),
          ...(annotations === undefined ? {} : { annotations }),
        },
      },
    };
  }
}
