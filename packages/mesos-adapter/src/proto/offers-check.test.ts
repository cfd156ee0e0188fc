import { isBerthError } from '@berth/core';
import { describe, expect, it } from 'vitest';
import { loadEvents } from '../../test/recorded-exchange.ts';
import { isOffersEvent } from './offers-check.ts';
import { parseSchedulerEvent } from './parse.ts';
import { SchedulerEventSchema } from './scheduler.ts';

const recordedOffers = (): Record<string, unknown>[] =>
  ['15-scheduler-subscribe', '41-scheduler-subscribe-failover']
    .flatMap((name) => loadEvents(name) as Record<string, unknown>[])
    .filter((e) => e.type === 'OFFERS');

/** A rich offer: every field the Offer schema models, as a real master and devcluster send them. */
const richOffer = () => ({
  id: { value: 'o1' },
  framework_id: { value: 'f' },
  agent_id: { value: 'a1' },
  hostname: 'agent-1',
  url: {
    scheme: 'http',
    address: { hostname: 'agent-1', ip: '10.0.0.1', port: 5051 },
    path: '/slave(1)',
    query: [{ key: 'k', value: 'v' }],
    fragment: '',
  },
  domain: { fault_domain: { region: { name: 'r' }, zone: { name: 'z' } } },
  resources: [
    {
      name: 'cpus',
      type: 'SCALAR',
      scalar: { value: 4 },
      role: '*',
      allocation_info: { role: 'default' },
      provider_id: { value: 'p' },
      reservation: { type: 'STATIC', role: 'default', principal: 'x', labels: { labels: [{ key: 'a' }] } },
      reservations: [{ type: 'DYNAMIC', role: 'default', labels: { labels: [{ key: 'a', value: 'b' }] } }],
      disk: {},
      revocable: {},
      shared: {},
    },
    { name: 'ports', type: 'RANGES', ranges: { range: [{ begin: 31000, end: '32000' }] } },
    { name: 'zones', type: 'SET', set: { item: ['a', 'b'] } },
  ],
  attributes: [
    { name: 'rack', type: 'TEXT', text: { value: 'r1' } },
    { name: 'level', type: 'SCALAR', scalar: { value: 1.5 } },
    { name: 'ids', type: 'RANGES', ranges: { range: [{ begin: 1, end: 2 }] } },
    { name: 'tags', type: 'SET', set: { item: ['x'] } },
  ],
  executor_ids: [{ value: 'e' }],
  unavailability: { start: { nanoseconds: 1 } },
  allocation_info: { role: 'default' },
  extra: { kept: true },
});

/** Every path to a value inside `v` (objects and arrays included), root excluded. */
function paths(v: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  if (typeof v !== 'object' || v === null) return [];
  const out: (string | number)[][] = [];
  for (const [k, child] of Object.entries(v)) {
    const key = Array.isArray(v) ? Number(k) : k;
    out.push([...prefix, key], ...paths(child, [...prefix, key]));
  }
  return out;
}

function withValue(root: unknown, path: (string | number)[], value: unknown): unknown {
  const copy = structuredClone(root) as Record<string | number, unknown>;
  let node = copy;
  for (const k of path.slice(0, -1)) node = node[k] as Record<string | number, unknown>;
  const last = path.at(-1)!;
  if (value === undefined) delete node[last];
  else node[last] = value;
  return copy;
}

describe('the copy-free OFFERS check', () => {
  it('accepts every recorded OFFERS event and parses it into the same typed form as the schema', () => {
    const events = recordedOffers();
    expect(events.length).toBeGreaterThan(0);
    for (const event of events) {
      expect(isOffersEvent(event)).toBe(true);
      const parsed = parseSchedulerEvent(event);
      expect(parsed).toBe(event);
      expect(parsed).toStrictEqual(SchedulerEventSchema.parse(event));
    }
  });

  it('agrees with the schema on every field of an offer when that field is missing or of the wrong type', () => {
    const event = {
      type: 'OFFERS',
      offers: { offers: [richOffer(), ...recordedOffers().flatMap(offersOf)] },
    };
    expect(isOffersEvent(event)).toBe(true);
    const wrong: unknown[] = [undefined, null, 7, 1.5, 'text', '12', true, [], {}, [{}]];
    let checked = 0;
    for (const path of paths(event)) {
      for (const value of wrong) {
        const mutated = withValue(event, path, value);
        expect(isOffersEvent(mutated), `${path.join('.')} = ${JSON.stringify(value)}`).toBe(
          SchedulerEventSchema.safeParse(mutated).success,
        );
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(1000);
  });

  it('reports a malformed offer with its path, as the schema does', () => {
    const offer = withValue(richOffer(), ['resources', 1, 'ranges', 'range', 0, 'end'], 'high');
    const event = { type: 'OFFERS', offers: { offers: [richOffer(), offer] } };
    try {
      parseSchedulerEvent(event);
      expect.unreachable();
    } catch (error) {
      expect(isBerthError(error, 'BACKEND_UNAVAILABLE')).toBe(true);
      if (!isBerthError(error)) return;
      expect(error.issues[0]?.path).toBe('offers.offers.1.resources.1.ranges.range.0.end');
      expect(error.message).toContain('offers.offers.1.resources.1.ranges.range.0.end');
    }
  });
});

function offersOf(event: Record<string, unknown>): unknown[] {
  return ((event.offers as { offers?: unknown[] }).offers ?? []) as unknown[];
}
