/**
 * The HTTPS face: kube-apiserver's URL layout, bearer-token authentication, content
 * negotiation (JSON, `as=Table`, `as=PartialObjectMetadata`), watch streams, discovery,
 * OpenAPI, health endpoints and a kubeconfig for the `devcluster` context.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { BerthError } from '@berth/core';
import { createServingCertificates } from './certificates.ts';
import {
  apiGroup,
  apiGroupList,
  apiResourceList,
  apiVersions,
  openApiDocumentFor,
  openApiIndex,
  versionInfo,
} from './discovery.ts';
import {
  type DeleteOptions,
  type FieldValidation,
  KubeApi,
  type KubeApiOptions,
  type ListOptions,
  type PatchType,
  type PropagationPolicy,
  validateApiOptions,
  type WatchEvent,
  type WriteOptions,
} from './kube-api.ts';
import { isObject, type Json, type JsonObject } from './patch.ts';
import { loadState, persistStore, saveIdentity } from './persistence.ts';
import { decodeKubeProtobuf } from './protobuf.ts';
import { apiVersionOf, RESOURCES, type ResourceDef } from './resources.ts';
import {
  badRequest,
  KubeStatusError,
  methodNotAllowed,
  notFound,
  pathNotFound,
  successStatus,
  unauthorized,
  unsupportedMediaType,
} from './status.ts';
import { metaOf } from './versioned-store.ts';

/** Usage of one node, as metrics-server reports it. */
export interface NodeMetricsSample {
  readonly name: string;
  /** e.g. `{ cpu: '250m', memory: '512Mi' }` */
  readonly usage: Readonly<Record<string, string>>;
}

/** Usage of one pod's containers. */
export interface PodMetricsSample {
  readonly namespace: string;
  readonly name: string;
  readonly containers: readonly { readonly name: string; readonly usage: Readonly<Record<string, string>> }[];
}

/** Supplies metrics.k8s.io data (the engine plugs in here); the default reports nothing. */
export type MetricsProvider = () => {
  readonly nodes: readonly NodeMetricsSample[];
  readonly pods: readonly PodMetricsSample[];
};

export interface PodLogRequest {
  readonly namespace: string;
  readonly pod: JsonObject;
  readonly container: string;
  readonly follow: boolean;
  readonly tailLines?: number;
  readonly previous: boolean;
  readonly timestamps: boolean;
  readonly signal: AbortSignal;
}

/**
 * Supplies `pods/log` (the virtual kubelet plugs in here). Return chunks of the log; with
 * `follow`, keep yielding until `signal` aborts. Without a provider the endpoint answers 400.
 */
export type PodLogProvider = (request: PodLogRequest) => AsyncIterable<string | Uint8Array>;

export interface KubeApiServerOptions extends KubeApiOptions {
  /** TCP port (default 0: an ephemeral port). */
  readonly port?: number;
  /** Bind address (default 127.0.0.1). */
  readonly host?: string;
  /**
   * Where the kubeconfig and CA are written. When given, the objects, token and certificates are
   * also kept there and reloaded on the next start (default: a new temporary directory, removed
   * on close, nothing kept).
   */
  readonly stateDir?: string;
  /** Bearer token clients must send (default: 32 random bytes, hex). */
  readonly token?: string;
  /** metrics.k8s.io data source. */
  readonly metrics?: MetricsProvider;
  /** pods/log data source. */
  readonly podLogs?: PodLogProvider;
  /** Interval of BOOKMARK events on watches that allow them (default 5000 ms). */
  readonly bookmarkIntervalMs?: number;
}

export interface KubeApiServer {
  /** `https://127.0.0.1:<port>` */
  readonly url: string;
  readonly caPem: string;
  readonly token: string;
  /** The kubeconfig written at start (context `devcluster`). */
  readonly kubeconfigPath: string;
  /** Write another copy of the kubeconfig (JSON, which kubectl and client-node read as YAML). */
  writeKubeconfig(path: string): Promise<void>;
  /** The API itself, for in-process reads and writes with the same semantics as HTTP. */
  readonly store: KubeApi;
  /** Compact history and end every open watch with a 410 Expired ERROR event (clients relist). */
  expireWatches(): void;
  close(): Promise<void>;
}

const HEALTH_PATHS: ReadonlySet<string> = new Set([
  '/healthz',
  '/livez',
  '/readyz',
  '/healthz/ping',
  '/livez/ping',
  '/readyz/ping',
]);
const MAX_BODY_BYTES = 3 * 1024 * 1024;
const PROTOBUF = 'application/vnd.kubernetes.protobuf';

