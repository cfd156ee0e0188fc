import { describe, expect, it } from 'vitest';
import { FakeClock } from '../cluster/clock.ts';
import { BerthError, isBerthError } from '../cluster/errors.ts';
import { DEFAULT_SCALE_DOWN, DEFAULT_SCALE_UP } from '../spec/defaults.ts';
import { Autoscaler, type AutoscalerEvent, type MetricsSource, type Scaler } from './autoscaler.ts';
import type { AutoscalePolicy } from './decide.ts';
import type { PodMetricSample } from './replica-calculator.ts';

const START = 1_700_000_000_000;
const PERIOD = 15_000;

/**
 * A toy service: `replicas` tasks that share `load` millicpu of demand evenly, each requesting
 * 1 cpu. Scaling changes the replica count at once (every task is ready and past initialization).
 */
class FakeService implements MetricsSource, Scaler {
  replicas: number;
  load = 0;
  readonly scaleCalls: number[] = [];
  failScale = false;
  readonly clock: FakeClock;
  constructor(clock: FakeClock, replicas: number) {
    this.clock = clock;
    this.replicas = replicas;
  }
  async currentReplicas(): Promise<number> {
    return this.replicas;
  }
  async scale(_service: string, n: number): Promise<void> {
    if (this.failScale) throw new Error('backend said no');
    this.scaleCalls.push(n);
    this.replicas = n;
  }
  async podMetrics(): Promise<PodMetricSample[]> {
    const each = this.replicas === 0 ? 0 : Math.floor(this.load / this.replicas);
    return Array.from({ length: this.replicas }, (_, i) => ({
      taskId: `web-${i}`,
      state: 'RUNNING',
      ready: true,
      startedAt: START - 3_600_000,
      requests: { cpu: 1000 },
      usage: { cpu: each },
      sampledAt: this.clock.now(),
    }));
  }
}

const policy = (over: Partial<AutoscalePolicy> = {}): AutoscalePolicy => ({
  minReplicas: 1,
  maxReplicas: 10,
  metrics: [{ resource: 'cpu', targetAverageUtilization: 50 }],
  behavior: { scaleUp: DEFAULT_SCALE_UP, scaleDown: DEFAULT_SCALE_DOWN },
  ...over,
});

function setup(replicas: number, p = policy()) {
  const clock = new FakeClock(START);
  const svc = new FakeService(clock, replicas);
  const autoscaler = new Autoscaler({ metrics: svc, scaler: svc, clock, syncPeriodMs: PERIOD });
  autoscaler.add('web', p);
  const events: AutoscalerEvent[] = [];
  const off = autoscaler.subscribe((e) => events.push(e));
  /** Advance one sync period and wait for that sync to finish. */
  const tick = async (n = 1) => {
    for (let i = 0; i < n; i++) {
      await clock.advanceAsync(PERIOD);
      await autoscaler.whenIdle();
    }
  };
  return { clock, svc, autoscaler, events, off, tick };
}

