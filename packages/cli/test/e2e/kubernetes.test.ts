/**
 * The `berth` process against devcluster's Kubernetes face (started in this test process with the
 * virtual kubelet and a Berth scheduler, as `berth devcluster up` runs it), context mode `berth`.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BERTH_ERROR_CODES } from '@berth/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningDevcluster, startDevcluster } from '../../src/devcluster/start-devcluster.ts';
import {
  type BerthSandbox,
  berthSandbox,
  eventually,
  INVALID_SPEC,
  SERVICE_AND_TASK,
  TWO_TASKS,
  taskItems,
} from './berth-process.ts';

let stateDir: string;
let dc: RunningDevcluster;
let sb: BerthSandbox;

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'berth-e2e-dc-'));
  dc = await startDevcluster({ preset: 'laptop', mesosPort: 0, kubePort: 0, stateDir });
  const kc = JSON.parse(await readFile(dc.kubeconfigPath, 'utf8')) as {
    clusters: { cluster: { server: string } }[];
    users: { user: { token?: string } }[];
  };
  const variant = async (name: string, change: (k: typeof kc) => void) => {
    const copy = structuredClone(kc);
    change(copy);
    await writeFile(join(stateDir, name), JSON.stringify(copy));
    return join(stateDir, name);
  };
  const unreachable = await variant('unreachable.kubeconfig', (k) => {
    k.clusters[0]!.cluster.server = 'https://127.0.0.1:9';
  });
  const wrongToken = await variant('wrong-token.kubeconfig', (k) => {
    k.users[0]!.user.token = 'not-the-token';
  });
  sb = await berthSandbox(`current-context: k8s
contexts:
  k8s: { backend: kubernetes, kubeconfig: "${dc.kubeconfigPath}", context: devcluster, mode: berth }
  down: { backend: kubernetes, kubeconfig: "${unreachable}", mode: berth }
  badtoken: { backend: kubernetes, kubeconfig: "${wrongToken}", mode: berth }
`);
  await sb.file('tasks.yaml', TWO_TASKS);
  await sb.file('service.yaml', SERVICE_AND_TASK.split('---')[0]!);
  await sb.file('bad.yaml', INVALID_SPEC);
}, 60_000);

afterAll(async () => {
  await dc?.stop();
  await sb?.[Symbol.asyncDispose]();
  if (stateDir) await rm(stateDir, { recursive: true, force: true });
});

const pods = () => dc.kube.store.list('pods', '').items as { metadata: { name: string } }[];

describe('berth against the Kubernetes face', { timeout: 60_000 }, () => {
  it('plans each task onto a node', async () => {
    const r = await sb.berth(['plan', '-f', 'tasks.yaml']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^profile spread, seed 0, 3 nodes \(live snapshot\): 2 placed, 0 unplaceable$/m);
    expect(r.stdout).toMatch(/^nap\s+node-\d/m);
    expect(r.stdout).toMatch(/^hello\s+node-\d/m);
  });

  it('runs a long task and a finishing one, waiting until they run', async () => {
    const r = await sb.berth(['run', '-f', 'tasks.yaml', '--wait', '--timeout', '40s']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^task\/nap created$/m);
    expect(r.stdout).toMatch(/^nap\s+RUNNING\s+node-\d/m);
    expect(r.stdout).toMatch(/^hello\s+(RUNNING|FINISHED)\s/m);
    expect(
      pods()
        .map((p) => p.metadata.name)
        .sort(),
    ).toEqual(['hello', 'nap']);
  });

  it('lists the virtual kubelet nodes', async () => {
    const r = await sb.berth(['get', 'nodes']);
    expect(r.code).toBe(0);
    expect(
      r.stdout
        .trim()
        .split('\n')
        .slice(1)
        .map((l) => l.split(/\s+/)[0]),
    ).toEqual(['node-1', 'node-2', 'node-3']);
  });

  it('lists tasks wide and as json', async () => {
    const items = await eventually(
      async () => taskItems((await sb.berth(['get', 'tasks', '-o', 'json'])).stdout),
      (xs) => xs.find((t) => t.id === 'hello')?.state === 'FINISHED',
    );
    expect(items.map((t) => [t.id, t.state, t.backend])).toEqual([
      ['hello', 'FINISHED', 'kubernetes'],
      ['nap', 'RUNNING', 'kubernetes'],
    ]);
    const wide = await sb.berth(['get', 'tasks', '-o', 'wide']);
    expect(wide.code).toBe(0);
    expect(wide.stdout).toMatch(/^nap\s+RUNNING\s+node-\d\s/m);
  });

  it('describes a task', async () => {
    const r = await sb.berth(['describe', 'task', 'hello']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^State:\s+FINISHED$/m);
    expect(r.stdout).toMatch(/^Backend State:\s+Succeeded \(kubernetes\)$/m);
    expect(r.stdout).toMatch(/^Exit Code:\s+0$/m);
  });

  it(`prints a task's output`, async () => {
    const r = await sb.berth(['logs', 'hello']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('hello from berth');
  });

  it('runs a 2-replica service, scales it to 3 and lists their endpoints', async () => {
    const run = await sb.berth(['run', '-f', 'service.yaml', '--wait', '--timeout', '40s']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^service\/web created$/m);
    expect(run.stdout.match(/^web-\S+\s+RUNNING\s+node-\d/gm)).toHaveLength(2);
    const scale = await sb.berth(['scale', 'service', 'web', '3']);
    expect(scale.code).toBe(0);
    const items = await eventually(
      async () =>
        taskItems((await sb.berth(['get', 'tasks', '-o', 'json', '-l', 'berth.dev/service=web'])).stdout),
      (xs) => xs.length === 3 && xs.every((t) => t.state === 'RUNNING'),
    );
    expect(items.map((t) => t.state)).toEqual(['RUNNING', 'RUNNING', 'RUNNING']);
    const services = await sb.berth(['get', 'services']);
    expect(services.stdout).toMatch(/^web\s+3\/3\s/m);
    const ep = await sb.berth(['endpoints', 'web']);
    expect(ep.code).toBe(0);
    expect(ep.stdout.match(/^web-\S+\s+node-\d\s+127\.0\.0\.1\s+http:\d+$/gm)).toHaveLength(3);
    const del = await sb.berth(['delete', 'service', 'web']);
    expect(del.code).toBe(0);
    expect(del.stdout).toBe('service/web deleted\n');
  });

  it('shows what happened while it connected as events', async () => {
    const r = await sb.berth(['events', '--duration', '300ms']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /Connected\s+<cluster>\s+connected to https:\/\/127\.0\.0\.1:\d+ \(berth mode\)/,
    );
  });

  it('deletes a task and its pod goes away', async () => {
    const r = await sb.berth(['delete', 'task', 'nap', '--grace-period', '0']);
    expect(r.code).toBe(0);
    const names = await eventually(
      async () => pods().map((p) => p.metadata.name),
      (xs) => !xs.includes('nap'),
    );
    expect(names).not.toContain('nap');
  });
});

describe('bad input (Kubernetes)', { timeout: 60_000 }, () => {
  it('lists every invalid field before touching the cluster', async () => {
    const r = await sb.berth(['run', '-f', 'bad.yaml']);
    expect(r.code).toBe(BERTH_ERROR_CODES.SPEC_INVALID.exitCode);
    expect(r.stderr).toMatch(/^ {2}bad\.yaml:3:\d+: metadata\.name: /m);
    expect(pods().some((p) => p.metadata.name.startsWith('Bad'))).toBe(false);
  });

  it('reports an unreachable API server as BACKEND_UNAVAILABLE with the URL tried', async () => {
    const r = await sb.berth(['--context', 'down', 'get', 'nodes']);
    expect(r.code).toBe(BERTH_ERROR_CODES.BACKEND_UNAVAILABLE.exitCode);
    expect(r.stderr).toMatch(
      /^error: cannot reach the Kubernetes API server of context down \(tried https:\/\/127\.0\.0\.1:9\)/,
    );
  });

  it('reports a rejected token as AUTH_FAILED', async () => {
    const r = await sb.berth(['--context', 'badtoken', 'get', 'nodes']);
    expect(r.code).toBe(BERTH_ERROR_CODES.AUTH_FAILED.exitCode);
    expect(r.stderr).toMatch(
      /^error: the Kubernetes API server https:\/\/127\.0\.0\.1:\d+ rejected the credentials of context badtoken/,
    );
  });
});