interface Route {
  readonly def: ResourceDef;
  readonly namespace: string;
  readonly name: string | undefined;
  readonly subresource: string | undefined;
  readonly legacyWatch: boolean;
}

function parseRoute(segments: readonly string[]): Route | undefined {
  let group: string;
  let version: string;
  let rest: string[];
  if (segments[0] === 'api' && segments.length >= 2) {
    group = '';
    version = segments[1]!;
    rest = segments.slice(2);
  } else if (segments[0] === 'apis' && segments.length >= 3) {
    group = segments[1]!;
    version = segments[2]!;
    rest = segments.slice(3);
  } else {
    return undefined;
  }
  const legacyWatch = rest[0] === 'watch';
  if (legacyWatch) rest = rest.slice(1);
  const defs = RESOURCES.filter((r) => r.group === group && r.version === version);
  let namespace = '';
  if (
    rest[0] === 'namespaces' &&
    rest.length >= 3 &&
    defs.some((d) => d.namespaced && d.plural === rest[2])
  ) {
    namespace = rest[1]!;
    rest = rest.slice(2);
  }
  const def = defs.find((d) => d.plural === rest[0]);
  if (def === undefined || rest.length > 3) return undefined;
  if (namespace !== '' && !def.namespaced) return undefined;
  return { def, namespace, name: rest[1], subresource: rest[2], legacyWatch };
}

function tokenMatches(expected: string, header: string | undefined): boolean {
  if (header === undefined) return false;
  const match = /^Bearer\s+(.+)$/i.exec(header.trim());
  if (!match) return false;
  const a = Buffer.from(match[1]!);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function sendJson(res: ServerResponse, code: number, body: Json, warnings: readonly string[] = []): void {
  const text = JSON.stringify(body);
  const headers: Record<string, string | string[]> = {
    'Content-Type': 'application/json',
    'Cache-Control': 'no-cache, private',
  };
  if (warnings.length > 0) headers.Warning = warnings.map((w) => `299 - ${JSON.stringify(w)}`);
  res.writeHead(code, headers);
  res.end(text);
}

function sendError(res: ServerResponse, error: unknown): void {
  const status =
    error instanceof KubeStatusError
      ? error
      : new KubeStatusError(
          500,
          'InternalError',
          `Internal error occurred: ${error instanceof Error ? error.message : String(error)}`,
        );
  if (res.headersSent) {
    res.end();
    return;
  }
  sendJson(res, status.code, status.toStatus() as unknown as Json);
}

/**
 * A body whose declared length is within the limit (Node's parser holds the client to it): plain
 * listeners, cheaper than an async iterator on every small write of a busy client.
 */
function readAll(req: IncomingMessage): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let ended = false;
    if (req.readableEnded) return resolve(chunks);
    if (req.destroyed) return reject(new Error('the request was closed before its body was read'));
    req.on('data', (c: Buffer) => chunks.push(c));
    req.once('end', () => {
      ended = true;
      resolve(chunks);
    });
    req.once('error', reject);
    req.once('close', () => {
      if (!ended) reject(new Error('the client closed the request before its body was read'));
    });
  });
}

/** A body of unknown length, refused with 413 as soon as it passes the limit. */
async function readLimited(req: IncomingMessage): Promise<Buffer[]> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const b = chunk as Buffer;
    size += b.length;
    if (size > MAX_BODY_BYTES)
      throw new KubeStatusError(413, 'RequestEntityTooLarge', 'Request entity too large: limit is 3145728');
    chunks.push(b);
  }
  return chunks;
}

async function readBody(req: IncomingMessage): Promise<Json> {
  const contentType = (req.headers['content-type'] ?? '').split(';')[0]!.trim();
  const protobuf = contentType === PROTOBUF;
  if (contentType !== '' && !contentType.endsWith('json') && !protobuf) {
    // Drain the body so the connection stays usable, then refuse (YAML and other bodies).
    for await (const _ of req) {
      // discard
    }
    throw unsupportedMediaType(contentType);
  }
  const declared = Number(req.headers['content-length']);
  const chunks =
    Number.isInteger(declared) && declared <= MAX_BODY_BYTES ? await readAll(req) : await readLimited(req);
  if (protobuf) {
    const raw = Buffer.concat(chunks);
    return raw.length === 0 ? null : decodeKubeProtobuf(raw);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '') return null;
  try {
    return JSON.parse(text) as Json;
  } catch (error) {
    throw badRequest(`the body of the request could not be decoded as JSON: ${(error as Error).message}`);
  }
}