describe('Autoscaler', () => {
  it('syncs once per period on the injected clock and emits one decision per sync', async () => {
    const { svc, autoscaler, events, tick } = setup(2);
    svc.load = 1000; // 50 % of 2 cpu: on target
    autoscaler.start();
    await tick(3);
    expect(events.map((e) => [e.type, e.at - START])).toEqual([
      ['decision', 15_000],
      ['decision', 30_000],
      ['decision', 45_000],
    ]);
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(svc.scaleCalls).toEqual([]);
    autoscaler.stop();
  });

  it('scales a loaded service up to max, limited by the default 4 pods / 100 % per 15 s', async () => {
    const { svc, autoscaler, events, tick } = setup(1);
    svc.load = 20_000; // 20 cpu of demand: 40 replicas at 50 %, capped at 10
    autoscaler.start();
    await tick(4);
    expect(svc.scaleCalls).toEqual([5, 10]);
    const reasons = events.map((e) => (e.type === 'decision' ? e.decision.reason : e.type));
    expect(reasons).toEqual(['ScaleUpLimit', 'TooManyReplicas', 'TooManyReplicas', 'TooManyReplicas']);
    autoscaler.stop();
  });

  it('scales down only after the 300 s stabilization window when the load stops', async () => {
    const { svc, autoscaler, events, tick } = setup(1);
    svc.load = 10_000;
    autoscaler.start();
    await tick(2);
    expect(svc.replicas).toBe(10);
    svc.load = 0;
    const stoppedAt = autoscaler.history('web')!.recommendations.at(-1)!.at;
    // Every sync inside the window is stabilized at 10.
    await tick(19);
    expect(svc.replicas).toBe(10);
    const last = events.at(-1)!;
    expect(last.type === 'decision' && last.decision.reason).toBe('ScaleDownStabilized');
    await tick(1); // the last recommendation of 10 is now 300 s old
    expect(events.at(-1)!.at - stoppedAt).toBe(300_000);
    expect(svc.replicas).toBe(1);
    autoscaler.stop();
  });

  it('scales down after a shortened window', async () => {
    const { svc, autoscaler, tick } = setup(
      6,
      policy({ behavior: { scaleDown: { ...DEFAULT_SCALE_DOWN, stabilizationWindowSeconds: 30 } } }),
    );
    svc.load = 0;
    autoscaler.start();
    await tick(2);
    expect(svc.replicas).toBe(6); // the seed of 6 recorded at the first sync is inside the 30 s window
    await tick(1);
    expect(svc.replicas).toBe(1);
    autoscaler.stop();
  });

  it('emits the decision with its inputs, and records the scale in the history', async () => {
    const { svc, autoscaler } = setup(2);
    svc.load = 2000;
    const [event] = await autoscaler.syncNow();
    expect(event).toMatchObject({
      type: 'decision',
      service: 'web',
      scaled: true,
      decision: { currentReplicas: 2, desiredReplicas: 4, inputs: { policy: policy() } },
    });
    expect(event?.type === 'decision' && event.decision.inputs.samples).toHaveLength(2);
    expect(autoscaler.history('web')!.scaleEvents).toEqual([{ at: START, change: 2 }]);
  });

  it('reports a failed scale as a failure event and does not record it as a scale', async () => {
    const { svc, autoscaler } = setup(2);
    svc.load = 2000;
    svc.failScale = true;
    const [event] = await autoscaler.syncNow();
    expect(event?.type).toBe('failure');
    expect(
      event?.type === 'failure' && [event.stage, event.error.code, event.decision?.desiredReplicas],
    ).toEqual(['scale', 'INTERNAL', 4]);
    expect(autoscaler.history('web')!.scaleEvents).toEqual([]);
  });

  it('reports a metrics source failure and keeps the count', async () => {
    const clock = new FakeClock(START);
    const svc = new FakeService(clock, 3);
    const metrics: MetricsSource = {
      podMetrics: async () => {
        throw new BerthError('BACKEND_UNAVAILABLE', 'metrics.k8s.io is not served');
      },
    };
    const autoscaler = new Autoscaler({ metrics, scaler: svc, clock });
    autoscaler.add('web', policy());
    const [event] = await autoscaler.syncNow();
    expect(event?.type === 'failure' && [event.stage, event.error.code]).toEqual([
      'metrics',
      'BACKEND_UNAVAILABLE',
    ]);
    expect(svc.scaleCalls).toEqual([]);
  });

  it('stops delivering to a listener after unsubscribe, and stops syncing after stop()', async () => {
    const { svc, autoscaler, events, off, tick, clock } = setup(2);
    svc.load = 1000;
    autoscaler.start();
    await tick(1);
    off();
    await tick(1);
    expect(events).toHaveLength(1);
    autoscaler.stop();
    expect(clock.pendingTimers).toBe(0);
    const before = autoscaler.history('web')!.recommendations.length;
    await tick(2);
    expect(autoscaler.history('web')!.recommendations.length).toBe(before);
  });

  it('never overlaps two syncs', async () => {
    const { svc, autoscaler } = setup(2);
    svc.load = 1000;
    let active = 0;
    let maxActive = 0;
    const slow = svc.podMetrics.bind(svc);
    svc.podMetrics = async () => {
      active++;
      maxActive = Math.max(maxActive, active);
      await Promise.resolve();
      const r = await slow();
      active--;
      return r;
    };
    await Promise.all([autoscaler.syncNow(), autoscaler.syncNow(), autoscaler.syncNow()]);
    expect(maxActive).toBe(1);
  });

  it('streams events as an async iterable that ends on abort', async () => {
    const { svc, autoscaler } = setup(2);
    svc.load = 1000;
    const ac = new AbortController();
    const seen: number[] = [];
    const consumer = (async () => {
      for await (const e of autoscaler.events({ signal: ac.signal })) seen.push(e.seq);
    })();
    await autoscaler.syncNow();
    await autoscaler.syncNow();
    ac.abort();
    await consumer;
    expect(seen).toEqual([1, 2]);
  });

  it('refuses a bad policy or an unknown service with errors that say what to fix', async () => {
    const { autoscaler } = setup(1);
    expect(() => autoscaler.add('web', policy({ minReplicas: 5, maxReplicas: 2 }))).toThrow(
      /maxReplicas: \(2\) must be at least minReplicas \(5\)/,
    );
    await expect(autoscaler.syncNow('api')).rejects.toSatisfy((e) => isBerthError(e, 'NOT_FOUND'));
    expect(() => new Autoscaler({ metrics: {} as MetricsSource, scaler: {} as Scaler })).toThrow(
      /metrics: must be a MetricsSource/,
    );
  });
});
