/**
 * Follows a service's endpoints the way the autoscaling end-to-end tests check them: a watch from
 * the initial list on, a wait until a given number of endpoints, and at the end the task ids that
 * were added and removed along the way.
 */
import { waitFor } from '@berth/adapter-testkit';
import type { EndpointEvent } from '@berth/core';
import type { K8sAdapter } from '../src/k8s-adapter.ts';

export interface FollowedEndpoints {
  /** Every event seen so far. */
  readonly seen: readonly EndpointEvent[];
  /** Resolves once the service has exactly `n` endpoints. */
  reach(n: number, timeoutMs: number): Promise<void>;
  /** Waits for `removals` removals, ends the watch, and returns the task ids added and removed. */
  finish(removals: number): Promise<{ added: Set<string>; removed: Set<string> }>;
}

export function followEndpoints(adapter: K8sAdapter, service: string): FollowedEndpoints {
  const seen: EndpointEvent[] = [];
  const watching = new AbortController();
  const done = (async () => {
    for await (const e of adapter.watchEndpoints(service, { signal: watching.signal, initial: true }))
      seen.push(e);
  })();
  const ids = (type: EndpointEvent['type']) =>
    new Set(seen.filter((e) => e.type === type).map((e) => e.endpoint.taskId));
  return {
    seen,
    async reach(n, timeoutMs) {
      await waitFor(
        `${n} endpoints of ${service}`,
        async () => ((await adapter.endpoints(service)).length === n ? true : undefined),
        { timeoutMs },
      );
    },
    async finish(removals) {
      await waitFor(`${removals} endpoints of ${service} removed`, () =>
        seen.filter((e) => e.type === 'removed').length >= removals ? true : undefined,
      );
      watching.abort();
      await done;
      return { added: ids('added'), removed: ids('removed') };
    },
  };
}