type Rendering = { readonly as: 'Table' | 'PartialObjectMetadata' | 'PartialObjectMetadataList' } | undefined;

function rendering(accept: string | undefined): Rendering {
  if (accept === undefined) return undefined;
  for (const part of accept.split(',')) {
    const params = new Map(
      part
        .split(';')
        .slice(1)
        .map((p) => p.trim().split('=') as [string, string]),
    );
    const as = params.get('as');
    if (
      (as === 'Table' || as === 'PartialObjectMetadata' || as === 'PartialObjectMetadataList') &&
      params.get('g') === 'meta.k8s.io'
    ) {
      return { as };
    }
    if (as === undefined && /application\/json|\*\/\*/.test(part)) return undefined;
  }
  return undefined;
}

/**
 * Stored object → its JSON with `apiVersion` and `kind`, made once however many watches send it
 * (stored objects never change, so an entry stays right for as long as the object lives).
 */
const serialized = new WeakMap<JsonObject, { readonly def: ResourceDef; readonly json: string }>();

function objectJson(def: ResourceDef, obj: JsonObject): string {
  const hit = serialized.get(obj);
  if (hit !== undefined && hit.def === def) return hit.json;
  const json = JSON.stringify({ apiVersion: apiVersionOf(def), kind: def.kind, ...obj });
  serialized.set(obj, { def, json });
  return json;
}

function partialMetadata(obj: JsonObject): JsonObject {
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: metaOf(obj) };
}

function toTable(
  def: ResourceDef,
  items: JsonObject[],
  includeObject: string,
  listMeta: JsonObject,
  withColumns: boolean,
): JsonObject {
  const now = Date.now();
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: listMeta,
    ...(withColumns ? { columnDefinitions: def.table.columns as unknown as Json } : {}),
    rows: items.map((obj) => ({
      cells: def.table.cells(obj, now),
      ...(includeObject === 'None'
        ? {}
        : {
            object:
              includeObject === 'Object'
                ? { apiVersion: apiVersionOf(def), kind: def.kind, ...obj }
                : partialMetadata(obj),
          }),
    })),
  };
}

function listBody(def: ResourceDef, items: JsonObject[], meta: JsonObject): JsonObject {
  return {
    kind: `${def.kind}List`,
    apiVersion: apiVersionOf(def),
    metadata: meta,
    // Stored objects carry no apiVersion/kind (typed lists omit them per item, as the apiserver does).
    items: items.map((o) => {
      if (o.apiVersion === undefined && o.kind === undefined) return o;
      const copy = { ...o };
      delete copy.apiVersion;
      delete copy.kind;
      return copy;
    }),
  };
}

function patchTypeOf(contentType: string | undefined): PatchType {
  const t = (contentType ?? '').split(';')[0]!.trim();
  if (t === 'application/json-patch+json') return 'json';
  if (t === 'application/merge-patch+json') return 'merge';
  if (t === 'application/strategic-merge-patch+json') return 'strategic';
  throw unsupportedMediaType(t);
}

function intParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n))
    throw badRequest(`invalid value for ${name}: ${JSON.stringify(v)}: must be an integer`);
  return n;
}

function boolParam(q: URLSearchParams, name: string): boolean {
  const v = q.get(name);
  return v === '1' || v === 'true';
}

function writeOptions(q: URLSearchParams, subresource?: 'status'): WriteOptions {
  const dry = q.getAll('dryRun');
  if (dry.some((d) => d !== 'All'))
    throw badRequest(`Invalid dryRun value: ${JSON.stringify(dry)}: supported values: "All"`);
  const fv = q.get('fieldValidation');
  if (fv !== null && !['Strict', 'Warn', 'Ignore'].includes(fv)) {
    throw badRequest(`fieldValidation must be one of Ignore, Warn, or Strict, got ${JSON.stringify(fv)}`);
  }
  return {
    ...(dry.length > 0 ? { dryRun: true } : {}),
    ...(fv === null ? {} : { fieldValidation: fv as FieldValidation }),
    ...(subresource === undefined ? {} : { subresource }),
  };
}

function listOptions(q: URLSearchParams): ListOptions {
  const rvm = q.get('resourceVersionMatch');
  const limit = intParam(q, 'limit');
  return {
    ...(q.get('labelSelector') ? { labelSelector: q.get('labelSelector')! } : {}),
    ...(q.get('fieldSelector') ? { fieldSelector: q.get('fieldSelector')! } : {}),
    ...(limit === undefined ? {} : { limit }),
    ...(q.get('continue') ? { continue: q.get('continue')! } : {}),
    ...(q.get('resourceVersion') !== null ? { resourceVersion: q.get('resourceVersion')! } : {}),
    ...(rvm === 'Exact' || rvm === 'NotOlderThan' ? { resourceVersionMatch: rvm } : {}),
  };
}

