/**
 * The `berth` process against devcluster's Mesos face (started in this test process): run, plan,
 * get, describe, scale, endpoints, events, delete and the bad-input cases, with exit codes.
 */
import { BERTH_ERROR_CODES } from '@berth/core';
import { type Engine, type MesosMaster, startEngine, startMesosMaster } from '@berth/devcluster';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BerthSandbox,
  berthSandbox,
  eventually,
  INVALID_SPEC,
  SERVICE_AND_TASK,
  taskItems,
} from './berth-process.ts';

let engine: Engine;
let master: MesosMaster;
let authEngine: Engine;
let authMaster: MesosMaster;
let sb: BerthSandbox;

beforeAll(async () => {
  engine = await startEngine({ preset: 'laptop' });
  master = await startMesosMaster({ engine });
  authEngine = await startEngine({ nodes: [{ count: 1, capacity: { cpu: 1000, memory: 1024 ** 3 } }] });
  authMaster = await startMesosMaster({
    engine: authEngine,
    authenticate: [{ principal: 'berth', secret: 's3cret' }],
  });
  sb = await berthSandbox(`current-context: dev
contexts:
  dev: { backend: mesos, masters: ["${master.url}"] }
  down: { backend: mesos, masters: ["http://127.0.0.1:9"] }
  secured: { backend: mesos, masters: ["${authMaster.url}"], principal: berth, secret: { env: MESOS_SECRET } }
`);
  await sb.file('web.yaml', SERVICE_AND_TASK);
  await sb.file('bad.yaml', INVALID_SPEC);
}, 60_000);

afterAll(async () => {
  await master?.close();
  await engine?.stop();
  await authMaster?.close();
  await authEngine?.stop();
  await sb?.[Symbol.asyncDispose]();
});

