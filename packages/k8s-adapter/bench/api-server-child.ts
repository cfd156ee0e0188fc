/**
 * Child process of the scheduler bench: devcluster's bare Kubernetes API server (no kubelet, no
 * controllers), so that the server's work does not share an event loop with the scheduler. It
 * answers over IPC: `pods` creates pending (or bound) pods straight in its store, `clear` deletes
 * every pod, `bound` resolves once that many pods with the prefix are bound, `close` stops.
 */
import { startKubeApiServer } from '@berth/devcluster';

type Message =
  | { id: number; op: 'pods'; prefix: string; count: number; scheduler: string; nodes?: number }
  | { id: number; op: 'clear' }
  | { id: number; op: 'bound'; prefix: string; count: number }
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

process.on('message', (raw) => {
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
  } else if (m.op === 'bound') {
    const seen = new Set<string>();
    const stop = server.store.watch('pods', 'default', {}, (e) => {
      const meta = e.object.metadata as { name?: string };
      const spec = e.object.spec as { nodeName?: string };
      if (!spec.nodeName || !meta.name?.startsWith(`${m.prefix}-`)) return;
      seen.add(meta.name);
      if (seen.size === m.count) {
        stop();
        reply(m.id, performance.timeOrigin + performance.now());
      }
    });
  } else {
    void server.close().then(() => process.send?.({ id: m.id, value: true }, () => process.exit(0)));
  }
});
process.send?.({ ready: server.kubeconfigPath });
