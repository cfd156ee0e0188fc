import { describe, expect, it } from 'vitest';
import {
  assertCapabilities,
  CAPABILITIES,
  capabilities,
  missingCapabilities,
  replicaTaskId,
} from './adapter.ts';
import { isBerthError } from './errors.ts';

const adapter = { name: 'mesos', capabilities: capabilities('gang', 'logs', 'services') };

describe('assertCapabilities', () => {
  it('passes when every needed capability is declared', () => {
    expect(() => assertCapabilities(adapter, ['gang', 'logs'])).not.toThrow();
  });

  it('fails once, listing every missing capability and what needed them', () => {
    let err: unknown;
    try {
      assertCapabilities(adapter, ['preemption', 'gang', 'autoscaling', 'preemption'], 'profile batch');
    } catch (e) {
      err = e;
    }
    expect(isBerthError(err, 'UNSUPPORTED')).toBe(true);
    expect((err as Error).message).toBe(
      '[berth] [core/cluster] adapter mesos lacks capabilities preemption, autoscaling for profile batch',
    );
    expect((err as { details: unknown }).details).toEqual({
      adapter: 'mesos',
      missing: ['preemption', 'autoscaling'],
    });
  });

  it('reports nothing missing for an adapter that declares everything', () => {
    expect(missingCapabilities({ capabilities: capabilities(...CAPABILITIES) }, CAPABILITIES)).toEqual([]);
  });
});

describe('replicaTaskId', () => {
  it('names replicas by index and rejects a bad index', () => {
    expect(replicaTaskId('web', 2)).toBe('web-2');
    expect(() => replicaTaskId('web', -1)).toThrow(/replica index must be an integer >= 0/);
  });
});
