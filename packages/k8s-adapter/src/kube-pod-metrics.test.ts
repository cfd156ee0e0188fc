import { decideScale, emptyAutoscaleHistory } from '@berth/core';
import { describe, expect, it } from 'vitest';
import { parseGoDuration, podMetricSample, podUsageOf } from './kube-pod-metrics.ts';
import { podRecord } from './records.ts';

const START = '2026-01-01T00:00:00Z';
const T0 = Date.parse(START);

/** A pod as the API server returns it: one container requesting `cpu`. */
function pod(name: string, over: { phase?: string; ready?: boolean; deleting?: boolean; cpu?: string } = {}) {
  return podRecord({
    metadata: {
      name,
      namespace: 'default',
      uid: `uid-${name}`,
      labels: { 'berth.dev/service': 'web' },
      ...(over.deleting ? { deletionTimestamp: START } : {}),
    },
    spec: {
      nodeName: 'n1',
      containers: [{ name: 'main', resources: { requests: { cpu: over.cpu ?? '100m', memory: '64Mi' } } }],
    },
    status: {
      phase: over.phase ?? 'Running',
      startTime: START,
      conditions: [{ type: 'Ready', status: over.ready === false ? 'False' : 'True' }],
    },
  });
}

const metrics = (name: string, cpu: string, memory?: string) => ({
  metadata: { name },
  timestamp: '2026-01-01T00:10:00Z',
  window: '10.5s',
  containers: [{ name: 'main', usage: { cpu, ...(memory === undefined ? {} : { memory }) } }],
});

describe('metrics.k8s.io → core samples', () => {
  it('parses Go durations as metrics-server writes windows', () => {
    expect(parseGoDuration('10s')).toBe(10_000);
    expect(parseGoDuration('10.5s')).toBe(10_500);
    expect(parseGoDuration('1m0.25s')).toBe(60_250);
    expect(parseGoDuration('150ms')).toBe(150);
    expect(parseGoDuration('1h2m')).toBe(3_720_000);
    expect(parseGoDuration('0')).toBe(0);
    expect(parseGoDuration('10')).toBeUndefined();
    expect(parseGoDuration('s')).toBeUndefined();
    expect(parseGoDuration(undefined)).toBeUndefined();
  });

  it('sums container usage, nanocores rounded up to millicores as MilliValue does', () => {
    expect(
      podUsageOf({
        containers: [
          { name: 'a', usage: { cpu: '1000000n', memory: '1Mi' } },
          { name: 'b', usage: { cpu: '250m', memory: '1024Ki' } },
        ],
      }),
    ).toEqual({ cpu: 251, memory: 2 * 1024 ** 2 });
    expect(podUsageOf({ containers: [{ name: 'a', usage: { cpu: '1500001n' } }] })).toEqual({ cpu: 2 });
  });

  it('leaves a resource out when a container lacks it or the pod reports no containers', () => {
    expect(
      podUsageOf({
        containers: [
          { name: 'a', usage: { cpu: '10m', memory: '1Mi' } },
          { name: 'b', usage: { cpu: '10m' } },
        ],
      }),
    ).toEqual({ cpu: 20 });
    expect(podUsageOf({ containers: [] })).toEqual({});
    expect(podUsageOf({ containers: [{ name: 'a', usage: { cpu: 'lots' } }] })).toEqual({});
  });

  it('maps phase, deletion and the Ready condition as the HPA groups pods', () => {
    expect(podMetricSample(pod('a'), metrics('a', '50m', '32Mi'))).toEqual({
      taskId: 'a',
      state: 'RUNNING',
      ready: true,
      startedAt: T0,
      requests: { cpu: 100, memory: 64 * 1024 ** 2 },
      usage: { cpu: 50, memory: 32 * 1024 ** 2 },
      sampledAt: T0 + 600_000,
      windowMs: 10_500,
    });
    expect(podMetricSample(pod('b', { phase: 'Pending', ready: false }), undefined)).toMatchObject({
      state: 'PENDING',
      ready: false,
    });
    expect(podMetricSample(pod('c', { deleting: true }), undefined).state).toBe('KILLING');
    expect(podMetricSample(pod('d', { phase: 'Failed' }), undefined).state).toBe('FAILED');
    expect(podMetricSample(pod('e'), undefined)).not.toHaveProperty('usage');
    expect(podMetricSample(pod('f', { cpu: '0' }), undefined).requests).not.toHaveProperty('cpu');
  });

  it("keeps the Ready condition's lastTransitionTime through the cache's slim record", () => {
    const readySince = '2026-01-01T00:00:40Z';
    const record = podRecord({
      metadata: { name: 'w', namespace: 'default', uid: 'uid-w' },
      spec: { nodeName: 'n1', containers: [{ name: 'main', resources: { requests: { cpu: '100m' } } }] },
      status: {
        phase: 'Running',
        startTime: START,
        conditions: [
          { type: 'PodScheduled', status: 'True', lastTransitionTime: START },
          { type: 'Ready', status: 'True', lastTransitionTime: readySince },
        ],
      },
    });
    expect(
      record.status.conditions?.find((c) => c.type === 'PodScheduled')?.lastTransitionTime,
    ).toBeUndefined();
    const sample = podMetricSample(record, metrics('w', '50m'));
    expect(sample.startedAt).toBe(T0);
    expect(sample.readyChangedAt).toBe(Date.parse(readySince));
  });

  it('feeds the HPA calculation: a pod without metrics counts as 100 % on the way down', () => {
    // Four ready pods at 10 % and one without a sample, which is taken at 100 % of its request.
    const samples = [
      ...['a', 'b', 'c', 'd'].map((n) => podMetricSample(pod(n), metrics(n, '10m'))),
      podMetricSample(pod('e'), undefined),
    ];
    const d = decideScale({
      currentReplicas: 5,
      policy: {
        minReplicas: 1,
        maxReplicas: 5,
        metrics: [{ resource: 'cpu', targetAverageUtilization: 50 }],
      },
      samples,
      history: emptyAutoscaleHistory(),
      now: T0 + 3_600_000,
    });
    expect(d.metrics[0]).toMatchObject({
      status: 'ok',
      utilization: 10,
      basis: 'ScaledConservatively',
      groups: { ready: ['a', 'b', 'c', 'd'], missing: ['e'] },
    });
    // (4 × 10 + 100) / 5 = 28 % → ratio 0.56 → ceil(5 × 0.56) = 3, not the 1 the sampled pods alone suggest.
    expect(d.metrics[0]?.status === 'ok' && d.metrics[0].replicas).toBe(3);
  });
});
