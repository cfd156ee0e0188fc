import { createMemoryAdapter, MemoryCluster, waitFor } from '@berth/adapter-testkit';
import { BerthError } from '@berth/core';
import { afterEach, describe, expect, it } from 'vitest';
import type { ContextOverview, NodePage, SubmitView, TaskDetail, TaskPage } from '../shared/api.ts';
import { createDashboardApp, type DashboardApp } from './app.ts';
import { createDemoContexts, type DemoContexts } from './demo-contexts.ts';

const JSON_POST = { 'content-type': 'application/json' };
const TASK_YAML = `apiVersion: berth.dev/v1
kind: Task
metadata: { name: hello }
spec:
  command: sleep 3600
  resources: { requests: { cpu: 100m, memory: 32Mi } }
`;

let open: { app?: DashboardApp; demo?: DemoContexts }[] = [];
afterEach(async () => {
  for (const o of open) {
    await o.app?.close();
    await o.demo?.close();
  }
  open = [];
});

async function setup(opts: { token?: string; workload?: boolean; heartbeatMs?: number } = {}) {
  const demo = await createDemoContexts({ nodes: 4, workload: opts.workload ?? true });
  const app = createDashboardApp({
    version: 'test',
    contexts: demo.contexts,
    ...(opts.token === undefined ? {} : { token: opts.token }),
    ...(opts.heartbeatMs === undefined ? {} : { heartbeatMs: opts.heartbeatMs }),
  });
  open.push({ app, demo });
  await app.hub.ready;
  return { app, demo };
}

/** Wait (up to 2 s) until `check` holds. */
const until = (what: string, check: () => boolean) =>
  waitFor(what, () => (check() ? true : undefined), { timeoutMs: 2_000, intervalMs: 5 });

const post = (app: DashboardApp, path: string, body: unknown, headers: Record<string, string> = {}) =>
  app.request(path, { method: 'POST', headers: { ...JSON_POST, ...headers }, body: JSON.stringify(body) });

