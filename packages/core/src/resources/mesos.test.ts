import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BerthError } from '../cluster/errors.ts';
import {
  fromMesosResources,
  type MesosResource,
  mesosResourcesByRole,
  mesosResourceUsableBy,
  toMesosResources,
} from './mesos.ts';
import { PortRanges } from './port-ranges.ts';
import { Resources } from './resources.ts';

const fixtures = fileURLToPath(new URL('../../../../../shared/fixtures/mesos-real/', import.meta.url));
const MI = 1024 ** 2;

function isMesosResource(v: unknown): v is MesosResource {
  return typeof v === 'object' && v !== null && 'name' in v && 'type' in v;
}

/** Every `resources` list in a recorded JSON document. */
function resourceLists(doc: unknown, out: MesosResource[][] = []): MesosResource[][] {
  if (Array.isArray(doc)) for (const d of doc) resourceLists(d, out);
  else if (typeof doc === 'object' && doc !== null) {
    for (const [k, v] of Object.entries(doc)) {
      if (k === 'resources' && Array.isArray(v) && v.length > 0 && v.every(isMesosResource)) out.push(v);
      else resourceLists(v, out);
    }
  }
  return out;
}

const byName = (list: readonly MesosResource[]) => [...list].sort((a, b) => a.name.localeCompare(b.name));

describe('Mesos resources from the recorded real master', () => {
  const files = readdirSync(fixtures).filter(
    (f) => f.endsWith('.events.json') || f.endsWith('.request.json'),
  );
  const lists = files.flatMap((f) => resourceLists(JSON.parse(readFileSync(`${fixtures}${f}`, 'utf8'))));

  it('finds the offers of the scheduler subscription', () => {
    const events = JSON.parse(readFileSync(`${fixtures}15-scheduler-subscribe.events.json`, 'utf8')) as {
      type: string;
      offers?: { offers: { resources: MesosResource[] }[] };
    }[];
    const offer = events.find((e) => e.type === 'OFFERS')?.offers?.offers[0];
    const res = fromMesosResources(offer!.resources, { role: '*' });
    expect(res.toString()).toBe('4 cpu, 4Gi mem, 10000Mi disk, ports 31000-32000');
    expect(res.ports.size).toBe(1001);
    expect(lists.length).toBeGreaterThan(5);
  });

  it('round-trips every recorded resource list exactly (values, roles, allocation info)', () => {
    let checked = 0;
    for (const list of lists) {
      const names = new Set(list.map((r) => r.name));
      const first = list[0]!;
      const sameMeta = list.every(
        (r) =>
          r.role === first.role && r.allocation_info?.role === first.allocation_info?.role && !r.reservations,
      );
      if (names.size !== list.length || !sameMeta) continue;
      const res = fromMesosResources(list);
      const back = toMesosResources(res, {
        ...(first.role === undefined ? {} : { role: first.role }),
        ...(first.allocation_info?.role === undefined ? {} : { allocationRole: first.allocation_info.role }),
      });
      expect(byName(back)).toEqual(byName(list));
      checked++;
    }
    expect(checked).toBeGreaterThan(5);
  });

  it('reads the launch the real master accepted as 0.5 cpu, 64Mi and two ports', () => {
    const req = JSON.parse(readFileSync(`${fixtures}19-scheduler-accept-launch.request.json`, 'utf8'));
    const task = req.body.accept.operations[0].launch.task_infos[0];
    expect(fromMesosResources(task.resources).toString()).toBe('0.5 cpu, 64Mi mem, ports 31000-31001');
  });
});

describe('toMesosResources', () => {
  it('writes cpus exactly and rounds memory up to the next 0.001 MB (never under-requests)', () => {
    const list = toMesosResources(Resources.of({ cpu: 1, memory: 1, disk: MI + 1 }));
    expect(list).toEqual([
      { name: 'cpus', type: 'SCALAR', scalar: { value: 0.001 } },
      { name: 'mem', type: 'SCALAR', scalar: { value: 0.001 } },
      { name: 'disk', type: 'SCALAR', scalar: { value: 1.001 } },
    ]);
  });

  it('adds gpus, port ranges, extended scalars, role, reservations and allocation info', () => {
    const res = Resources.of({
      gpus: 2,
      ports: PortRanges.parse('31000-31002,31005'),
      extended: { fpga: 1 },
    });
    expect(
      toMesosResources(res, {
        role: 'web',
        allocationRole: 'web',
        reservations: [{ type: 'STATIC', role: 'web' }],
      }),
    ).toEqual([
      {
        name: 'gpus',
        type: 'SCALAR',
        scalar: { value: 2 },
        role: 'web',
        reservations: [{ type: 'STATIC', role: 'web' }],
        allocation_info: { role: 'web' },
      },
      {
        name: 'ports',
        type: 'RANGES',
        ranges: {
          range: [
            { begin: 31000, end: 31002 },
            { begin: 31005, end: 31005 },
          ],
        },
        role: 'web',
        reservations: [{ type: 'STATIC', role: 'web' }],
        allocation_info: { role: 'web' },
      },
      {
        name: 'fpga',
        type: 'SCALAR',
        scalar: { value: 1 },
        role: 'web',
        reservations: [{ type: 'STATIC', role: 'web' }],
        allocation_info: { role: 'web' },
      },
    ]);
  });

  it('never asks for less than the request, whatever the byte count', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 45 }),
        fc.integer({ min: 0, max: 1_000_000 }),
        (bytes, cpu) => {
          const request = Resources.of({ memory: bytes, cpu });
          const asked = fromMesosResources(toMesosResources(request), { rounding: 'up' });
          // Mesos keeps three decimals of a MB, so the asked amount is at most 1/1000 MB over.
          return asked.cpu === cpu && asked.memory >= bytes && asked.memory - bytes < MI / 1000 + 1;
        },
      ),
    );
  });

  it('is lossless for whole MB and thousandths of a core', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 10_000_000 }),
        fc.integer({ min: 0, max: 1_000_000 }),
        (mb, cpu) => {
          const r = Resources.of({ memory: mb * MI, disk: mb * MI, cpu });
          return fromMesosResources(toMesosResources(r)).equals(r);
        },
      ),
    );
  });
});

