import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeRecordIOJson, RecordIODecoder } from './recordio.ts';

const fixtures = fileURLToPath(new URL('../../../../shared/fixtures/mesos-real/', import.meta.url));
const enc = new TextEncoder();
const frame = (s: string) => {
  const b = enc.encode(s);
  return `${b.length}\n${s}`;
};

async function* chunks(bytes: Uint8Array, cuts: number[]): AsyncGenerator<Uint8Array> {
  let at = 0;
  for (const c of [...cuts].sort((a, b) => a - b)) {
    yield bytes.subarray(at, c);
    at = c;
  }
  yield bytes.subarray(at);
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const v of it) out.push(v);
  return out;
}

describe('RecordIODecoder', () => {
  it('decodes the recorded real master streams into the recorded events', async () => {
    for (const name of [
      '15-scheduler-subscribe',
      '41-scheduler-subscribe-failover',
      '01-operator-subscribe',
    ]) {
      const bytes = readFileSync(`${fixtures}${name}.stream.recordio`);
      const expected = JSON.parse(readFileSync(`${fixtures}${name}.events.json`, 'utf8'));
      const events = await collect(decodeRecordIOJson(chunks(new Uint8Array(bytes), [])));
      expect(events).toEqual(expected);
    }
  });

  it('decodes records split across chunks at any byte, including inside multi-byte characters', async () => {
    const records = ['{"type":"HEARTBEAT"}', '{"message":"ünïcödé ✓ 🚀"}', '{}'];
    const bytes = enc.encode(records.map(frame).join(''));
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.integer({ min: 1, max: bytes.length - 1 }), { maxLength: 12 }),
        async (cuts) => {
          const out = await collect(decodeRecordIOJson(chunks(bytes, cuts)));
          expect(out).toEqual(records.map((r) => JSON.parse(r)));
        },
      ),
    );
  });

  it('returns several records from one chunk', () => {
    const d = new RecordIODecoder();
    const out = d.push(enc.encode(frame('{"a":1}') + frame('{"b":2}') + '7\n{"c"'));
    expect(out.map((r) => new TextDecoder().decode(r))).toEqual(['{"a":1}', '{"b":2}']);
    expect(d.idle).toBe(false);
    expect(d.push(enc.encode(':3}')).map((r) => new TextDecoder().decode(r))).toEqual(['{"c":3}']);
    expect(d.idle).toBe(true);
  });

  it('refuses records larger than the configured maximum before buffering them', () => {
    const d = new RecordIODecoder({ maxRecordBytes: 10 });
    expect(() => d.push(enc.encode('11\n'))).toThrow(/exceeds the limit of 10 bytes/);
  });

  it('rejects corrupt framing and a stream that ends mid-record', async () => {
    expect(() => new RecordIODecoder().push(enc.encode('x\n{}'))).toThrow(/unexpected byte 0x78/);
    expect(() => new RecordIODecoder().push(enc.encode('\n'))).toThrow(/empty length prefix/);
    await expect(collect(decodeRecordIOJson(chunks(enc.encode('10\n{"a"'), [])))).rejects.toThrow(
      /ended inside a record/,
    );
  });
});
