import { rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { taskDocument, waitFor } from '@berth/adapter-testkit';
import { isBerthError, type LogLine } from '@berth/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createK8sAdapter, type K8sAdapter, logLineOf } from '../src/k8s-adapter.ts';
import { type KubeTestCluster, startKubeTestCluster } from './devcluster-fixture.ts';

let cluster: KubeTestCluster;
let adapter: K8sAdapter;

beforeAll(async () => {
  cluster = await startKubeTestCluster();
  adapter = createK8sAdapter({ kubeConfig: cluster.kubeConfig(), backoff: { initialMs: 50, maxMs: 500 } });
  await adapter.connect();
}, 60_000);
afterAll(async () => {
  await adapter?.close();
  await cluster?.close();
});

async function collect(it: AsyncIterable<LogLine>): Promise<LogLine[]> {
  const out: LogLine[] = [];
  for await (const l of it) out.push(l);
  return out;
}

async function listed(id: string) {
  await waitFor(`${id} to be RUNNING or done`, async () => {
    const [s] = await adapter.tasks({ ids: [id] });
    return s !== undefined && s.state !== 'PENDING' ? s : undefined;
  });
}

async function ended(id: string) {
  await waitFor(`${id} to end`, async () => {
    const [s] = await adapter.tasks({ ids: [id] });
    return s?.state === 'FINISHED' ? s : undefined;
  });
}

describe('logs through pods/log (virtual kubelet log proxy)', () => {
  it('declares the logs capability', () => {
    expect(adapter.capabilities.has('logs')).toBe(true);
  });

  it('returns every line of a finished task with the kubelet timestamps, stderr merged', async () => {
    await adapter.submit([taskDocument('lg-all', { command: 'echo one; echo two >&2; echo three' })]);
    await ended('lg-all');
    const lines = await collect(adapter.logs('lg-all'));
    expect(lines.map((l) => l.line).sort()).toEqual(['one', 'three', 'two']);
    for (const l of lines) {
      expect(l.stream).toBe('stdout');
      expect(Math.abs((l.at ?? 0) - Date.now())).toBeLessThan(60_000);
    }
  });

  it('tailLines returns only the last lines', async () => {
    await adapter.submit([taskDocument('lg-tail', { command: 'for i in 1 2 3 4 5; do echo l$i; done' })]);
    await ended('lg-tail');
    const lines = await collect(adapter.logs('lg-tail', { tailLines: 2 }));
    expect(lines.map((l) => l.line)).toEqual(['l4', 'l5']);
  });

  it('follow streams lines as they are written and ends when the task ends', async () => {
    const gate = join(tmpdir(), `berth-k8s-logs-${process.pid}`);
    await writeFile(gate, '');
    try {
      await adapter.submit([
        taskDocument('lg-follow', {
          command: `echo start; while [ -e ${gate} ]; do sleep 0.05; done; echo stop`,
        }),
      ]);
      await listed('lg-follow');
      const seen: string[] = [];
      const done = (async () => {
        for await (const l of adapter.logs('lg-follow', { follow: true })) {
          seen.push(l.line);
          if (l.line === 'start') await rm(gate, { force: true });
        }
      })();
      await done;
      expect(seen).toEqual(['start', 'stop']);
    } finally {
      await rm(gate, { force: true });
    }
  });

  it('follow ends cleanly when the signal aborts', async () => {
    await adapter.submit([taskDocument('lg-abort', { command: 'echo hi; sleep 30' })]);
    await listed('lg-abort');
    const ac = new AbortController();
    const seen: string[] = [];
    for await (const l of adapter.logs('lg-abort', { follow: true, signal: ac.signal })) {
      seen.push(l.line);
      ac.abort();
    }
    expect(seen).toEqual(['hi']);
    await adapter.kill('lg-abort', { gracePeriodSeconds: 0 });
  });

  it('refuses stderr alone, bad tailLines and unknown tasks with BerthErrors', async () => {
    const code = async (it: AsyncIterable<LogLine>) => {
      try {
        await collect(it);
      } catch (e) {
        return isBerthError(e) ? e.code : String(e);
      }
      return 'none';
    };
    expect(await code(adapter.logs('lg-all', { stream: 'stderr' }))).toBe('UNSUPPORTED');
    expect(await code(adapter.logs('lg-all', { tailLines: -1 }))).toBe('SPEC_INVALID');
    expect(await code(adapter.logs('lg-nope'))).toBe('NOT_FOUND');
  });
});

describe('logLineOf', () => {
  it('splits the kubelet timestamp from the text and keeps lines without one whole', () => {
    expect(logLineOf('2024-05-01T10:00:00.123456789Z hello world')).toEqual({
      stream: 'stdout',
      line: 'hello world',
      at: Date.parse('2024-05-01T10:00:00.123Z'),
    });
    expect(logLineOf('no timestamp here')).toEqual({ stream: 'stdout', line: 'no timestamp here' });
  });
});