describe('fromMesosResources', () => {
  it('uses Mesos fixed-point (three decimals) and rounds offers down by default', () => {
    const list: MesosResource[] = [
      { name: 'cpus', type: 'SCALAR', scalar: { value: 0.1 + 0.2 } },
      { name: 'mem', type: 'SCALAR', scalar: { value: 0.001 } },
      { name: 'gpus', type: 'SCALAR', scalar: { value: 1.5 } },
      { name: 'fpga', type: 'SCALAR', scalar: { value: 2.25 } },
    ];
    const down = fromMesosResources(list);
    expect([down.cpu, down.memory, down.gpus, down.extended.get('fpga')]).toEqual([300, 1048, 1, 2]);
    const up = fromMesosResources(list, { rounding: 'up' });
    expect([up.cpu, up.memory, up.gpus, up.extended.get('fpga')]).toEqual([300, 1049, 2, 3]);
  });

  it('sums same-named entries (e.g. reserved and unreserved parts of one offer)', () => {
    const list: MesosResource[] = [
      { name: 'cpus', type: 'SCALAR', scalar: { value: 1 }, role: '*' },
      {
        name: 'cpus',
        type: 'SCALAR',
        scalar: { value: 0.5 },
        reservations: [{ type: 'STATIC', role: 'web' }],
      },
      { name: 'ports', type: 'RANGES', ranges: { range: [{ begin: 1, end: 2 }] } },
      { name: 'ports', type: 'RANGES', ranges: { range: [{ begin: 3, end: 3 }] } },
    ];
    const r = fromMesosResources(list);
    expect(r.cpu).toBe(1500);
    expect(r.ports.toString()).toBe('1-3');
  });

  it('filters by role through allocation info, reservations or the legacy role', () => {
    const list: MesosResource[] = [
      { name: 'cpus', type: 'SCALAR', scalar: { value: 1 }, allocation_info: { role: 'web' } },
      { name: 'cpus', type: 'SCALAR', scalar: { value: 2 }, allocation_info: { role: 'batch' } },
      { name: 'mem', type: 'SCALAR', scalar: { value: 64 }, reservations: [{ type: 'STATIC', role: 'web' }] },
      { name: 'mem', type: 'SCALAR', scalar: { value: 128 }, role: 'batch' },
      { name: 'disk', type: 'SCALAR', scalar: { value: 10 } },
    ];
    expect(fromMesosResources(list, { role: 'web' }).toString()).toBe('1 cpu, 64Mi mem, 10Mi disk');
    expect(fromMesosResources(list, { role: 'batch' }).toString()).toBe('2 cpu, 128Mi mem, 10Mi disk');
    expect(mesosResourceUsableBy(list[2]!, 'batch')).toBe(false);
    const roles = mesosResourcesByRole(list);
    expect([...roles.keys()].sort()).toEqual(['*', 'batch', 'web']);
    expect(roles.get('web')?.toString()).toBe('1 cpu, 64Mi mem');
  });

  it('refuses SET resources clearly, or skips them when asked', () => {
    const list: MesosResource[] = [
      { name: 'cpus', type: 'SCALAR', scalar: { value: 1 } },
      { name: 'zones', type: 'SET', set: { item: ['a', 'b'] } },
    ];
    let caught: unknown;
    try {
      fromMesosResources(list);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(BerthError);
    expect((caught as BerthError).code).toBe('UNSUPPORTED');
    expect((caught as BerthError).message).toContain('zones has type SET');
    expect(fromMesosResources(list, { unsupported: 'skip' }).cpu).toBe(1000);
  });

  it('rejects malformed entries with SPEC_INVALID', () => {
    expect(() => fromMesosResources([{ name: 'cpus', type: 'SCALAR' }])).toThrow(/no scalar.value/);
    expect(() => fromMesosResources([{ name: 'cpus', type: 'SCALAR', scalar: { value: -1 } }])).toThrow(
      /≥ 0/,
    );
    expect(() =>
      fromMesosResources([{ name: 'ports', type: 'RANGES', ranges: { range: [{ begin: 5, end: 1 }] } }]),
    ).toThrow(/ends before it begins/);
  });
});
