import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startKubeApiServer } from '../../src/index.ts';
import { call } from './helpers.ts';

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('a Kubernetes face with a stateDir', () => {
  it('keeps objects, revision, token and CA across a restart', async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-kube-state-'));
    const first = await startKubeApiServer({ stateDir: dir });
    const pod = first.store.create('pods', 'default', {
      metadata: { name: 'kept', labels: { a: 'b' } },
      spec: { containers: [{ name: 'c', image: 'busybox' }] },
    });
    const svc = first.store.create('services', 'default', {
      metadata: { name: 's' },
      spec: { ports: [{ port: 80 }] },
    });
    const revision = first.store.store.revision;
    const { token, caPem } = first;
    await first.close();

    const second = await startKubeApiServer({ stateDir: dir });
    try {
      expect(second.token).toBe(token);
      expect(second.caPem).toBe(caPem);
      const again = (await call(second, 'GET', '/api/v1/namespaces/default/pods/kept')).json();
      expect(again.metadata).toEqual(pod.metadata);
      const other = second.store.create('services', 'default', {
        metadata: { name: 't' },
        spec: { ports: [{ port: 80 }] },
      });
      expect((other.spec as { clusterIP: string }).clusterIP).not.toBe(
        (svc.spec as { clusterIP: string }).clusterIP,
      );
      expect(Number((other.metadata as { resourceVersion: string }).resourceVersion)).toBeGreaterThan(
        revision,
      );
      const endpoints = second.store.get('endpoints', 'default', 'kubernetes');
      expect(JSON.stringify(endpoints.subsets)).toContain(`"port":${new URL(second.url).port}`);
      const stale = await call(second, 'GET', `/api/v1/pods?watch=1&resourceVersion=${revision - 1}`);
      expect(stale.text).toContain('"code":410');
    } finally {
      await second.close();
    }
  });

  it('refuses a corrupt state file with a BerthError that names it and the fix', async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-kube-state-'));
    await writeFile(join(dir, 'state.json'), '{not json');
    await expect(startKubeApiServer({ stateDir: dir })).rejects.toMatchObject({
      name: 'BerthError',
      code: 'SPEC_INVALID',
      message: expect.stringContaining('state.json is not valid JSON'),
      hint: 'delete the file (or the whole stateDir) to start from an empty cluster',
    });
  });
});
