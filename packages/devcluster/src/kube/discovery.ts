/**
 * Discovery documents (`/api`, `/apis`, group and group-version resource lists) and the
 * OpenAPI v3 documents kubectl reads: kubectl 1.32 checks each kind's PATCH operation for a
 * `fieldValidation` parameter and, when present, leaves validation to the server.
 */
import type { Json, JsonObject } from './patch.ts';
import { apiVersionOf, RESOURCES, type ResourceDef } from './resources.ts';
import { kindSchema, toOpenApi } from './schema.ts';

export const KUBE_VERSION = { major: '1', minor: '32', gitVersion: 'v1.32.4' } as const;

export interface GroupVersion {
  readonly group: string;
  readonly version: string;
}

export function groupVersions(): GroupVersion[] {
  const seen = new Map<string, GroupVersion>();
  for (const r of RESOURCES) seen.set(apiVersionOf(r), { group: r.group, version: r.version });
  return [...seen.values()];
}

export function resourcesOf(gv: GroupVersion): ResourceDef[] {
  return RESOURCES.filter((r) => r.group === gv.group && r.version === gv.version);
}

export function versionInfo(): JsonObject {
  return {
    major: KUBE_VERSION.major,
    minor: KUBE_VERSION.minor,
    gitVersion: KUBE_VERSION.gitVersion,
    gitCommit: '0000000000000000000000000000000000000000',
    gitTreeState: 'clean',
    buildDate: '2025-04-22T00:00:00Z',
    goVersion: 'go1.23.8',
    compiler: 'gc',
    platform: `${process.platform}/${process.arch === 'x64' ? 'amd64' : process.arch}`,
  };
}

export function apiVersions(serverAddress: string): JsonObject {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

function groupEntry(group: string): JsonObject {
  const versions = groupVersions()
    .filter((gv) => gv.group === group)
    .map((gv) => ({ groupVersion: `${group}/${gv.version}`, version: gv.version }));
  return { name: group, versions, preferredVersion: versions[0] ?? null };
}

export function apiGroupList(): JsonObject {
  const groups = [...new Set(groupVersions().map((gv) => gv.group))].filter((g) => g !== '');
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: groups.map(groupEntry) };
}

export function apiGroup(group: string): JsonObject | undefined {
  if (!groupVersions().some((gv) => gv.group === group && group !== '')) return undefined;
  return { kind: 'APIGroup', apiVersion: 'v1', ...groupEntry(group) };
}

const SUBRESOURCE_VERBS: Readonly<Record<string, readonly string[]>> = {
  status: ['get', 'patch', 'update'],
  scale: ['get', 'patch', 'update'],
  binding: ['create'],
  eviction: ['create'],
  log: ['get'],
};