describe('berth against the Mesos face', { timeout: 60_000 }, () => {
  it('plans each task onto a node with its score', async () => {
    const r = await sb.berth(['plan', '-f', 'web.yaml']);
    expect(r.stderr).toMatch(/^profile spread, seed 0, 3 nodes \(live snapshot\): 3 placed, 0 unplaceable$/m);
    expect(r.code).toBe(0);
    for (const id of ['web-0', 'web-1', 'hello']) expect(r.stdout).toMatch(new RegExp(`^${id}\\s+\\S+`, 'm'));
  });

  it('runs a 2-replica service and a finishing task, waiting until they run', async () => {
    const r = await sb.berth(['run', '-f', 'web.yaml', '--wait', '--timeout', '40s']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^service\/web created$/m);
    expect(r.stdout).toMatch(/^task\/hello created$/m);
    expect(r.stdout).toMatch(/^web-0\s+RUNNING/m);
    expect(r.stdout).toMatch(/^web-1\s+RUNNING/m);
    expect(r.stdout).toMatch(/^hello\s+(RUNNING|FINISHED)\s/m);
    // The backend really runs them: the engine has two live sleep processes.
    expect(engine.tasks().filter((t) => t.state === 'RUNNING')).toHaveLength(2);
  });

  it('runs again without launching twice (unchanged)', async () => {
    const r = await sb.berth(['run', '-f', 'web.yaml']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('service/web unchanged\ntask/hello unchanged\n');
    expect(engine.tasks().filter((t) => t.id.startsWith('web-'))).toHaveLength(2);
  });

  it('lists the three agents as nodes', async () => {
    const r = await sb.berth(['get', 'nodes']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+STATUS\s+CPU\s+MEMORY\s+TASKS$/);
    expect(lines.slice(1)).toHaveLength(3);
    for (const l of lines.slice(1)) expect(l).toMatch(/\sReady\s/);
  });

  it('lists tasks wide and as json with the states the master reports', async () => {
    const wide = await sb.berth(['get', 'tasks', '-o', 'wide']);
    expect(wide.code).toBe(0);
    expect(wide.stdout).toMatch(/^NAME\s+STATE\s+NODE\s+PORTS\s+AGE\s+SERVICE\s+HOSTNAME\s+EXIT/);
    expect(wide.stdout).toMatch(/^hello\s+FINISHED\s.*\s0\s/m);
    expect(wide.stdout).toMatch(/^web-0\s+RUNNING\s.*\sweb\s+node-\d/m);
    const json = await sb.berth(['get', 'tasks', '-o', 'json']);
    expect(json.code).toBe(0);
    const items = taskItems(json.stdout);
    expect(items.map((t) => [t.id, t.state, t.backend])).toEqual([
      ['hello', 'FINISHED', 'mesos'],
      ['web-0', 'RUNNING', 'mesos'],
      ['web-1', 'RUNNING', 'mesos'],
    ]);
    expect(items.find((t) => t.id === 'hello')?.exitCode).toBe(0);
  });

  it('describes a task', async () => {
    const r = await sb.berth(['describe', 'task', 'web-1']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Name:\s+web-1$/m);
    expect(r.stdout).toMatch(/^Service:\s+web$/m);
    expect(r.stdout).toMatch(/^State:\s+RUNNING$/m);
    expect(r.stdout).toMatch(/^Backend State:\s+TASK_RUNNING \(mesos\)$/m);
    const missing = await sb.berth(['describe', 'task', 'web-9']);
    expect(missing.code).toBe(BERTH_ERROR_CODES.NOT_FOUND.exitCode);
  });

  it(`prints a task's output`, async () => {
    const r = await sb.berth(['logs', 'hello']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('hello from berth');
  });

  it('scales the service to 3 replicas and lists their endpoints', async () => {
    const r = await sb.berth(['scale', 'service', 'web', '3']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/web scaled to 3/);
    const tasks = await eventually(
      async () =>
        taskItems((await sb.berth(['get', 'tasks', '-o', 'json', '-l', 'berth.dev/service=web'])).stdout),
      (items) => items.length === 3 && items.every((t) => t.state === 'RUNNING'),
    );
    expect(tasks.map((t) => [t.id, t.state])).toEqual([
      ['web-0', 'RUNNING'],
      ['web-1', 'RUNNING'],
      ['web-2', 'RUNNING'],
    ]);
    const ep = await sb.berth(['endpoints', 'web']);
    expect(ep.code).toBe(0);
    for (const id of ['web-0', 'web-1', 'web-2']) expect(ep.stdout).toMatch(new RegExp(`^${id}\\s`, 'm'));
  });

  it('shows what happened while it connected as events', async () => {
    const r = await sb.berth(['events', '--duration', '300ms']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^LAST SEEN\s+TYPE\s+REASON\s+OBJECT\s+MESSAGE$/m);
    expect(r.stdout).toMatch(/Connected\s+<cluster>\s+subscribed to http:\/\/127\.0\.0\.1:\d+ as framework /);
    const json = await sb.berth(['events', '--duration', '300ms', '-o', 'json']);
    expect((JSON.parse(json.stdout) as { kind: string }).kind).toBe('EventList');
  });

  it('deletes the service and its tasks end KILLED on the cluster', async () => {
    const r = await sb.berth(['delete', 'service', 'web']);
    expect(r.code).toBe(0);
    const tasks = await eventually(
      async () =>
        taskItems((await sb.berth(['get', 'tasks', '-o', 'json', '-l', 'berth.dev/service=web'])).stdout),
      (items) => items.every((t) => t.state === 'KILLED'),
    );
    expect(tasks.map((t) => t.state)).toEqual(['KILLED', 'KILLED', 'KILLED']);
    await eventually(
      async () => engine.tasks().filter((t) => t.state === 'RUNNING').length,
      (n) => n === 0,
    );
    expect(engine.tasks().filter((t) => t.state === 'RUNNING')).toHaveLength(0);
  });
});

describe('bad input', { timeout: 60_000 }, () => {
  it('suggests the flag for a typo (exit 1)', async () => {
    const r = await sb.berth(['get', 'tasks', '--outptu', 'json']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: unknown option '--outptu'\n\(Did you mean --output\?\)/);
  });

  it('names a missing spec file (SPEC_INVALID) and touches nothing', async () => {
    const r = await sb.berth(['run', '-f', 'nope.yaml']);
    expect(r.code).toBe(BERTH_ERROR_CODES.SPEC_INVALID.exitCode);
    expect(r.stderr).toMatch(/nope\.yaml: cannot read spec file: no such file/);
  });

  it('lists every invalid field with its path', async () => {
    const r = await sb.berth(['run', '-f', 'bad.yaml']);
    expect(r.code).toBe(BERTH_ERROR_CODES.SPEC_INVALID.exitCode);
    expect(r.stderr).toMatch(/^ {2}bad\.yaml:3:\d+: metadata\.name: /m);
    expect(r.stderr).toMatch(/^ {2}bad\.yaml:5:\d+: spec\.replicas: /m);
    expect(r.stderr).toMatch(/spec\.template\.resources\.requests\.cpu: /);
    expect(engine.tasks().some((t) => t.id.startsWith('Bad'))).toBe(false);
  });

  it('reports an unreachable master as BACKEND_UNAVAILABLE with the URL tried', async () => {
    const r = await sb.berth(['--context', 'down', 'get', 'tasks']);
    expect(r.code).toBe(BERTH_ERROR_CODES.BACKEND_UNAVAILABLE.exitCode);
    expect(r.stderr).toMatch(
      /^error: cannot reach the Mesos master of context down \(tried http:\/\/127\.0\.0\.1:9\)/,
    );
    expect(r.stderr).toMatch(/^hint: /m);
  });

  it('reports rejected credentials as AUTH_FAILED and works with the right secret', async () => {
    const wrong = await sb.berth(['--context', 'secured', 'get', 'tasks'], { MESOS_SECRET: 'wrong' });
    expect(wrong.code).toBe(BERTH_ERROR_CODES.AUTH_FAILED.exitCode);
    expect(wrong.stderr).toMatch(
      /^error: the Mesos master rejected the credentials of context secured \(principal berth\)/,
    );
    expect(wrong.stderr).not.toContain('wrong');
    const missing = await sb.berth(['--context', 'secured', 'get', 'tasks']);
    expect(missing.code).toBe(BERTH_ERROR_CODES.AUTH_FAILED.exitCode);
    expect(missing.stderr).toMatch(/environment variable MESOS_SECRET is not set/);
    const right = await sb.berth(['--context', 'secured', 'get', 'nodes'], { MESOS_SECRET: 's3cret' });
    expect(right.stderr).toBe('');
    expect(right.code).toBe(0);
  });
});