function deleteOptions(q: URLSearchParams, body: Json): DeleteOptions {
  const b: JsonObject = isObject(body) ? body : {};
  const grace =
    intParam(q, 'gracePeriodSeconds') ??
    (typeof b.gracePeriodSeconds === 'number' ? b.gracePeriodSeconds : undefined);
  let policy =
    q.get('propagationPolicy') ?? (typeof b.propagationPolicy === 'string' ? b.propagationPolicy : undefined);
  if (policy === undefined && (q.get('orphanDependents') === 'true' || b.orphanDependents === true))
    policy = 'Orphan';
  if (policy !== undefined && !['Orphan', 'Background', 'Foreground'].includes(policy)) {
    throw badRequest(
      `propagationPolicy: Unsupported value: "${policy}": supported values: "Foreground", "Background", "Orphan"`,
    );
  }
  const pre = isObject(b.preconditions) ? b.preconditions : {};
  const dry = q.getAll('dryRun').length > 0 || (Array.isArray(b.dryRun) && b.dryRun.includes('All'));
  return {
    ...(grace === undefined ? {} : { gracePeriodSeconds: grace }),
    ...(policy === undefined ? {} : { propagationPolicy: policy as PropagationPolicy }),
    ...(typeof pre.uid === 'string' || typeof pre.resourceVersion === 'string'
      ? {
          preconditions: {
            ...(typeof pre.uid === 'string' ? { uid: pre.uid } : {}),
            ...(typeof pre.resourceVersion === 'string' ? { resourceVersion: pre.resourceVersion } : {}),
          },
        }
      : {}),
    ...(dry ? { dryRun: true } : {}),
  };
}

interface OpenWatch {
  readonly expire: (status: JsonObject) => void;
}