export function apiResourceList(gv: GroupVersion): JsonObject | undefined {
  const defs = resourcesOf(gv);
  if (defs.length === 0) return undefined;
  const resources: Json[] = [];
  for (const d of defs) {
    resources.push({
      name: d.plural,
      singularName: d.singular,
      namespaced: d.namespaced,
      kind: d.kind,
      verbs: [...d.verbs],
      ...(d.shortNames.length > 0 ? { shortNames: [...d.shortNames] } : {}),
      ...(d.categories.length > 0 ? { categories: [...d.categories] } : {}),
    });
    for (const sub of d.subresources) {
      const kind =
        sub === 'scale' ? 'Scale' : sub === 'binding' ? 'Binding' : sub === 'eviction' ? 'Eviction' : d.kind;
      resources.push({
        name: `${d.plural}/${sub}`,
        singularName: '',
        namespaced: d.namespaced,
        ...(sub === 'scale' ? { group: 'autoscaling', version: 'v1' } : {}),
        ...(sub === 'eviction' ? { group: 'policy', version: 'v1' } : {}),
        kind,
        verbs: [...(SUBRESOURCE_VERBS[sub] ?? [])],
      });
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: apiVersionOf(gv), resources };
}

// ------------------------------------------------------------------ OpenAPI v3

function gvPath(gv: GroupVersion): string {
  return gv.group === '' ? `api/${gv.version}` : `apis/${gv.group}/${gv.version}`;
}

function schemaName(def: ResourceDef): string {
  if (def.group === 'metrics.k8s.io') return `io.k8s.metrics.pkg.apis.metrics.${def.version}.${def.kind}`;
  const short = def.group === '' ? 'core' : def.group.split('.')[0];
  return `io.k8s.api.${short}.${def.version}.${def.kind}`;
}

/** The `/openapi/v3` index: one entry per group version, with a content hash in the URL. */
let index: JsonObject | undefined;

export function openApiIndex(): JsonObject {
  if (index !== undefined) return index;
  const paths: JsonObject = {};
  for (const gv of groupVersions()) {
    const path = gvPath(gv);
    paths[path] = {
      serverRelativeURL: `/openapi/v3/${path}?hash=${hash(JSON.stringify(openApiDocument(gv)))}`,
    };
  }
  index = { paths };
  return index;
}

function hash(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(16).toUpperCase().padStart(8, '0');
}

export function openApiDocumentFor(path: string): JsonObject | undefined {
  const gv = groupVersions().find((g) => gvPath(g) === path);
  return gv === undefined ? undefined : openApiDocument(gv);
}

const queryParam = (name: string, type = 'string'): Json => ({
  name,
  in: 'query',
  schema: { type },
  uniqueItems: true,
});

function operation(def: ResourceDef, action: string, ref: string, extra: Json[] = []): JsonObject {
  return {
    operationId: `${action}${def.kind}`,
    tags: [def.group === '' ? 'core_v1' : `${def.group}_${def.version}`],
    parameters: [...extra],
    responses: {
      '200': { description: 'OK', content: { 'application/json': { schema: { $ref: ref } } } },
      '401': { description: 'Unauthorized' },
    },
    'x-kubernetes-action': action,
    'x-kubernetes-group-version-kind': { group: def.group, version: def.version, kind: def.kind },
  };
}

const documents = new Map<string, JsonObject>();

/** The document of one group version (built once: the served kinds never change at run time). */
function openApiDocument(gv: GroupVersion): JsonObject {
  const key = gvPath(gv);
  let doc = documents.get(key);
  if (doc === undefined) {
    doc = buildOpenApiDocument(gv);
    documents.set(key, doc);
  }
  return doc;
}

function buildOpenApiDocument(gv: GroupVersion): JsonObject {
  const paths: JsonObject = {};
  const schemas: JsonObject = {};
  const writeParams = [queryParam('dryRun'), queryParam('fieldManager'), queryParam('fieldValidation')];
  for (const def of resourcesOf(gv)) {
    const name = schemaName(def);
    const ref = `#/components/schemas/${name}`;
    schemas[name] = {
      ...toOpenApi(kindSchema(def.kind, apiVersionOf(def))),
      description: `${def.kind} (devcluster emulation of ${apiVersionOf(def)})`,
      'x-kubernetes-group-version-kind': [{ group: def.group, version: def.version, kind: def.kind }],
    };
    const base = def.group === '' ? `/api/${def.version}` : `/apis/${def.group}/${def.version}`;
    const collection = def.namespaced
      ? `${base}/namespaces/{namespace}/${def.plural}`
      : `${base}/${def.plural}`;
    const body = { content: { 'application/json': { schema: { $ref: ref } } }, required: true };
    const patchBody = {
      content: Object.fromEntries(
        [
          'application/json-patch+json',
          'application/merge-patch+json',
          'application/strategic-merge-patch+json',
        ].map((t) => [t, { schema: { type: 'object' } }]),
      ),
      required: true,
    };
    const nsParam: Json[] = def.namespaced
      ? [{ name: 'namespace', in: 'path', required: true, schema: { type: 'string' } }]
      : [];
    const nameParam: Json = { name: 'name', in: 'path', required: true, schema: { type: 'string' } };
    const listParams = [
      'labelSelector',
      'fieldSelector',
      'continue',
      'resourceVersion',
      'resourceVersionMatch',
    ].map((p) => queryParam(p));
    const collectionOps: JsonObject = {
      get: operation(def, 'list', ref, [
        ...listParams,
        queryParam('limit', 'integer'),
        queryParam('watch', 'boolean'),
      ]),
      parameters: nsParam,
    };
    if (!def.readOnly)
      collectionOps.post = { ...operation(def, 'post', ref, writeParams), requestBody: body };
    paths[collection] = collectionOps;
    const itemOps: JsonObject = { get: operation(def, 'get', ref), parameters: [...nsParam, nameParam] };
    if (!def.readOnly) {
      itemOps.put = { ...operation(def, 'put', ref, writeParams), requestBody: body };
      itemOps.patch = {
        ...operation(def, 'patch', ref, [...writeParams, queryParam('force', 'boolean')]),
        requestBody: patchBody,
      };
      itemOps.delete = operation(def, 'delete', ref, [
        queryParam('gracePeriodSeconds', 'integer'),
        queryParam('propagationPolicy'),
      ]);
    }
    paths[`${collection}/{name}`] = itemOps;
    if (def.subresources.includes('status')) {
      paths[`${collection}/{name}/status`] = {
        get: operation(def, 'get', ref),
        put: { ...operation(def, 'put', ref, writeParams), requestBody: body },
        patch: { ...operation(def, 'patch', ref, writeParams), requestBody: patchBody },
        parameters: [...nsParam, nameParam],
      };
    }
  }
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: KUBE_VERSION.gitVersion },
    paths,
    components: {
      schemas,
      securitySchemes: { BearerToken: { type: 'apiKey', name: 'authorization', in: 'header' } },
    },
    security: [{ BearerToken: [] }],
  };
}
