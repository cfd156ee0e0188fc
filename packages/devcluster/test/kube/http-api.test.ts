/**
 * The wire contract of the Kubernetes face: Status bodies, watch streams, 410 Expired,
 * pagination, tables, discovery and OpenAPI, plus a client-node informer that survives a 410.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig, makeInformer, type V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type KubeApiServer, startKubeApiServer } from '../../src/index.ts';
import { call, eventually } from './helpers.ts';

let server: KubeApiServer;
let dir: string;

const pod = (name: string, labels: Record<string, string> = {}) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, labels },
  spec: { containers: [{ name: 'c', image: 'busybox' }] },
});

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-kube-http-'));
  server = await startKubeApiServer({
    stateDir: dir,
    retainedEvents: 50,
    bookmarkIntervalMs: 100,
    metrics: () => ({
      nodes: [{ name: 'node-a', usage: { cpu: '250m', memory: '1Gi' } }],
      pods: [
        {
          namespace: 'default',
          name: 'p',
          containers: [{ name: 'c', usage: { cpu: '5m', memory: '10Mi' } }],
        },
      ],
    }),
  });
});

afterAll(async () => {
  await server?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('authentication and health', () => {
  it('answers a missing or wrong token with a 401 Status', async () => {
    for (const token of [null, 'wrong']) {
      const r = await call(server, 'GET', '/api/v1/pods', { token });
      expect(r.status).toBe(401);
      expect(r.json()).toEqual({
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: 'Unauthorized',
        reason: 'Unauthorized',
        code: 401,
      });
    }
  });

  it('serves healthz, livez and readyz without a token', async () => {
    for (const path of ['/healthz', '/livez', '/readyz']) {
      const r = await call(server, 'GET', path, { token: null });
      expect([r.status, r.text]).toEqual([200, 'ok']);
    }
  });

  it('writes a kubeconfig for the devcluster context with CA data and token', async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(server.kubeconfigPath);
    expect(kc.getCurrentContext()).toBe('devcluster');
    expect(kc.getCurrentCluster()?.server).toBe(server.url);
    expect(Buffer.from(kc.getCurrentCluster()?.caData ?? '', 'base64').toString()).toBe(server.caPem);
    expect(kc.getCurrentUser()?.token).toBe(server.token);
  });
});

describe('errors shaped like the apiserver', () => {
  it('answers a create of an existing name with 409 AlreadyExists', async () => {
    expect((await call(server, 'POST', '/api/v1/namespaces/default/pods', { body: pod('dup') })).status).toBe(
      201,
    );
    const r = await call(server, 'POST', '/api/v1/namespaces/default/pods', { body: pod('dup') });
    expect(r.status).toBe(409);
    expect(r.json()).toMatchObject({
      reason: 'AlreadyExists',
      message: 'pods "dup" already exists',
      details: { name: 'dup', kind: 'pods' },
    });
  });

  it('answers a stale resourceVersion with 409 Conflict', async () => {
    const created = (
      await call(server, 'POST', '/api/v1/namespaces/default/pods', { body: pod('stale') })
    ).json();
    const meta = created.metadata as { resourceVersion: string };
    await call(server, 'PATCH', '/api/v1/namespaces/default/pods/stale', {
      body: { metadata: { labels: { a: 'b' } } },
      contentType: 'application/merge-patch+json',
    });
    const r = await call(server, 'PUT', '/api/v1/namespaces/default/pods/stale', { body: created });
    expect(r.status).toBe(409);
    expect(r.json()).toMatchObject({
      reason: 'Conflict',
      message:
        'Operation cannot be fulfilled on pods "stale": the object has been modified; please apply your changes to the latest version and try again',
    });
    expect(Number(meta.resourceVersion)).toBeGreaterThan(0);
  });

  it('answers an invalid object with 422 Invalid and one cause per field', async () => {
    const r = await call(server, 'POST', '/apis/apps/v1/namespaces/default/deployments', {
      body: { metadata: { name: 'Bad_Name' }, spec: { template: { spec: { containers: [{ name: 'c' }] } } } },
    });
    expect(r.status).toBe(422);
    const body = r.json() as { message: string; details: { causes: { field: string; reason: string }[] } };
    expect(body).toMatchObject({
      reason: 'Invalid',
      details: { name: 'Bad_Name', group: 'apps', kind: 'Deployment' },
    });
    expect(body.message).toMatch(
      /^Deployment\.apps "Bad_Name" is invalid: metadata\.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain/,
    );
    expect(body.details.causes.map((c) => [c.field, c.reason])).toEqual([
      ['metadata.name', 'FieldValueInvalid'],
    ]);
    const r2 = await call(server, 'POST', '/apis/apps/v1/namespaces/default/deployments', {
      body: { metadata: { name: 'nosel' }, spec: { template: { spec: { containers: [{ name: 'c' }] } } } },
    });
    const causes = (r2.json() as typeof body).details.causes.map((c) => `${c.field}:${c.reason}`);
    expect(causes).toEqual([
      'spec.selector:FieldValueRequired',
      'spec.template.spec.containers[0].image:FieldValueRequired',
    ]);
  });

  it('answers unknown methods, paths and media types like the apiserver', async () => {
    expect(
      (await call(server, 'POST', '/apis/metrics.k8s.io/v1beta1/nodes', { body: {} })).json(),
    ).toMatchObject({
      code: 405,
      reason: 'MethodNotAllowed',
    });
    expect((await call(server, 'GET', '/api/v1/widgets')).json()).toMatchObject({
      code: 404,
      reason: 'NotFound',
    });
    const yaml = await call(server, 'POST', '/api/v1/namespaces', {
      body: {},
      contentType: 'application/yaml',
    });
    expect(yaml.json()).toMatchObject({ code: 415, reason: 'UnsupportedMediaType' });
    const notProto = await call(server, 'POST', '/api/v1/namespaces', {
      body: {},
      contentType: 'application/vnd.kubernetes.protobuf',
    });
    expect(notProto.json()).toMatchObject({
      code: 400,
      message: 'protobuf body does not start with the k8s\\0 magic prefix',
    });
    expect((await call(server, 'GET', '/api/v1/pods?labelSelector=a%20in%20(')).status).toBe(400);
    expect((await call(server, 'GET', '/api/v1/pods?fieldSelector=spec.bogus%3Dx')).json()).toMatchObject({
      code: 400,
      message: 'field label not supported: spec.bogus',
    });
  });

  it('refuses writes into a missing or terminating namespace (404, 403)', async () => {
    expect(
      (await call(server, 'POST', '/api/v1/namespaces/nope/pods', { body: pod('x') })).json(),
    ).toMatchObject({
      code: 404,
      message: 'namespaces "nope" not found',
    });
    expect((await call(server, 'DELETE', '/api/v1/namespaces/kube-system')).json()).toMatchObject({
      code: 403,
      reason: 'Forbidden',
      message: 'namespaces "kube-system" is forbidden: this namespace may not be deleted',
    });
  });

  it('rejects unknown fields with fieldValidation=Strict and warns with Warn', async () => {
    const body = { ...pod('fv'), spec: { containers: [{ name: 'c', image: 'i', colour: 'red' }] } };
    const strict = await call(server, 'POST', '/api/v1/namespaces/default/pods?fieldValidation=Strict', {
      body,
    });
    expect(strict.json()).toMatchObject({
      code: 400,
      reason: 'BadRequest',
      message:
        'Pod in version "v1" cannot be handled as a Pod: strict decoding error: unknown field "spec.containers[0].colour"',
    });
    const warn = await call(server, 'POST', '/api/v1/namespaces/default/pods?fieldValidation=Warn', { body });
    expect(warn.status).toBe(201);
    expect(warn.headers.warning).toBe('299 - "unknown field \\"spec.containers[0].colour\\""');
    expect(JSON.stringify(warn.json())).not.toContain('colour');
  });
});

describe('writes', () => {
  it('runs a dryRun=All create through defaulting and validation without storing it', async () => {
    const r = await call(server, 'POST', '/api/v1/namespaces/default/pods?dryRun=All', { body: pod('dry') });
    expect(r.status).toBe(201);
    expect(r.json()).toMatchObject({ metadata: { name: 'dry' }, spec: { restartPolicy: 'Always' } });
    expect((await call(server, 'GET', '/api/v1/namespaces/default/pods/dry')).status).toBe(404);
  });

  it('deletes a collection by label selector and returns what it deleted', async () => {
    for (const n of ['dc-1', 'dc-2', 'dc-keep']) {
      await call(server, 'POST', '/api/v1/namespaces/default/pods', {
        body: pod(n, { batch: n === 'dc-keep' ? 'no' : 'yes' }),
      });
    }
    const r = await call(server, 'DELETE', '/api/v1/namespaces/default/pods?labelSelector=batch%3Dyes');
    expect(r.status).toBe(200);
    const body = r.json() as { kind: string; items: { metadata: { name: string } }[] };
    expect(body.kind).toBe('PodList');
    expect(body.items.map((i) => i.metadata.name)).toEqual(['dc-1', 'dc-2']);
    const left = (await call(server, 'GET', '/api/v1/namespaces/default/pods?labelSelector=batch')).json();
    expect((left.items as { metadata: { name: string } }[]).map((i) => i.metadata.name)).toEqual(['dc-keep']);
  });

  it('binds a pod through pods/binding and answers with a Success Status', async () => {
    await call(server, 'POST', '/api/v1/namespaces/default/pods', { body: pod('to-bind') });
    const r = await call(server, 'POST', '/api/v1/namespaces/default/pods/to-bind/binding', {
      body: {
        apiVersion: 'v1',
        kind: 'Binding',
        metadata: { name: 'to-bind' },
        target: { kind: 'Node', name: 'node-z' },
      },
    });
    expect(r.json()).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Success',
      code: 201,
    });
    const bound = await call(server, 'GET', '/api/v1/pods?fieldSelector=spec.nodeName%3Dnode-z');
    expect((bound.json().items as unknown[]).length).toBe(1);
  });
});

describe('reads', () => {
  it('pages a list with limit and continue at one consistent resourceVersion', async () => {
    for (const n of ['pg-1', 'pg-2', 'pg-3']) {
      await call(server, 'POST', '/api/v1/namespaces/default/pods', { body: pod(n, { page: 'yes' }) });
    }
    const first = (
      await call(server, 'GET', '/api/v1/namespaces/default/pods?labelSelector=page%3Dyes&limit=2')
    ).json();
    const fm = first.metadata as { continue: string; resourceVersion: string; remainingItemCount: number };
    expect((first.items as { metadata: { name: string } }[]).map((i) => i.metadata.name)).toEqual([
      'pg-1',
      'pg-2',
    ]);
    expect(fm.remainingItemCount).toBe(1);
    await call(server, 'DELETE', '/api/v1/namespaces/default/pods/pg-3');
    const second = (
      await call(
        server,
        'GET',
        `/api/v1/namespaces/default/pods?labelSelector=page%3Dyes&limit=2&continue=${fm.continue}`,
      )
    ).json();
    expect((second.items as { metadata: { name: string } }[]).map((i) => i.metadata.name)).toEqual(['pg-3']);
    expect((second.metadata as { resourceVersion: string }).resourceVersion).toBe(fm.resourceVersion);
  });

  it('converts lists to meta.k8s.io Tables with column definitions', async () => {
    const r = await call(server, 'GET', '/api/v1/namespaces?includeObject=None', {
      accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json',
    });
    const table = r.json() as {
      kind: string;
      columnDefinitions: { name: string }[];
      rows: { cells: unknown[] }[];
    };
    expect(table.kind).toBe('Table');
    expect(table.columnDefinitions.map((c) => c.name)).toEqual(['Name', 'Status', 'Age']);
    expect(table.rows.map((row) => row.cells[0])).toEqual([
      'default',
      'kube-node-lease',
      'kube-public',
      'kube-system',
    ]);
  });

  it('serves metrics.k8s.io from the metrics provider', async () => {
    const nodes = (await call(server, 'GET', '/apis/metrics.k8s.io/v1beta1/nodes')).json();
    expect(nodes).toMatchObject({
      kind: 'NodeMetricsList',
      items: [{ metadata: { name: 'node-a' }, usage: { cpu: '250m' } }],
    });
    const p = (await call(server, 'GET', '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/p')).json();
    expect(p).toMatchObject({ kind: 'PodMetrics', containers: [{ name: 'c', usage: { memory: '10Mi' } }] });
    await call(server, 'POST', '/api/v1/namespaces/default/pods', { body: pod('p', { tier: 'db' }) });
    const byLabel = async (selector: string) =>
      (
        (
          await call(
            server,
            'GET',
            `/apis/metrics.k8s.io/v1beta1/namespaces/default/pods?labelSelector=${selector}`,
          )
        ).json().items as unknown[]
      ).length;
    expect(await byLabel('tier%3Ddb')).toBe(1);
    expect(await byLabel('tier%3Dweb')).toBe(0);
  });

  it('publishes OpenAPI v3 with fieldValidation on every PATCH so kubectl validates server-side', async () => {
    const index = (await call(server, 'GET', '/openapi/v3')).json() as {
      paths: Record<string, { serverRelativeURL: string }>;
    };
    expect(Object.keys(index.paths)).toContain('apis/apps/v1');
    const doc = (await call(server, 'GET', index.paths['apis/apps/v1']!.serverRelativeURL)).json() as {
      paths: Record<
        string,
        { patch?: { parameters: { name: string }[]; 'x-kubernetes-group-version-kind': unknown } }
      >;
    };
    const patch = doc.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}']?.patch;
    expect(patch?.['x-kubernetes-group-version-kind']).toEqual({
      group: 'apps',
      version: 'v1',
      kind: 'Deployment',
    });
    expect(patch?.parameters.map((p) => p.name)).toContain('fieldValidation');
  });
});

describe('watch', () => {
  async function readWatch(
    path: string,
    untilLines: number,
  ): Promise<{ type: string; object: Record<string, unknown> }[]> {
    const { request } = await import('node:https');
    return new Promise((resolve, reject) => {
      const events: { type: string; object: Record<string, unknown> }[] = [];
      const req = request(
        new URL(path, server.url),
        { ca: server.caPem, headers: { Authorization: `Bearer ${server.token}` } },
        (res) => {
          let buf = '';
          res.on('data', (d: Buffer) => {
            buf += d.toString();
            let nl = buf.indexOf('\n');
            while (nl >= 0) {
              events.push(JSON.parse(buf.slice(0, nl)));
              buf = buf.slice(nl + 1);
              nl = buf.indexOf('\n');
            }
            if (events.length >= untilLines) {
              req.destroy();
              resolve(events);
            }
          });
          res.on('end', () => resolve(events));
        },
      );
      req.on('error', (e) => (events.length >= untilLines ? resolve(events) : reject(e)));
      req.end();
    });
  }

  it('replays changes after a resourceVersion and sends bookmarks', async () => {
    const created = (
      await call(server, 'POST', '/api/v1/namespaces/default/pods', { body: pod('w1') })
    ).json();
    const rv = (created.metadata as { resourceVersion: string }).resourceVersion;
    await call(server, 'DELETE', '/api/v1/namespaces/default/pods/w1');
    const events = await readWatch(
      `/api/v1/namespaces/default/pods?watch=1&resourceVersion=${rv}&allowWatchBookmarks=true&fieldSelector=metadata.name%3Dw1`,
      2,
    );
    expect(events.map((e) => e.type)).toEqual(['DELETED', 'BOOKMARK']);
  });

  it('ends a watch from an expired resourceVersion with a 410 ERROR event, and a list with 410', async () => {
    for (let i = 0; i < 60; i++) {
      await call(server, 'PATCH', '/api/v1/namespaces/default/pods/dup', {
        body: { metadata: { annotations: { n: String(i) } } },
        contentType: 'application/merge-patch+json',
      });
    }
    const events = await readWatch('/api/v1/pods?watch=1&resourceVersion=2', 1);
    expect(events[0]).toMatchObject({
      type: 'ERROR',
      object: { kind: 'Status', code: 410, reason: 'Expired' },
    });
    const list = await call(server, 'GET', '/api/v1/pods?resourceVersion=2&resourceVersionMatch=Exact');
    expect(list.status).toBe(410);
    expect(list.json()).toMatchObject({
      reason: 'Expired',
      message: expect.stringMatching(/^too old resource version: 2 \(\d+\)$/),
    });
  });

  it('ends a watch after timeoutSeconds', async () => {
    const started = Date.now();
    const events = await readWatch('/api/v1/namespaces/kube-system/pods?watch=1&timeoutSeconds=1', 1);
    expect(events).toEqual([]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });
});

describe('client-node informer', () => {
  it('relists after a forced 410 and keeps its cache in step', async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(server.kubeconfigPath);
    const core = kc.makeApiClient(CoreV1Api);
    await call(server, 'POST', '/api/v1/namespaces', { body: { metadata: { name: 'inf' } } });
    await core.createNamespacedPod({ namespace: 'inf', body: pod('before') as V1Pod });
    let lists = 0;
    const informer = makeInformer(kc, '/api/v1/namespaces/inf/pods', () => {
      lists++;
      return core.listNamespacedPod({ namespace: 'inf' });
    });
    const errors: unknown[] = [];
    informer.on('error', (e) => errors.push(e));
    await informer.start();
    try {
      await eventually(() => informer.list().some((p) => p.metadata?.name === 'before'));
      server.expireWatches();
      // Changes made while the informer is between watches must show up after its relist.
      server.store.create('pods', 'inf', pod('during'));
      server.store.delete('pods', 'inf', 'before');
      await eventually(() => lists >= 2);
      await eventually(() => {
        const names = informer.list().map((p) => p.metadata?.name);
        return names.includes('during') && !names.includes('before');
      });
      await core.createNamespacedPod({ namespace: 'inf', body: pod('after') as V1Pod });
      await eventually(() => informer.list().some((p) => p.metadata?.name === 'after'));
      expect(errors).toEqual([]);
    } finally {
      await informer.stop();
    }
  });
});
