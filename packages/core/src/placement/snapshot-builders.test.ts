import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { place } from './place.ts';
import { snapshotFromKubernetes } from './snapshot-kubernetes.ts';
import { type MesosOffer, snapshotFromMesosOffers } from './snapshot-mesos.ts';
import { createPlacementTask } from './task.ts';

const fixture = new URL(
  '../../../../../shared/fixtures/mesos-real/15-scheduler-subscribe.events.json',
  import.meta.url,
);

function recordedOffers(): MesosOffer[] {
  const events = JSON.parse(readFileSync(fixture, 'utf8')) as {
    type?: string;
    offers?: { offers: MesosOffer[] };
  }[];
  return events.filter((e) => e.type === 'OFFERS').flatMap((e) => e.offers!.offers);
}

describe('snapshotFromMesosOffers', () => {
  it('turns the offers a real master sent into one node per agent', () => {
    const offers = recordedOffers();
    expect(offers.length).toBeGreaterThan(0);
    const snap = snapshotFromMesosOffers(offers.slice(0, 1));
    const n = snap.node(0);
    expect(n.id).toBe(offers[0]!.agent_id.value);
    expect(n.hostname).toBe('localhost');
    expect(n.allocatable).toMatchObject({ cpu: 4000, memory: 4096 * 1024 * 1024, disk: 10000 * 1024 * 1024 });
    expect(n.freePorts.toString()).toBe('31000-32000');
    const r = place(
      [createPlacementTask({ id: 't', requests: { cpu: 1000 }, ports: [{ name: 'http' }] })],
      snap,
      'spread',
    );
    expect(r.placements[0]).toMatchObject({ nodeId: n.id, ports: [31000] });
  });

  it('sums several offers of one agent and reads attributes as Mesos prints them', () => {
    const base = { hostname: 'h1', agent_id: { value: 'S1' } };
    const cpus = (v: number) => [{ name: 'cpus', type: 'SCALAR', scalar: { value: v } }];
    const snap = snapshotFromMesosOffers([
      {
        ...base,
        id: { value: 'O1' },
        resources: cpus(1.5),
        attributes: [
          { name: 'rack', type: 'TEXT', text: { value: 'r1' } },
          { name: 'level', type: 'SCALAR', scalar: { value: 2 } },
          { name: 'ids', type: 'SET', set: { item: ['a', 'b'] } },
        ],
      },
      { ...base, id: { value: 'O2' }, resources: cpus(0.5) },
    ]);
    expect(snap.size).toBe(1);
    expect(snap.cpu.alloc[0]).toBe(2000);
    expect(snap.labels(0)).toEqual({ rack: 'r1', level: '2', ids: '{a,b}' });
  });
});

describe('snapshotFromKubernetes', () => {
  it('subtracts requests of non-terminated pods and keeps taints, labels, cordons and host ports', () => {
    const snap = snapshotFromKubernetes(
      [
        {
          metadata: { name: 'k1', labels: { 'topology.kubernetes.io/zone': 'a' } },
          spec: { unschedulable: true, taints: [{ key: 'gpu', value: 'true', effect: 'NoSchedule' }] },
          status: {
            allocatable: { cpu: '3920m', memory: '15Gi', pods: '110', 'ephemeral-storage': '100Gi' },
          },
        },
      ],
      [
        {
          metadata: { name: 'web', namespace: 'shop', labels: { app: 'web' } },
          spec: {
            nodeName: 'k1',
            priority: 10,
            containers: [
              { resources: { requests: { cpu: '500m', memory: '1Gi' } }, ports: [{ hostPort: 8080 }] },
            ],
            initContainers: [{ resources: { requests: { cpu: '1', memory: '128Mi' } } }],
          },
          status: { phase: 'Running' },
        },
        {
          metadata: { name: 'done' },
          spec: { nodeName: 'k1', containers: [{ resources: { requests: { cpu: '2' } } }] },
          status: { phase: 'Succeeded' },
        },
      ],
    );
    const n = snap.node(0);
    expect(n.allocatable).toMatchObject({ cpu: 3920, memory: 15 * 1024 ** 3, disk: 100 * 1024 ** 3 });
    expect(n.allocatable.extended.size).toBe(0);
    expect(n.allocated).toMatchObject({ cpu: 1000, memory: 1024 ** 3 });
    expect(n.freePorts.contains(8080)).toBe(false);
    expect(n.unschedulable).toBe(true);
    expect(n.taints).toEqual([{ key: 'gpu', value: 'true', effect: 'NoSchedule' }]);
    expect(n.tasks).toEqual([
      expect.objectContaining({ id: 'shop/web', app: 'web', tenant: 'shop', priority: 10 }),
    ]);
  });
});
