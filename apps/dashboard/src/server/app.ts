import {
  BerthError,
  BUILT_IN_PROFILES,
  berthJsonSchema,
  type ClusterAdapter,
  isBuiltInProfileName,
  isTaskState,
  parseDocuments,
  place,
  snapshotFromCluster,
  toBerthError,
} from '@berth/core';
import { Hono } from 'hono';
import {
  type ContextInfo,
  NODE_COLUMNS,
  type NodeDetail,
  type NodePage,
  type SubmitView,
  TASK_COLUMNS,
  type TaskDetail,
  type TaskPage,
  type TaskRow,
} from '../shared/api.ts';
import { errorResponse } from './http-error.ts';
import { type DashboardContext, LiveHub } from './live-hub.ts';
import {
  assertAuthorized,
  assertSameOrigin,
  isLoopbackHost,
  isMutating,
  TOKEN_COOKIE,
  tokenMatches,
} from './security.ts';
import { sseResponse } from './sse.ts';
import { serveStaticFile } from './static-files.ts';
import { amounts, explanationView, nodeRow, overview, placementTasks, planView, taskRow } from './views.ts';

export type { DashboardContext } from './live-hub.ts';

export interface DashboardOptions {
  /** Version string reported by /api/health. */
  readonly version: string;
  /** The clusters to show, each with a connected adapter (default none). */
  readonly contexts?: readonly DashboardContext[];
  /**
   * Access token. Required when the server listens beyond loopback; when set, every API call but
   * `/api/health` must carry it. It is compared, never echoed.
   */
  readonly token?: string;
  /** The built single-page app (`dist/web`); without it only the API is served. */
  readonly staticDir?: string;
  /** Milliseconds between SSE heartbeat comments (default 15,000). */
  readonly heartbeatMs?: number;
  /** Stream messages kept for `Last-Event-ID` resume (default 10,000). */
  readonly streamBuffer?: number;
  /** Placement profile of the plan preview (default `spread`). */
  readonly profile?: string;
}

export type DashboardApp = Hono & {
  /** Where the adapters' watches meet; exposed for tests and embedding. */
  readonly hub: LiveHub;
  /** Stop watching the adapters (the adapters themselves stay open). */
  close(): Promise<void>;
};

const COMPONENT = 'dashboard';
const MAX_PAGE = 100_000;
const LOG_TAIL_LINES = 100;
const LOG_TAIL_TIMEOUT_MS = 1_000;

function invalid(field: string, message: string, hint?: string): BerthError {
  return new BerthError('SPEC_INVALID', `${field}: ${message}`, {
    component: COMPONENT,
    issues: [{ path: field, message }],
    ...(hint === undefined ? {} : { hint }),
  });
}

function intParam(value: string | undefined, field: string, fallback: number, max: number): number {
  if (value === undefined || value === '') return fallback;
  if (!/^\d+$/.test(value) || Number(value) > max) {
    throw invalid(field, `must be an integer from 0 to ${max}, got ${JSON.stringify(value)}`);
  }
  return Number(value);
}

