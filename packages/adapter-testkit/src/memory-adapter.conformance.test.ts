import { describeAdapterConformance } from './conformance.ts';
import { createMemoryAdapter } from './memory-adapter.ts';
import { MemoryCluster } from './memory-cluster.ts';

// The reference adapter passes every case, exactly as an adapter package would run the suite.
const cluster = new MemoryCluster();

describeAdapterConformance({
  name: 'memory (reference)',
  createAdapter: () => createMemoryAdapter({ cluster }),
  probe: cluster,
  timeouts: { stateMs: 2_000, settleMs: 100 },
});
