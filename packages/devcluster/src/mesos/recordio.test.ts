import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { encodeRecord } from './recordio.ts';

const fixtures = fileURLToPath(new URL('../../../../../shared/fixtures/mesos-real/', import.meta.url));

describe('encodeRecord', () => {
  it('frames records by UTF-8 byte length, not character count', () => {
    const bytes = encodeRecord({ message: 'ü' });
    expect(new TextDecoder().decode(bytes)).toBe('16\n{"message":"ü"}');
  });

  it('produces the same framing as the recorded real master stream for the same events', () => {
    const events: unknown[] = JSON.parse(
      readFileSync(`${fixtures}15-scheduler-subscribe.events.json`, 'utf8'),
    );
    const real = readFileSync(`${fixtures}15-scheduler-subscribe.stream.recordio`, 'latin1');
    // The master prints doubles such as 15.0 with a trailing .0, which JSON.stringify does not; compare
    // record boundaries and decoded content instead of raw bytes.
    const realRecords: string[] = [];
    let rest = Buffer.from(real, 'latin1');
    while (rest.length > 0) {
      const nl = rest.indexOf(0x0a);
      const len = Number(rest.subarray(0, nl).toString());
      realRecords.push(rest.subarray(nl + 1, nl + 1 + len).toString('utf8'));
      rest = rest.subarray(nl + 1 + len);
    }
    expect(realRecords.length).toBe(events.length);
    events.forEach((event, i) => {
      const ours = new TextDecoder().decode(encodeRecord(event));
      const nl = ours.indexOf('\n');
      expect(Number(ours.slice(0, nl))).toBe(new TextEncoder().encode(ours.slice(nl + 1)).length);
      expect(JSON.parse(ours.slice(nl + 1))).toEqual(JSON.parse(realRecords[i]!));
    });
  });
});