async function jsonBody(req: Request): Promise<Record<string, unknown>> {
  let value: unknown;
  try {
    const text = await req.text();
    value = text.trim() === '' ? {} : JSON.parse(text);
  } catch (err) {
    throw new BerthError('SPEC_INVALID', `body: not valid JSON (${(err as Error).message})`, {
      component: COMPONENT,
      issues: [{ path: 'body', message: 'not valid JSON' }],
    });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid('body', 'must be a JSON object');
  }
  return value as Record<string, unknown>;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The dashboard's HTTP API and, with `staticDir`, the single-page app (a Hono app: test it with `app.request`). */
export function createDashboardApp(options: DashboardOptions): DashboardApp {
  const contexts = new Map<string, DashboardContext>();
  for (const c of options.contexts ?? []) {
    if (contexts.has(c.name)) throw invalid('contexts', `context name ${c.name} appears twice`);
    contexts.set(c.name, c);
  }
  const profile = options.profile ?? 'spread';
  if (!isBuiltInProfileName(profile)) {
    throw invalid(
      'profile',
      `unknown profile ${profile}`,
      `Use one of ${Object.keys(BUILT_IN_PROFILES).join(', ')}.`,
    );
  }
  const token = options.token === '' ? undefined : options.token;
  const hub = new LiveHub(
    [...contexts.values()],
    options.streamBuffer === undefined ? {} : { bufferSize: options.streamBuffer },
  );
  const app = new Hono();

  const context = (name: string): DashboardContext => {
    const c = contexts.get(name);
    if (c === undefined) {
      throw new BerthError('NOT_FOUND', `context ${name} is not configured in this dashboard`, {
        component: COMPONENT,
        hint: `Use one of: ${[...contexts.keys()].join(', ') || '(none)'}.`,
      });
    }
    return c;
  };
  const adapterOf = (name: string): ClusterAdapter => context(name).adapter;

  app.onError((err, c) => {
    const { status, body } = errorResponse(err);
    return c.json(body, status);
  });

  // DNS rebinding: without a token the server trusts the local machine, so only loopback names
  // may appear in Host (a rebound evil.example page would send its own name).
  app.use('*', async (c, next) => {
    if (token === undefined) {
      const host = c.req.header('host');
      const name = host === undefined ? undefined : host.replace(/:\d+$/, '');
      if (name !== undefined && !isLoopbackHost(name)) {
        throw new BerthError('FORBIDDEN', `host ${host} is not a loopback name`, {
          component: COMPONENT,
          hint: 'Open the dashboard through 127.0.0.1 or localhost, or start it with a token.',
        });
      }
    }
    await next();
    c.header('X-Content-Type-Options', 'nosniff');
    c.header('Referrer-Policy', 'no-referrer');
  });

  app.use('/api/*', async (c, next) => {
    if (c.req.path !== '/api/health') assertAuthorized(token, c.req.raw.headers);
    if (isMutating(c.req.method)) assertSameOrigin(c.req.url, c.req.raw.headers);
    await next();
    c.header('Cache-Control', 'no-store');
  });

  app.get('/api/health', (c) => c.json({ status: 'ok', version: options.version }));

  app.get('/api/contexts', (c) => {
    const list: ContextInfo[] = [...contexts.values()].map((x) => ({
      name: x.name,
      backend: x.backend,
      capabilities: [...x.adapter.capabilities].sort(),
    }));
    return c.json(list);
  });

  app.get('/api/schema', (c) => c.json(berthJsonSchema()));

  app.get('/api/contexts/:ctx/overview', async (c) => {
    const ctx = context(c.req.param('ctx'));
    await hub.ready;
    const snap = await ctx.adapter.snapshot();
    return c.json(overview(ctx.name, ctx.backend, snap, hub.tasks(ctx.name)));
  });

  app.get('/api/contexts/:ctx/nodes', async (c) => {
    const ctx = context(c.req.param('ctx'));
    const offset = intParam(c.req.query('offset'), 'offset', 0, Number.MAX_SAFE_INTEGER);
    const limit = intParam(c.req.query('limit'), 'limit', MAX_PAGE, MAX_PAGE);
    const snap = await ctx.adapter.snapshot();
    const nodes = [...snap.nodes].sort((a, b) => compare(a.id, b.id));
    const page: NodePage = {
      columns: NODE_COLUMNS,
      total: nodes.length,
      offset,
      rows: nodes.slice(offset, offset + limit).map(nodeRow),
    };
    return c.json(page);
  });

  app.get('/api/contexts/:ctx/nodes/:id', async (c) => {
    const ctx = context(c.req.param('ctx'));
    const id = c.req.param('id');
    const snap = await ctx.adapter.snapshot();
    const n = snap.nodes.find((x) => x.id === id);
    if (n === undefined) {
      throw new BerthError('NOT_FOUND', `node ${id} does not exist in context ${ctx.name}`, {
        component: COMPONENT,
        hint: 'Pick a node from the Nodes view.',
      });
    }
    await hub.ready;
    const detail: NodeDetail = {
      id: n.id,
      hostname: n.hostname,
      ready: n.ready,
      unschedulable: n.unschedulable,
      labels: n.labels,
      taints: n.taints.map((t) => ({
        key: t.key,
        effect: t.effect,
        ...(t.value === undefined ? {} : { value: t.value }),
      })),
      allocatable: amounts(n.allocatable),
      allocated: amounts(n.allocated),
      free: amounts(n.allocatable.sub(n.allocated, 'clamp')),
      tasks: snap.allocations
        .filter((a) => a.nodeId === n.id)
        .sort((a, b) => compare(a.taskId, b.taskId))
        .map((a) => {
          const state = hub.task(ctx.name, a.taskId)?.state;
          return {
            taskId: a.taskId,
            tenant: a.tenant,
            resources: amounts(a.resources),
            ...(a.service === undefined ? {} : { service: a.service }),
            ...(state === undefined ? {} : { state }),
          };
        }),
    };
    return c.json(detail);
  });

  app.get('/api/contexts/:ctx/tasks', async (c) => {
    const ctx = context(c.req.param('ctx'));
    const offset = intParam(c.req.query('offset'), 'offset', 0, Number.MAX_SAFE_INTEGER);
    const limit = intParam(c.req.query('limit'), 'limit', MAX_PAGE, MAX_PAGE);
    const stateParam = c.req.query('state');
    const states = stateParam === undefined || stateParam === '' ? undefined : new Set(stateParam.split(','));
    for (const s of states ?? []) {
      if (!isTaskState(s))
        throw invalid(
          'state',
          `unknown task state ${JSON.stringify(s)}`,
          'Use PENDING, RUNNING, KILLED… (comma-separated).',
        );
    }
    const service = c.req.query('service') || undefined;
    const node = c.req.query('node') || undefined;
    const q = (c.req.query('q') ?? '').toLowerCase();
    await hub.ready;
    const rows: TaskRow[] = [];
    for (const t of hub.tasks(ctx.name)) {
      if (states !== undefined && !states.has(t.state)) continue;
      if (service !== undefined && t.service !== service) continue;
      if (node !== undefined && t.nodeId !== node) continue;
      if (q !== '' && !t.taskId.toLowerCase().includes(q) && !(t.message ?? '').toLowerCase().includes(q))
        continue;
      rows.push(taskRow(t));
    }
    rows.sort((a, b) => compare(a[0], b[0]));
    const page: TaskPage & { streamId: number } = {
      columns: TASK_COLUMNS,
      total: rows.length,
      offset,
      rows: rows.slice(offset, offset + limit),
      streamId: hub.lastId,
    };
    return c.json(page);
  });

  app.get('/api/contexts/:ctx/tasks/:id', async (c) => {
    const ctx = context(c.req.param('ctx'));
    const id = c.req.param('id');
    await hub.ready;
    const status = hub.task(ctx.name, id) ?? (await ctx.adapter.tasks({ ids: [id] }))[0];
    if (status === undefined) {
      throw new BerthError('NOT_FOUND', `task ${id} does not exist in context ${ctx.name}`, {
        component: COMPONENT,
        hint: 'Pick a task from the Tasks view.',
      });
    }
    const recorded = hub.explanation(ctx.name, id);
    const detail: TaskDetail = {
      context: ctx.name,
      status: {
        taskId: status.taskId,
        state: status.state,
        rawState: status.rawState,
        ports: status.ports,
        timestamps: { ...status.timestamps },
        ...(status.reason === undefined ? {} : { reason: status.reason }),
        ...(status.message === undefined ? {} : { message: status.message }),
        ...(status.exitCode === undefined ? {} : { exitCode: status.exitCode }),
        ...(status.nodeId === undefined ? {} : { nodeId: status.nodeId }),
        ...(status.hostname === undefined ? {} : { hostname: status.hostname }),
        ...(status.service === undefined ? {} : { service: status.service }),
      },
      explanation:
        recorded !== undefined
          ? explanationView(recorded)
          : {
              kind: 'status',
              source: 'backend',
              ...(status.reason === undefined ? {} : { reason: status.reason }),
              ...(status.message === undefined ? {} : { message: status.message }),
            },
      events: hub
        .events(ctx.name)
        .filter((e) => e.taskId === id)
        .slice(-50),
      // A task not on a node yet has no log (Kubernetes answers 400 for an unbound pod's log).
      logs:
        ctx.adapter.capabilities.has('logs') && status.state !== 'PENDING' && status.nodeId !== undefined
          ? await logTail(ctx.adapter, id)
          : [],
    };
    return c.json(detail);
  });

  const planFor = async (ctx: DashboardContext, body: Record<string, unknown>) => {
    const yaml = body.yaml;
    if (typeof yaml !== 'string' || yaml.trim() === '') {
      throw invalid('yaml', 'must be a non-empty string holding Berth YAML documents');
    }
    const documents = parseDocuments(yaml, { source: 'editor' });
    const tasks = placementTasks(documents);
    const snap = await ctx.adapter.snapshot();
    const result = place(tasks, snapshotFromCluster(snap), profile, { now: snap.takenAt });
    return { documents, result, plan: planView(profile, tasks.length, snap.nodes.length, result) };
  };

  app.post('/api/contexts/:ctx/plan', async (c) => {
    const ctx = context(c.req.param('ctx'));
    const { plan } = await planFor(ctx, await jsonBody(c.req.raw));
    return c.json(plan);
  });

  app.post('/api/contexts/:ctx/submit', async (c) => {
    const ctx = context(c.req.param('ctx'));
    const { documents, result, plan } = await planFor(ctx, await jsonBody(c.req.raw));
    for (const p of result.placements) hub.recordExplanation(ctx.name, p.taskId, p.explanation);
    for (const u of result.unplaceable) hub.recordExplanation(ctx.name, u.taskId, u.explanation);
    const results = await ctx.adapter.submit(documents);
    const view: SubmitView = {
      plan,
      results: results.map((r) => ({
        taskId: r.taskId,
        document: r.document,
        outcome: r.outcome,
        state: r.status.state,
      })),
    };
    return c.json(view, 201);
  });

  app.post('/api/contexts/:ctx/tasks/:id/kill', async (c) => {
    const adapter = adapterOf(c.req.param('ctx'));
    const body = await jsonBody(c.req.raw);
    const grace = body.gracePeriodSeconds;
    if (grace !== undefined && (typeof grace !== 'number' || !Number.isInteger(grace) || grace < 0)) {
      throw invalid('gracePeriodSeconds', `must be an integer >= 0, got ${JSON.stringify(grace)}`);
    }
    const id = c.req.param('id');
    await adapter.kill(id, grace === undefined ? {} : { gracePeriodSeconds: grace });
    return c.json({ taskId: id, accepted: true }, 202);
  });

  app.get('/api/contexts/:ctx/services', async (c) => {
    const ctx = context(c.req.param('ctx'));
    await hub.ready;
    return c.json(hub.services(ctx.name));
  });

  app.get('/api/contexts/:ctx/services/:name/endpoints', async (c) => {
    const adapter = adapterOf(c.req.param('ctx'));
    return c.json(await adapter.endpoints(c.req.param('name')));
  });

  app.get('/api/contexts/:ctx/services/:name/history', async (c) => {
    const ctx = context(c.req.param('ctx'));
    await hub.ready;
    return c.json(hub.history(ctx.name, c.req.param('name')));
  });

  app.post('/api/contexts/:ctx/services/:name/scale', async (c) => {
    const adapter = adapterOf(c.req.param('ctx'));
    const body = await jsonBody(c.req.raw);
    const replicas = body.replicas;
    if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
      throw invalid('replicas', `must be an integer >= 0, got ${JSON.stringify(replicas)}`);
    }
    await adapter.scale(c.req.param('name'), replicas);
    return c.json({ service: c.req.param('name'), replicas }, 202);
  });

  app.get('/api/contexts/:ctx/events', async (c) => {
    const ctx = context(c.req.param('ctx'));
    const limit = intParam(c.req.query('limit'), 'limit', 500, 10_000);
    await hub.ready;
    return c.json(hub.events(ctx.name).slice(-limit));
  });

  app.get('/api/stream', (c) => {
    const header = c.req.header('last-event-id') ?? c.req.query('since');
    let since: number | undefined;
    if (header !== undefined && header !== '') {
      if (!/^\d+$/.test(header))
        throw invalid('Last-Event-ID', `must be a sequence number, got ${JSON.stringify(header)}`);
      since = Number(header);
    }
    return sseResponse(hub, { since, heartbeatMs: options.heartbeatMs ?? 15_000, signal: c.req.raw.signal });
  });

  app.notFound((c) =>
    c.req.path.startsWith('/api/')
      ? c.json({ code: 'NOT_FOUND', message: `no API route ${c.req.method} ${c.req.path}` }, 404)
      : c.text('Not Found', 404),
  );

  // Opening any page with ?token=… once stores the token in an HttpOnly cookie (page scripts never
  // see it) and drops it from the address bar.
  app.get('*', async (c, next) => {
    const given = c.req.query('token');
    if (given === undefined) return next();
    if (token === undefined || !tokenMatches(token, given)) {
      return c.text('This dashboard link has a wrong or expired token.', 401);
    }
    const url = new URL(c.req.url);
    url.searchParams.delete('token');
    c.header('Set-Cookie', `${TOKEN_COOKIE}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`);
    return c.redirect(`${url.pathname}${url.search}`, 303);
  });

  if (options.staticDir !== undefined) {
    const root = options.staticDir;
    app.get('*', async (c, next) => {
      const res = await serveStaticFile(root, c.req.path);
      return res ?? next();
    });
  }

  const close = async () => {
    await hub.close();
  };
  return Object.assign(app, { hub, close });
}

async function logTail(adapter: ClusterAdapter, id: string): Promise<{ stream: string; line: string }[]> {
  const out: { stream: string; line: string }[] = [];
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), LOG_TAIL_TIMEOUT_MS);
  try {
    for await (const l of adapter.logs(id, { tailLines: LOG_TAIL_LINES, signal: abort.signal })) {
      out.push({ stream: l.stream, line: l.line });
      if (out.length >= LOG_TAIL_LINES) break;
    }
  } catch (err) {
    const e = toBerthError(err);
    if (e.code !== 'NOT_FOUND' && e.code !== 'UNSUPPORTED' && e.code !== 'TIMEOUT') throw e;
  } finally {
    clearTimeout(timer);
  }
  return out;
}
