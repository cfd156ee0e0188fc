/** The parent side of `master-process.ts`: start it, create adapters against it, ask its probe, stop it. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BackendProbe, startChildFixture } from '@berth/adapter-testkit';
import { createMesosAdapter, type MesosAdapter } from '../src/mesos-adapter.ts';
import { testAdapterOptions } from './adapter-options.ts';

export interface RemoteMesosCluster {
  readonly url: string;
  readonly probe: BackendProbe;
  /** A new adapter (not connected) with the tests' timings and a fresh state file. */
  adapter(): MesosAdapter;
  close(): Promise<void>;
}

export async function startRemoteMesosCluster(): Promise<RemoteMesosCluster> {
  const child = await startChildFixture(new URL('./master-process.ts', import.meta.url));
  const url = child.ready;
  const dir = mkdtempSync(join(tmpdir(), 'berth-mesos-conformance-'));
  const adapters: MesosAdapter[] = [];
  let n = 0;
  return {
    url,
    probe: child.probe,
    adapter() {
      const a = createMesosAdapter(testAdapterOptions([url], join(dir, `state-${++n}.sqlite`)));
      adapters.push(a);
      return a;
    },
    async close() {
      for (const a of adapters) await a.close().catch(() => {});
      await child.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