describe('dashboard API', () => {
  it('reports health with its version', async () => {
    const res = await createDashboardApp({ version: '1.2.3' }).request('/api/health');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok', version: '1.2.3' });
  });

  it('answers unknown API routes with a JSON NOT_FOUND naming the route', async () => {
    const res = await createDashboardApp({ version: '0' }).request('/api/nope', { method: 'GET' });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ code: 'NOT_FOUND', message: 'no API route GET /api/nope' });
  });

  it('lists the contexts with backend and capabilities', async () => {
    const { app } = await setup({ workload: false });
    const body = (await (await app.request('/api/contexts')).json()) as { name: string; backend: string }[];
    expect(body.map((c) => [c.name, c.backend])).toEqual([
      ['devcluster-mesos', 'mesos'],
      ['devcluster-kubernetes', 'kubernetes'],
    ]);
  });

  it('summarises a context: capacity, allocation, tasks by state and tenant dominant shares', async () => {
    const { app } = await setup();
    const o = (await (
      await app.request('/api/contexts/devcluster-mesos/overview')
    ).json()) as ContextOverview;
    expect(o.nodes).toEqual({ total: 4, ready: 4, unschedulable: 0 });
    // 4 nodes alternating 4 and 8 cores.
    expect(o.capacity.cpu).toBe(24_000);
    // web 3×500m + etl-1 2000m + etl-2 1500m + report 250m; giant stays pending.
    expect(o.allocated.cpu).toBe(5_250);
    expect(o.tasksByState.RUNNING + o.tasksByState.STAGING + o.tasksByState.STARTING).toBe(6);
    expect(o.tasksByState.PENDING).toBe(1);
    const analytics = o.tenants.find((t) => t.tenant === 'analytics');
    expect(analytics?.dominantResource).toBe('cpu');
    expect(analytics?.dominantShare).toBeCloseTo(3_750 / 24_000, 6);
    expect(o.tenants.map((t) => t.tenant)).toEqual(['analytics', 'frontend']);
  });

  it('pages nodes as compact rows in column order', async () => {
    const { app } = await setup({ workload: false });
    const page = (await (
      await app.request('/api/contexts/devcluster-kubernetes/nodes?offset=1&limit=2')
    ).json()) as NodePage;
    expect(page.total).toBe(4);
    expect(page.columns.slice(0, 4)).toEqual(['id', 'hostname', 'ready', 'unschedulable']);
    expect(page.rows.map((r) => r[0])).toEqual(['node-2', 'node-3']);
    expect(page.rows[0]?.[4]).toBe(8_000);
  });

  it('filters tasks by state and text and returns compact rows', async () => {
    const { app } = await setup();
    const page = (await (
      await app.request('/api/contexts/devcluster-mesos/tasks?state=PENDING')
    ).json()) as TaskPage;
    expect(page.rows.map((r) => [r[0], r[1], r[4]])).toEqual([['giant', 'PENDING', 'Unschedulable']]);
    const web = (await (await app.request('/api/contexts/devcluster-mesos/tasks?q=web-')).json()) as TaskPage;
    expect(web.rows.map((r) => r[0])).toEqual(['web-0', 'web-1', 'web-2']);
  });

  it('shows a pending task without asking the backend for a log it cannot have yet', async () => {
    const demo = await createDemoContexts({ nodes: 4 });
    const adapter = demo.contexts[0]!.adapter;
    let logCalls = 0;
    // A Kubernetes API server answers 400 for the log of a pod that has no node yet.
    const strict = new Proxy(adapter, {
      get(target, key) {
        if (key === 'logs') {
          return () => {
            logCalls++;
            throw new BerthError('SPEC_INVALID', 'pod giant does not have a host assigned');
          };
        }
        const value: unknown = Reflect.get(target, key, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const app = createDashboardApp({
      version: 'test',
      contexts: [{ ...demo.contexts[0]!, adapter: strict }],
    });
    open.push({ app, demo });
    await app.hub.ready;
    const res = await app.request('/api/contexts/devcluster-mesos/tasks/giant');
    expect(res.status).toBe(200);
    const detail = (await res.json()) as TaskDetail;
    expect(detail.status.state).toBe('PENDING');
    expect(detail.logs).toEqual([]);
    expect(logCalls).toBe(0);
  });

  it('rejects a bad query parameter with 400 naming it', async () => {
    const { app } = await setup({ workload: false });
    const res = await app.request('/api/contexts/devcluster-mesos/tasks?state=SLEEPING');
    expect(res.status).toBe(400);
    const body = (await res.json()) as { code: string; issues: { path: string }[] };
    expect(body.code).toBe('SPEC_INVALID');
    expect(body.issues[0]?.path).toBe('state');
    const limit = await app.request('/api/contexts/devcluster-mesos/nodes?limit=-3');
    expect(limit.status).toBe(400);
    expect(((await limit.json()) as { issues: { path: string }[] }).issues[0]?.path).toBe('limit');
  });

  it('answers an unknown context with 404 listing the configured ones', async () => {
    const { app } = await setup({ workload: false });
    const res = await app.request('/api/contexts/prod/overview');
    expect(res.status).toBe(404);
    const body = (await res.json()) as { code: string; hint: string };
    expect(body.code).toBe('NOT_FOUND');
    expect(body.hint).toContain('devcluster-mesos');
  });

  it('previews a plan, submits through the adapter and explains where the task went', async () => {
    const { app, demo } = await setup({ workload: false });
    const plan = await post(app, '/api/contexts/devcluster-mesos/plan', { yaml: TASK_YAML });
    expect(plan.status).toBe(200);
    const planBody = (await plan.json()) as SubmitView['plan'];
    expect(planBody.placements.map((p) => p.taskId)).toEqual(['hello']);
    expect(demo.clusters.get('devcluster-mesos')?.launchCount('hello')).toBe(0);

    const res = await post(app, '/api/contexts/devcluster-mesos/submit', { yaml: TASK_YAML });
    expect(res.status).toBe(201);
    const body = (await res.json()) as SubmitView;
    expect(body.results).toEqual([expect.objectContaining({ taskId: 'hello', outcome: 'created' })]);
    await until('hello RUNNING', () => app.hub.task('devcluster-mesos', 'hello')?.state === 'RUNNING');
    const detail = (await (
      await app.request('/api/contexts/devcluster-mesos/tasks/hello')
    ).json()) as TaskDetail;
    expect(detail.status.state).toBe('RUNNING');
    expect(detail.explanation.kind).toBe('placed');
    if (detail.explanation.kind === 'placed') {
      expect(detail.explanation.scores.length).toBeGreaterThan(0);
      expect(detail.explanation.alternatives.length).toBe(3);
    }
    expect(detail.events.map((e) => e.state).filter(Boolean)).toContain('RUNNING');
  });

  it('explains an unplaceable task with the plan reasons', async () => {
    const { app } = await setup({ workload: false });
    const yaml = TASK_YAML.replace('hello', 'huge').replace('cpu: 100m', 'cpu: "512"');
    const body = (await (
      await post(app, '/api/contexts/devcluster-kubernetes/submit', { yaml })
    ).json()) as SubmitView;
    expect(body.plan.unplaceable[0]?.message).toMatch(/^0\/4 nodes available: 4 /);
    const detail = (await (
      await app.request('/api/contexts/devcluster-kubernetes/tasks/huge')
    ).json()) as TaskDetail;
    expect(detail.status.state).toBe('PENDING');
    expect(detail.explanation.kind).toBe('unplaceable');
    if (detail.explanation.kind === 'unplaceable') {
      expect(detail.explanation.reasons[0]?.count).toBe(4);
      expect(detail.explanation.reasons[0]?.reason).toMatch(/cpu/i);
    }
  });

  it('rejects an invalid spec with 400 and issues naming the field and line', async () => {
    const { app, demo } = await setup({ workload: false });
    const yaml = TASK_YAML.replace('cpu: 100m', 'cpu: lots');
    const res = await post(app, '/api/contexts/devcluster-mesos/submit', { yaml });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { code: string; issues: { path: string; line?: number }[] };
    expect(body.code).toBe('SPEC_INVALID');
    expect(body.issues).toEqual([expect.objectContaining({ path: 'spec.resources.requests.cpu', line: 6 })]);
    expect(demo.clusters.get('devcluster-mesos')?.launchCount('hello')).toBe(0);
    const missing = await post(app, '/api/contexts/devcluster-mesos/submit', { spec: TASK_YAML });
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as { issues: { path: string }[] }).issues[0]?.path).toBe('yaml');
  });

  it('kills a task and scales a service through the adapter', async () => {
    const { app } = await setup();
    await until('etl-1 RUNNING', () => app.hub.task('devcluster-mesos', 'etl-1')?.state === 'RUNNING');
    const kill = await post(app, '/api/contexts/devcluster-mesos/tasks/etl-1/kill', {});
    expect(kill.status).toBe(202);
    await until('etl-1 KILLED', () => app.hub.task('devcluster-mesos', 'etl-1')?.state === 'KILLED');
    const bad = await post(app, '/api/contexts/devcluster-mesos/services/web/scale', { replicas: -1 });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { issues: { path: string }[] }).issues[0]?.path).toBe('replicas');
    const scale = await post(app, '/api/contexts/devcluster-mesos/services/web/scale', { replicas: 1 });
    expect(scale.status).toBe(202);
    await until('web scaled to 1', () => app.hub.services('devcluster-mesos')[0]?.desired === 1);
    const history = (await (
      await app.request('/api/contexts/devcluster-mesos/services/web/history')
    ).json()) as {
      desired: number;
    }[];
    expect(history.at(-1)?.desired).toBe(1);
    expect(history.some((p) => p.desired === 3)).toBe(true);
    const endpoints = (await (
      await app.request('/api/contexts/devcluster-mesos/services/web/endpoints')
    ).json()) as unknown[];
    expect(endpoints).toHaveLength(1);
  });

  it('answers a kill of an unknown task with 404', async () => {
    const { app } = await setup({ workload: false });
    const res = await post(app, '/api/contexts/devcluster-mesos/tasks/nope/kill', {});
    expect(res.status).toBe(404);
    expect(((await res.json()) as { code: string }).code).toBe('NOT_FOUND');
  });
});

