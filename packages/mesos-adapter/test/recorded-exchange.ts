/**
 * Reads the recorded real-master exchanges in the shared fixtures (`NN-name.request.json` and
 * `NN-name.response.http`, the latter byte-exact with HTTP/1.1 chunked framing kept).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseMesosJson } from '../src/json.ts';

export const FIXTURES_DIR = fileURLToPath(
  new URL('../../../../shared/fixtures/mesos-real/', import.meta.url),
);

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  /** The JSON value sent, or the raw string for deliberately malformed bodies. */
  readonly body: unknown;
}

export interface RecordedResponse {
  readonly status: number;
  readonly statusText: string;
  /** Header lines in order, as recorded. */
  readonly headers: ReadonlyArray<readonly [string, string]>;
  /** The body with any chunked framing removed. */
  readonly body: Uint8Array;
  /** For chunked responses, each HTTP chunk's payload as sent (the last, empty one excluded). */
  readonly chunks: readonly Uint8Array[];
}

export interface RecordedExchange {
  readonly name: string;
  readonly request: RecordedRequest;
  readonly response: RecordedResponse;
}

export function header(res: RecordedResponse, name: string): string | undefined {
  return res.headers.find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1];
}

export function parseRecordedResponse(bytes: Uint8Array): RecordedResponse {
  const text = Buffer.from(bytes);
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) throw new Error('no end of headers in recorded response');
  const [statusLine = '', ...lines] = text.subarray(0, end).toString('latin1').split('\r\n');
  const match = /^HTTP\/1\.1 (\d{3}) ?(.*)$/.exec(statusLine);
  if (!match) throw new Error(`bad status line ${statusLine}`);
  const headers = lines.map((line) => {
    const i = line.indexOf(':');
    return [line.slice(0, i), line.slice(i + 1).trim()] as const;
  });
  const raw = new Uint8Array(text.subarray(end + 4));
  const res = { status: Number(match[1]), statusText: match[2] ?? '', headers };
  const chunked = headers.some(([k, v]) => k.toLowerCase() === 'transfer-encoding' && v === 'chunked');
  if (!chunked) return { ...res, body: raw, chunks: [] };
  const chunks: Uint8Array[] = [];
  let at = 0;
  const buf = Buffer.from(raw);
  while (at < buf.length) {
    const lineEnd = buf.indexOf('\r\n', at);
    if (lineEnd < 0) break;
    const size = Number.parseInt(buf.subarray(at, lineEnd).toString('latin1'), 16);
    if (size === 0) break;
    chunks.push(new Uint8Array(buf.subarray(lineEnd + 2, lineEnd + 2 + size)));
    at = lineEnd + 2 + size + 2;
  }
  return { ...res, body: new Uint8Array(Buffer.concat(chunks)), chunks };
}

export function loadExchange(name: string): RecordedExchange {
  const request = JSON.parse(readFileSync(`${FIXTURES_DIR}${name}.request.json`, 'utf8')) as RecordedRequest;
  const response = parseRecordedResponse(
    new Uint8Array(readFileSync(`${FIXTURES_DIR}${name}.response.http`)),
  );
  return { name, request, response };
}

/** Every recorded exchange's name (`01-operator-subscribe`, …), in order. */
export function exchangeNames(): string[] {
  return readdirSync(FIXTURES_DIR)
    .filter((f) => f.endsWith('.response.http'))
    .map((f) => f.slice(0, -'.response.http'.length))
    .sort();
}

export function loadEvents(name: string): unknown[] {
  return parseMesosJson(readFileSync(`${FIXTURES_DIR}${name}.events.json`, 'utf8')) as unknown[];
}
