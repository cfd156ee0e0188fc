import { readdirSync } from 'node:fs';
import { isBerthError } from '@berth/core';
import { describe, expect, it } from 'vitest';
import {
  exchangeNames,
  FIXTURES_DIR,
  header,
  loadEvents,
  loadExchange,
} from '../../test/recorded-exchange.ts';
import { parseMesosJson } from '../json.ts';
import { decodeRecordIOJson } from '../recordio.ts';
import {
  parseLegacyMasterState,
  parseLegacyVersion,
  parseOperatorCall,
  parseOperatorEvent,
  parseOperatorResponse,
  parseSchedulerCall,
  parseSchedulerEvent,
} from './parse.ts';

/** Parse, re-serialise and compare: nothing may be lost, renamed or defaulted. */
function roundTrips(parse: (v: unknown) => unknown, value: unknown): void {
  const parsed = parse(value);
  expect(JSON.parse(JSON.stringify(parsed))).toStrictEqual(value);
}

async function* once(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}

describe('Mesos JSON schemas against the recorded real master', () => {
  it('parses every recorded event stream without loss', () => {
    const files = readdirSync(FIXTURES_DIR).filter((f) => f.endsWith('.events.json'));
    expect(files.length).toBeGreaterThanOrEqual(3);
    let events = 0;
    for (const file of files) {
      const name = file.slice(0, -'.events.json'.length);
      const parse = name.includes('operator') ? parseOperatorEvent : parseSchedulerEvent;
      for (const event of loadEvents(name)) {
        roundTrips(parse, event);
        events++;
      }
    }
    expect(events).toBeGreaterThan(30);
  });

  it('parses every recorded JSON response body without loss', async () => {
    let bodies = 0;
    for (const name of exchangeNames()) {
      const { request, response } = loadExchange(name);
      if (!header(response, 'content-type')?.startsWith('application/json') || response.body.length === 0)
        continue;
      if (header(response, 'transfer-encoding') === 'chunked') {
        const parse = request.path === '/api/v1' ? parseOperatorEvent : parseSchedulerEvent;
        const decoded: unknown[] = [];
        for await (const event of decodeRecordIOJson(once(response.body), { parse: parseMesosJson })) {
          roundTrips(parse, event);
          decoded.push(event);
        }
        expect(decoded).toStrictEqual(loadEvents(name));
      } else {
        const body = parseMesosJson(new TextDecoder().decode(response.body));
        const parse =
          request.path === '/api/v1'
            ? parseOperatorResponse
            : request.path === '/version'
              ? parseLegacyVersion
              : request.path === '/master/state'
                ? parseLegacyMasterState
                : undefined;
        if (parse === undefined) throw new Error(`${name}: no parser for JSON from ${request.path}`);
        roundTrips(parse, body);
      }
      bodies++;
    }
    // 01, 02, 15, 24-30, 41, 45-48, 50
    expect(bodies).toBe(16);
  });

  it('accepts exactly the recorded calls whose shape the real master accepted', () => {
    const rejectedForShape: string[] = [];
    for (const name of exchangeNames()) {
      const { request, response } = loadExchange(name);
      if (request.method !== 'POST' || typeof request.body !== 'object' || request.body === null) continue;
      const parse = request.path === '/api/v1/scheduler' ? parseSchedulerCall : parseOperatorCall;
      const masterText = new TextDecoder().decode(response.body);
      const masterRejectedShape =
        response.status === 400 && /^Failed to (validate|convert JSON)/.test(masterText);
      let ours: unknown;
      try {
        roundTrips(parse, request.body);
      } catch (error) {
        ours = error;
      }
      if (masterRejectedShape) {
        expect(isBerthError(ours, 'SPEC_INVALID'), `${name} should be rejected`).toBe(true);
        rejectedForShape.push(name.slice(0, 2));
      } else {
        expect(ours, `${name} should be accepted`).toBeUndefined();
      }
    }
    expect(rejectedForShape).toEqual(['05', '06', '14', '18', '40', '49', '52']);
  });

  it('names the offending field and the fix when a message has the wrong shape', () => {
    const bad = { type: 'UPDATE', update: { status: { task_id: { value: 't' }, state: 7 } } };
    try {
      parseSchedulerEvent(bad);
      expect.unreachable();
    } catch (error) {
      expect(isBerthError(error, 'BACKEND_UNAVAILABLE')).toBe(true);
      if (!isBerthError(error)) return;
      expect(error.message).toContain('update.status.state');
      expect(error.issues[0]?.path).toBe('update.status.state');
      expect(error.hint).toMatch(/Mesos 1\.x master/);
    }
  });

  it('keeps int64 values beyond 2^53 exact instead of rounding them', () => {
    const text =
      '{"type":"TASK_ADDED","task_added":{"task":{"name":"t","task_id":{"value":"t"},"framework_id":{"value":"f"},"agent_id":{"value":"a"},"state":"TASK_RUNNING","statuses":[{"task_id":{"value":"t"},"state":"TASK_RUNNING","unreachable_time":{"nanoseconds":1795714741927904001}}]}}}';
    expect(JSON.parse(text).task_added.task.statuses[0].unreachable_time.nanoseconds).toBe(
      1795714741927904000,
    );
    const event = parseOperatorEvent(parseMesosJson(text));
    expect(JSON.stringify(event)).toContain('"nanoseconds":"1795714741927904001"');
    expect(parseMesosJson('{"a":12,"b":1.5,"c":"x"}')).toStrictEqual({ a: 12, b: 1.5, c: 'x' });
  });

  it('keeps int64 values sent as strings exactly as sent', () => {
    const call = { type: 'GET_METRICS', get_metrics: { timeout: { nanoseconds: '1000000000' } } };
    expect(parseOperatorCall(call)).toStrictEqual(call);
    expect(() =>
      parseOperatorCall({ type: 'GET_METRICS', get_metrics: { timeout: { nanoseconds: true } } }),
    ).toThrow(/get_metrics\.timeout\.nanoseconds/);
  });
});
