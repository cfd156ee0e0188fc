import { request } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type KubeApiServer, startKubeApiServer } from './api-server.ts';

let server: KubeApiServer;
beforeAll(async () => {
  server = await startKubeApiServer();
});
afterAll(async () => {
  await server?.close();
});

const pod = (name: string) => ({
  metadata: { name },
  spec: { containers: [{ name: 'c', image: 'busybox' }] },
});

/** An HTTPS watch whose lines are collected as they arrive. */
function openWatch(path: string) {
  const lines: string[] = [];
  let wake = () => {};
  const req = request(
    new URL(path, server.url),
    { ca: server.caPem, headers: { Authorization: `Bearer ${server.token}` } },
    (res) => {
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        buf += d;
        const parts = buf.split('\n');
        buf = parts.pop()!;
        lines.push(...parts);
        wake();
      });
    },
  );
  req.end();
  const until = (n: number) =>
    new Promise<string[]>((resolve) => {
      wake = () => {
        if (lines.length >= n) resolve(lines);
      };
      wake();
    });
  return { until, close: () => req.destroy() };
}

describe('watch streams', () => {
  it('send a burst of changes made in one turn to every watcher whole, typed and in order', async () => {
    const rv = String(server.store.store.revision);
    const path = `/api/v1/namespaces/default/pods?watch=1&resourceVersion=${rv}`;
    const a = openWatch(path);
    const b = openWatch(path);
    server.store.create('pods', 'default', pod('burst-0'));
    await Promise.all([a.until(1), b.until(1)]);
    // Both watches are live now: 40 creates and 40 bindings in one synchronous turn.
    for (let i = 1; i <= 40; i++) server.store.create('pods', 'default', pod(`burst-${i}`));
    for (let i = 1; i <= 40; i++) server.store.bind('default', `burst-${i}`, { target: { name: 'n1' } });
    const [la, lb] = await Promise.all([a.until(81), b.until(81)]);
    a.close();
    b.close();
    expect(la).toEqual(lb);
    const events = la.map((l) => JSON.parse(l) as { type: string; object: Record<string, unknown> });
    const names = Array.from({ length: 40 }, (_, i) => `burst-${i + 1}`);
    expect(events.map((e) => `${e.type} ${(e.object.metadata as { name: string }).name}`)).toEqual([
      'ADDED burst-0',
      ...names.map((n) => `ADDED ${n}`),
      ...names.map((n) => `MODIFIED ${n}`),
    ]);
    for (const e of events) expect(e.object).toMatchObject({ apiVersion: 'v1', kind: 'Pod' });
    for (const e of events.slice(1, 41)) expect(e.object.spec).not.toHaveProperty('nodeName');
    for (const e of events.slice(41)) expect(e.object.spec).toMatchObject({ nodeName: 'n1' });
  });
});
