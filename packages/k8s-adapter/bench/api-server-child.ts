/**
 * Child process of the scheduler bench: devcluster's bare Kubernetes API server (no kubelet, no
 * controllers), so that the server's work does not share an event loop with the scheduler. It
 * answers over IPC: `pods` creates pending (or bound) pods straight in its store, `clear` deletes
 * every pod, `watchBound` starts counting bound pods with a prefix (those bound already included)
 * and `bound` resolves with the time the count reached `count`, `profile` starts/stops a CPU
 * profile written to `dir`, `close` stops.
 */
import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import { startKubeApiServer } from '@berth/devcluster';

type Message =
  | { id: number; op: 'pods'; prefix: string; count: number; scheduler: string; nodes?: number }
  | { id: number; op: 'clear' }
  | { id: number; op: 'watchBound'; prefix: string; count: number }
  | { id: number; op: 'bound'; prefix: string }
  | { id: number; op: 'profile'; dir?: string; name?: string }
  | { id: number; op: 'close' };

const server = await startKubeApiServer({ retainedEvents: 50_000 });

function pod(name: string, scheduler: string, nodeName?: string) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', labels: { app: name.replace(/-\d+$/, '') } },
    spec: {
      schedulerName: scheduler,
      ...(nodeName === undefined ? {} : { nodeName }),
      containers: [
        { name: 'main', image: 'busybox:1.36', resources: { requests: { cpu: '100m', memory: '128Mi' } } },
      ],
    },
  };
}

const reply = (id: number, value: unknown = true) => process.send?.({ id, value });
const now = () => performance.timeOrigin + performance.now();

/** prefix → the bound-pod counter started by `watchBound`. */
const counters = new Map<string, { done: Promise<number> }>();
let session: Session | undefined;

process.on('message', async (raw) => {
  const m = raw as Message;
  if (m.op === 'pods') {
    for (let i = 0; i < m.count; i++)
      server.store.create(
        'pods',
        'default',
        pod(`${m.prefix}-${i}`, m.scheduler, m.nodes === undefined ? undefined : `node-${i % m.nodes}`),
      );
    reply(m.id);
  } else if (m.op === 'clear') {
    server.store.deleteCollection('pods', 'default', {}, { gracePeriodSeconds: 0 });
    reply(m.id);
  } else if (m.op === 'watchBound') {
    // The store's own change feed (no copies): the counter must cost the server next to nothing.
    const isOurs = (o: Record<string, unknown>) =>
      (o.metadata as { name?: string }).name?.startsWith(`${m.prefix}-`) === true &&
      Boolean((o.spec as { nodeName?: string }).nodeName);
    const seen = new Set<string>();
    for (const o of server.store.store.listShared('pods', 'default'))
      if (isOurs(o)) seen.add((o.metadata as { name: string }).name);
    const done = new Promise<number>((resolve) => {
      if (seen.size >= m.count) return resolve(now());
      const stop = server.store.store.subscribe((e) => {
        if (e.resource !== 'pods' || e.type === 'DELETED' || !isOurs(e.object)) return;
        seen.add((e.object.metadata as { name: string }).name);
        if (seen.size >= m.count) {
          stop();
          resolve(now());
        }
      });
    });
    counters.set(m.prefix, { done });
    reply(m.id);
  } else if (m.op === 'bound') {
    reply(m.id, await counters.get(m.prefix)?.done);
    counters.delete(m.prefix);
  } else if (m.op === 'profile') {
    if (m.dir === undefined) {
      session = new Session();
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.start');
    } else if (session !== undefined) {
      const { profile } = await session.post('Profiler.stop');
      await writeFile(join(m.dir, `${m.name ?? 'api-server'}.cpuprofile`), JSON.stringify(profile));
      session.disconnect();
      session = undefined;
    }
    reply(m.id);
  } else {
    void server.close().then(() => process.send?.({ id: m.id, value: true }, () => process.exit(0)));
  }
});
process.send?.({ ready: server.kubeconfigPath });