describe('dashboard security', () => {
  it('refuses cross-origin changes and accepts same-origin ones', async () => {
    const { app, demo } = await setup({ workload: false });
    const url = 'http://127.0.0.1:7070/api/contexts/devcluster-mesos/submit';
    const evil = await app.request(url, {
      method: 'POST',
      headers: { ...JSON_POST, host: '127.0.0.1:7070', origin: 'https://evil.example' },
      body: JSON.stringify({ yaml: TASK_YAML }),
    });
    expect(evil.status).toBe(403);
    expect(((await evil.json()) as { code: string }).code).toBe('FORBIDDEN');
    const site = await app.request(url, {
      method: 'POST',
      headers: { ...JSON_POST, host: '127.0.0.1:7070', 'sec-fetch-site': 'cross-site' },
      body: JSON.stringify({ yaml: TASK_YAML }),
    });
    expect(site.status).toBe(403);
    const form = await app.request(url, {
      method: 'POST',
      headers: { host: '127.0.0.1:7070', 'content-type': 'text/plain' },
      body: JSON.stringify({ yaml: TASK_YAML }),
    });
    expect(form.status).toBe(400);
    expect(demo.clusters.get('devcluster-mesos')?.launchCount('hello')).toBe(0);
    const same = await app.request(url, {
      method: 'POST',
      headers: {
        ...JSON_POST,
        host: '127.0.0.1:7070',
        origin: 'http://127.0.0.1:7070',
        'sec-fetch-site': 'same-origin',
      },
      body: JSON.stringify({ yaml: TASK_YAML }),
    });
    expect(same.status).toBe(201);
  });

  it('refuses a non-loopback Host without a token (DNS rebinding)', async () => {
    const { app } = await setup({ workload: false });
    const res = await app.request('http://evil.example/api/contexts', { headers: { host: 'evil.example' } });
    expect(res.status).toBe(403);
  });

  it('requires the token on every API call but health, and never sends it back', async () => {
    const token = 's3cret-token-value';
    const { app } = await setup({ token });
    expect((await app.request('/api/health')).status).toBe(200);
    const anon = await app.request('/api/contexts');
    expect(anon.status).toBe(401);
    expect(((await anon.json()) as { code: string }).code).toBe('AUTH_FAILED');
    const wrong = await app.request('/api/contexts', { headers: { authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(401);
    const auth = { authorization: `Bearer ${token}` };
    const bodies: string[] = [];
    for (const path of [
      '/api/contexts',
      '/api/contexts/devcluster-mesos/overview',
      '/api/contexts/devcluster-mesos/tasks',
      '/api/contexts/devcluster-mesos/nodes',
      '/api/contexts/devcluster-mesos/tasks/giant',
      '/api/contexts/devcluster-mesos/events',
      '/api/contexts/nope/overview',
    ]) {
      const res = await app.request(path, { headers: auth });
      bodies.push(JSON.stringify([...res.headers]) + (await res.text()));
    }
    const killed = await post(app, '/api/contexts/devcluster-mesos/tasks/etl-1/kill', {}, auth);
    expect(killed.status).toBe(202);
    bodies.push(await killed.text());
    for (const b of bodies) expect(b).not.toContain(token);
    // A POST without the token is refused even from the same origin.
    const noToken = await post(app, '/api/contexts/devcluster-mesos/tasks/etl-2/kill', {});
    expect(noToken.status).toBe(401);
  });

  it('trades ?token= for an HttpOnly cookie and strips it from the address', async () => {
    const token = 'cookie-token';
    const { app } = await setup({ token, workload: false });
    const res = await app.request('/tasks?token=cookie-token&x=1');
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/tasks?x=1');
    const cookie = res.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    const withCookie = await app.request('/api/contexts', { headers: { cookie: cookie.split(';')[0]! } });
    expect(withCookie.status).toBe(200);
    expect((await app.request('/tasks?token=wrong')).status).toBe(401);
  });

  it('never forwards error details or causes to the browser', async () => {
    const cluster = new MemoryCluster();
    const adapter = createMemoryAdapter({ cluster });
    // Not connected: every call fails with BACKEND_UNAVAILABLE.
    const app = createDashboardApp({ version: 't', contexts: [{ name: 'down', backend: 'mesos', adapter }] });
    open.push({ app });
    const res = await app.request('/api/contexts/down/nodes');
    expect(res.status).toBe(503);
    expect(Object.keys((await res.json()) as object).sort()).toEqual(['code', 'hint', 'message']);
  });
});