/** Start the Kubernetes face on HTTPS and write its kubeconfig. */
export async function startKubeApiServer(options: KubeApiServerOptions = {}): Promise<KubeApiServer> {
  const host = options.host ?? '127.0.0.1';
  const port0 = options.port ?? 0;
  if (!Number.isInteger(port0) || port0 < 0 || port0 > 65535) {
    throw new BerthError(
      'SPEC_INVALID',
      `startKubeApiServer: \`port\` is ${JSON.stringify(options.port)}: expected 0-65535`,
      {
        component: 'devcluster',
        hint: 'pass port: 0 (or leave it out) for an ephemeral port',
      },
    );
  }
  const bookmarkMs0 = options.bookmarkIntervalMs;
  if (bookmarkMs0 !== undefined && (!Number.isFinite(bookmarkMs0) || bookmarkMs0 <= 0)) {
    throw new BerthError(
      'SPEC_INVALID',
      `startKubeApiServer: \`bookmarkIntervalMs\` is ${JSON.stringify(bookmarkMs0)}: expected milliseconds > 0`,
      { component: 'devcluster', hint: 'leave it out for the default of 5000 ms' },
    );
  }
  validateApiOptions(options);
  const persisted = options.stateDir === undefined ? {} : await loadState(options.stateDir);
  const token = options.token ?? persisted.token ?? randomBytes(32).toString('hex');
  if (token.trim() === '' || /\s/.test(token)) {
    throw new BerthError(
      'SPEC_INVALID',
      'startKubeApiServer: `token` must be a non-empty string without spaces',
      {
        component: 'devcluster',
        hint: 'omit `token` to generate one',
      },
    );
  }
  const hosts = [host, '127.0.0.1', 'localhost'].filter((h, i, a) => a.indexOf(h) === i);
  const certs =
    persisted.serving !== undefined && persisted.serving.hosts.join(',') === hosts.join(',')
      ? persisted.serving
      : await createServingCertificates(hosts);
  const api = new KubeApi(
    persisted.store === undefined ? options : { ...options, initialState: persisted.store },
  );
  const bookmarkMs = options.bookmarkIntervalMs ?? 5000;
  const watches = new Set<OpenWatch>();
  let serverAddress = `${host}:0`;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'https://devcluster');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    if (HEALTH_PATHS.has(path)) {
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('ok');
      return;
    }
    if (!tokenMatches(token, req.headers.authorization)) throw unauthorized();
    const method = req.method ?? 'GET';
    const q = url.searchParams;
    const segments = path.split('/').filter((s) => s !== '');
    if (method === 'GET') {
      const doc = discoveryDocument(path, segments);
      if (doc !== undefined) {
        sendJson(res, 200, doc);
        return;
      }
    }
    const route = parseRoute(segments);
    if (route === undefined) throw pathNotFound();
    await handleResource(route, method, q, req, res);
  };

  const discoveryDocument = (path: string, segments: string[]): Json | undefined => {
    if (path === '/version') return versionInfo();
    if (path === '/api') return apiVersions(serverAddress);
    if (path === '/apis') return apiGroupList();
    if (path === '/openapi/v3') return openApiIndex();
    if (segments[0] === 'openapi' && segments[1] === 'v3') {
      const doc = openApiDocumentFor(segments.slice(2).join('/'));
      if (doc === undefined) throw pathNotFound();
      return doc;
    }
    if (segments[0] === 'api' && segments.length === 2)
      return apiResourceList({ group: '', version: segments[1]! });
    if (segments[0] === 'apis' && segments.length === 2) return apiGroup(segments[1]!);
    if (segments[0] === 'apis' && segments.length === 3)
      return apiResourceList({ group: segments[1]!, version: segments[2]! });
    return undefined;
  };

  const handleResource = async (
    route: Route,
    method: string,
    q: URLSearchParams,
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<void> => {
    const { def, namespace, name, subresource } = route;
    const view = rendering(req.headers.accept);
    const includeObject = q.get('includeObject') ?? 'Metadata';
    const allowed = (verb: string) => {
      if (!def.verbs.includes(verb)) throw methodNotAllowed();
    };
    if (def.readOnly) {
      if (method !== 'GET') throw methodNotAllowed();
      sendJson(res, 200, metricsResponse(def, namespace, name, q));
      return;
    }
    if (name === undefined) {
      if (method === 'GET') {
        const watching = route.legacyWatch || boolParam(q, 'watch');
        allowed(watching ? 'watch' : 'list');
        if (watching) {
          streamWatch(def, namespace, q, view, includeObject, req, res);
          return;
        }
        const result = api.listReadonly(def, namespace, listOptions(q));
        const meta: JsonObject = {
          resourceVersion: result.resourceVersion,
          ...(result.continue === undefined ? {} : { continue: result.continue }),
          ...(result.remainingItemCount === undefined
            ? {}
            : { remainingItemCount: result.remainingItemCount }),
        };
        if (view?.as === 'Table') sendJson(res, 200, toTable(def, result.items, includeObject, meta, true));
        else if (view?.as === 'PartialObjectMetadataList') {
          sendJson(res, 200, {
            kind: 'PartialObjectMetadataList',
            apiVersion: 'meta.k8s.io/v1',
            metadata: meta,
            items: result.items.map(partialMetadata),
          });
        } else sendJson(res, 200, listBody(def, result.items, meta));
        return;
      }
      if (method === 'POST') {
        allowed('create');
        const body = await readBody(req);
        const result = api.createWithWarnings(def, namespace, body, writeOptions(q));
        sendJson(res, 201, result.object, result.warnings);
        return;
      }
      if (method === 'DELETE') {
        allowed('deletecollection');
        const body = await readBody(req);
        const deleted = api.deleteCollection(def, namespace, listOptions(q), deleteOptions(q, body));
        sendJson(res, 200, listBody(def, deleted, { resourceVersion: String(api.store.revision) }));
        return;
      }
      throw methodNotAllowed();
    }
    if (subresource === undefined) {
      switch (method) {
        case 'GET': {
          allowed('get');
          const obj = api.get(def, namespace, name);
          if (view?.as === 'Table')
            sendJson(
              res,
              200,
              toTable(
                def,
                [obj],
                includeObject,
                { resourceVersion: String(metaOf(obj).resourceVersion) },
                true,
              ),
            );
          else if (view?.as === 'PartialObjectMetadata') sendJson(res, 200, partialMetadata(obj));
          else sendJson(res, 200, obj);
          return;
        }
        case 'PUT': {
          allowed('update');
          const result = api.updateWithWarnings(def, namespace, name, await readBody(req), writeOptions(q));
          sendJson(res, 200, result.object, result.warnings);
          return;
        }
        case 'PATCH': {
          allowed('patch');
          const type = patchTypeOf(req.headers['content-type']);
          const result = api.patchWithWarnings(
            def,
            namespace,
            name,
            type,
            await readBody(req),
            writeOptions(q),
          );
          sendJson(res, 200, result.object, result.warnings);
          return;
        }
        case 'DELETE': {
          allowed('delete');
          const result = api.delete(def, namespace, name, deleteOptions(q, await readBody(req)));
          sendJson(res, result.removed ? 200 : 202, result.object);
          return;
        }
        default:
          throw methodNotAllowed();
      }
    }
    if (!def.subresources.includes(subresource as never)) throw pathNotFound();
    switch (subresource) {
      case 'status': {
        if (method === 'GET') {
          sendJson(res, 200, api.get(def, namespace, name));
          return;
        }
        if (method === 'PUT') {
          sendJson(
            res,
            200,
            api.update(def, namespace, name, await readBody(req), writeOptions(q, 'status')),
          );
          return;
        }
        if (method === 'PATCH') {
          const type = patchTypeOf(req.headers['content-type']);
          sendJson(
            res,
            200,
            api.patch(def, namespace, name, type, await readBody(req), writeOptions(q, 'status')),
          );
          return;
        }
        throw methodNotAllowed();
      }
      case 'scale': {
        if (method === 'GET') sendJson(res, 200, api.getScale(def, namespace, name));
        else if (method === 'PUT')
          sendJson(
            res,
            200,
            api.updateScale(def, namespace, name, await readBody(req), undefined, writeOptions(q)),
          );
        else if (method === 'PATCH') {
          const type = patchTypeOf(req.headers['content-type']);
          sendJson(
            res,
            200,
            api.updateScale(def, namespace, name, await readBody(req), type, writeOptions(q)),
          );
        } else throw methodNotAllowed();
        return;
      }
      case 'binding': {
        if (method !== 'POST') throw methodNotAllowed();
        api.bind(namespace, name, await readBody(req), writeOptions(q));
        sendJson(res, 201, successStatus(201) as unknown as Json);
        return;
      }
      case 'eviction': {
        if (method !== 'POST') throw methodNotAllowed();
        api.evict(namespace, name, await readBody(req), writeOptions(q));
        sendJson(res, 201, successStatus(201) as unknown as Json);
        return;
      }
      case 'log': {
        if (method !== 'GET') throw methodNotAllowed();
        await streamLogs(namespace, name, q, req, res);
        return;
      }
    }
    throw pathNotFound();
  };

  const metricsResponse = (
    def: ResourceDef,
    namespace: string,
    name: string | undefined,
    q: URLSearchParams,
  ): Json => {
    const data = options.metrics?.() ?? { nodes: [], pods: [] };
    const timestamp = `${new Date().toISOString().slice(0, 19)}Z`;
    const items: JsonObject[] =
      def.kind === 'NodeMetrics'
        ? data.nodes.map((n) => ({
            metadata: { name: n.name, creationTimestamp: timestamp },
            timestamp,
            window: '10s',
            usage: { ...n.usage },
          }))
        : data.pods
            .filter((p) => namespace === '' || p.namespace === namespace)
            .map((p) => ({
              metadata: { name: p.name, namespace: p.namespace, creationTimestamp: timestamp },
              timestamp,
              window: '10s',
              containers: p.containers.map((c) => ({ name: c.name, usage: { ...c.usage } })),
            }));
    if (name !== undefined) {
      const found = items.find((i) => metaOf(i).name === name);
      if (found === undefined) throw notFound(def, name);
      return { kind: def.kind, apiVersion: apiVersionOf(def), ...found };
    }
    // metrics-server selects by the labels of the pods/nodes the samples belong to.
    const selector = q.get('labelSelector');
    let selected = items;
    if (selector) {
      const source = def.kind === 'NodeMetrics' ? 'nodes' : 'pods';
      const keep = new Set(
        api
          .listReadonly(source, namespace, { labelSelector: selector })
          .items.map((o) => `${String(metaOf(o).namespace ?? '')}/${String(metaOf(o).name)}`),
      );
      selected = items.filter((i) =>
        keep.has(`${String(metaOf(i).namespace ?? '')}/${String(metaOf(i).name)}`),
      );
    }
    return { kind: `${def.kind}List`, apiVersion: apiVersionOf(def), metadata: {}, items: selected };
  };

  const streamLogs = async (
    namespace: string,
    name: string,
    q: URLSearchParams,
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<void> => {
    const pod = api.get('pods', namespace, name);
    const spec = isObject(pod.spec) ? pod.spec : {};
    const containers = (Array.isArray(spec.containers) ? spec.containers : [])
      .map((c) => (isObject(c) && typeof c.name === 'string' ? c.name : ''))
      .filter((c) => c !== '');
    let container = q.get('container') ?? '';
    if (container === '') {
      if (containers.length !== 1) {
        throw badRequest(
          `a container name must be specified for pod ${name}, choose one of: [${containers.join(' ')}]`,
        );
      }
      container = containers[0]!;
    } else if (!containers.includes(container)) {
      throw badRequest(`container ${container} is not valid for pod ${name}`);
    }
    if (typeof spec.nodeName !== 'string' || spec.nodeName === '') {
      throw badRequest(`pod ${name} does not have a host assigned`);
    }
    if (options.podLogs === undefined) {
      throw badRequest(
        `container "${container}" in pod "${name}" is not available: node "${spec.nodeName}" has no kubelet attached to devcluster yet`,
      );
    }
    const abort = new AbortController();
    req.on('close', () => abort.abort());
    const tail = intParam(q, 'tailLines');
    const stream = options.podLogs({
      namespace,
      pod,
      container,
      follow: boolParam(q, 'follow'),
      ...(tail === undefined ? {} : { tailLines: tail }),
      previous: boolParam(q, 'previous'),
      timestamps: boolParam(q, 'timestamps'),
      signal: abort.signal,
    });
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Transfer-Encoding': 'chunked' });
    for await (const chunk of stream) {
      if (abort.signal.aborted) break;
      res.write(chunk);
    }
    res.end();
  };

  const streamWatch = (
    def: ResourceDef,
    namespace: string,
    q: URLSearchParams,
    view: Rendering,
    includeObject: string,
    req: IncomingMessage,
    res: ServerResponse,
  ): void => {
    const asTable = view?.as === 'Table';
    let first = true;
    const encode = (event: WatchEvent): string => {
      let object: Json = event.object;
      if (view === undefined && event.type !== 'ERROR' && event.type !== 'BOOKMARK')
        return `{"type":"${event.type}","object":${objectJson(def, event.object)}}\n`;
      if (asTable && (event.type === 'ADDED' || event.type === 'MODIFIED' || event.type === 'DELETED')) {
        object = toTable(
          def,
          [event.object],
          includeObject,
          { resourceVersion: String(metaOf(event.object).resourceVersion) },
          first,
        );
        first = false;
      } else if (
        view?.as === 'PartialObjectMetadata' &&
        event.type !== 'ERROR' &&
        event.type !== 'BOOKMARK'
      ) {
        object = partialMetadata(event.object);
      }
      return `${JSON.stringify({ type: event.type, object })}\n`;
    };
    const allowBookmarks = boolParam(q, 'allowWatchBookmarks');
    const timeoutSeconds = intParam(q, 'timeoutSeconds');
    let closed = false;
    let unsubscribe = () => {};
    const timers: ReturnType<typeof setTimeout>[] = [];
    // Events are gathered and written once per turn of the event loop: one chunk (one TLS record,
    // one syscall) for all the changes the requests of that turn made, not one per event.
    let pending = '';
    let flushing: ReturnType<typeof setImmediate> | undefined;
    const flush = () => {
      flushing = undefined;
      if (pending === '' || res.writableEnded || res.destroyed) return;
      const text = pending;
      pending = '';
      res.write(text);
    };
    const push = (line: string) => {
      pending += line;
      flushing ??= setImmediate(flush);
    };
    const finish = () => {
      if (closed) return;
      closed = true;
      unsubscribe();
      for (const t of timers) clearTimeout(t);
      if (flushing !== undefined) clearImmediate(flushing);
      flush();
      watches.delete(handle);
      res.end();
    };
    const handle: OpenWatch = {
      expire: (status) => {
        if (closed) return;
        push(`${JSON.stringify({ type: 'ERROR', object: status })}\n`);
        finish();
      },
    };
    res.writeHead(200, {
      'Content-Type': 'application/json',
      'Cache-Control': 'no-cache, private',
      'Transfer-Encoding': 'chunked',
    });
    res.flushHeaders();
    const lo = listOptions(q);
    try {
      unsubscribe = api.watch(
        def,
        namespace,
        {
          ...(lo.resourceVersion === undefined ? {} : { resourceVersion: lo.resourceVersion }),
          ...(lo.labelSelector === undefined ? {} : { labelSelector: lo.labelSelector }),
          ...(lo.fieldSelector === undefined ? {} : { fieldSelector: lo.fieldSelector }),
          allowWatchBookmarks: allowBookmarks,
          sendInitialEvents: boolParam(q, 'sendInitialEvents'),
          shared: true,
        },
        (event) => {
          if (!closed) push(encode(event));
        },
      );
    } catch (error) {
      if (error instanceof KubeStatusError) {
        handle.expire(error.toStatus() as unknown as JsonObject);
        return;
      }
      throw error;
    }
    watches.add(handle);
    if (allowBookmarks) {
      const tick = () => {
        if (closed) return;
        push(encode(api.bookmark(def)));
        timers.push(setTimeout(tick, bookmarkMs));
      };
      timers.push(setTimeout(tick, bookmarkMs));
    }
    if (timeoutSeconds !== undefined && timeoutSeconds > 0)
      timers.push(setTimeout(finish, timeoutSeconds * 1000));
    req.on('close', finish);
    res.on('close', finish);
  };

  const server: Server = createServer({ cert: certs.certPem, key: certs.keyPem }, (req, res) => {
    handle(req, res).catch((error: unknown) => sendError(res, error));
  });
  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      api.close();
      reject(
        new BerthError(
          'SPEC_INVALID',
          `startKubeApiServer: cannot listen on ${host}:${port0}: ${error.code ?? error.message}`,
          {
            component: 'devcluster',
            hint:
              error.code === 'EADDRINUSE'
                ? 'choose another `port`, or 0 for an ephemeral one'
                : 'check `host` and `port`',
            cause: error,
          },
        ),
      );
    };
    server.once('error', onError);
    server.listen(port0, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  const url = `https://${urlHost}:${port}`;
  serverAddress = `${urlHost}:${port}`;

  // The `kubernetes` service and its endpoints point at this server (re-pointed after a restart).
  const upsert = (resource: string, body: JsonObject) => {
    try {
      api.create(resource, 'default', body);
    } catch (error) {
      if (!(error instanceof KubeStatusError && error.code === 409)) throw error;
      api.patch(resource, 'default', 'kubernetes', 'merge', body);
    }
  };
  upsert('services', {
    metadata: { name: 'kubernetes', labels: { component: 'apiserver', provider: 'kubernetes' } },
    spec: { ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: port }] },
  });
  upsert('endpoints', {
    metadata: { name: 'kubernetes', labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' } },
    subsets: [
      {
        addresses: [{ ip: host === '0.0.0.0' ? '127.0.0.1' : host }],
        ports: [{ name: 'https', port, protocol: 'TCP' }],
      },
    ],
  });

  const kubeconfig = JSON.stringify(
    {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        {
          name: 'devcluster',
          cluster: { server: url, 'certificate-authority-data': Buffer.from(certs.caPem).toString('base64') },
        },
      ],
      users: [{ name: 'devcluster', user: { token } }],
      contexts: [
        { name: 'devcluster', context: { cluster: 'devcluster', user: 'devcluster', namespace: 'default' } },
      ],
      'current-context': 'devcluster',
      preferences: {},
    },
    null,
    2,
  );
  const writeKubeconfig = async (target: string) => {
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, `${kubeconfig}\n`, { mode: 0o600 });
  };
  const stateDir = options.stateDir ?? (await mkdtemp(join(tmpdir(), 'devcluster-kube-')));
  await mkdir(stateDir, { recursive: true });
  const kubeconfigPath = join(stateDir, 'kubeconfig');
  await writeKubeconfig(kubeconfigPath);
  await writeFile(join(stateDir, 'ca.crt'), certs.caPem);
  const saver = options.stateDir === undefined ? undefined : persistStore(stateDir, api.store);
  if (saver !== undefined) {
    await saveIdentity(stateDir, token, {
      hosts,
      caPem: certs.caPem,
      certPem: certs.certPem,
      keyPem: certs.keyPem,
    });
    await saver.flush();
  }

  return {
    url,
    caPem: certs.caPem,
    token,
    kubeconfigPath,
    writeKubeconfig,
    store: api,
    expireWatches() {
      api.store.compact();
      const status = new KubeStatusError(
        410,
        'Expired',
        `too old resource version: the watch window was compacted at ${api.store.revision}`,
      );
      for (const w of [...watches]) w.expire(status.toStatus() as unknown as JsonObject);
    },
    async close() {
      api.close();
      if (saver !== undefined) {
        await saver.flush();
        saver.stop();
      }
      for (const w of [...watches])
        w.expire(
          new KubeStatusError(
            500,
            'InternalError',
            'apiserver is shutting down',
          ).toStatus() as unknown as JsonObject,
        );
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (options.stateDir === undefined) await rm(stateDir, { recursive: true, force: true });
    },
  };
}
