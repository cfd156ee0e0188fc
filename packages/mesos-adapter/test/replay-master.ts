/**
 * A tiny HTTP server that plays a Mesos master from the recorded real exchanges: status lines,
 * headers and bodies as recorded, and recorded RecordIO streams re-sent in odd-sized chunks.
 * Tests script it per request with `handle`.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Server, Socket } from 'node:net';
import { header, type RecordedExchange } from './recorded-exchange.ts';

export interface ReceivedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  /** The body parsed as JSON (undefined when empty or not JSON). */
  readonly json: unknown;
  /** `type` of a JSON call body, for routing. */
  readonly callType: string | undefined;
  /** The client's port: requests with the same one came over the same connection. */
  readonly clientPort: number | undefined;
}

export type Handler = (req: ReceivedRequest, res: ServerResponse) => void | Promise<void>;

/** Headers Node writes itself (or that describe the recorded framing, not the content). */
const HOP_HEADERS = new Set(['date', 'transfer-encoding', 'content-length', 'connection']);

export class ReplayMaster {
  readonly requests: ReceivedRequest[] = [];
  handle: Handler = (_req, res) => {
    res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' }).end('no handler scripted');
  };
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();

  readonly #scheme: string;

  private constructor(server: Server, scheme: string) {
    this.#server = server;
    this.#scheme = scheme;
    server.on('connection', (socket: Socket) => {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
    });
  }

  /** Start on 127.0.0.1 (an ephemeral port); with `tls`, serve HTTPS with that certificate. */
  static async start(options: { tls?: { cert: string; key: string } } = {}): Promise<ReplayMaster> {
    let master: ReplayMaster | undefined;
    const onRequest = (req: IncomingMessage, res: ServerResponse) => {
      const parts: Buffer[] = [];
      req.on('data', (c: Buffer) => parts.push(c));
      req.on('end', () => {
        const body = Buffer.concat(parts).toString('utf8');
        let json: unknown;
        try {
          json = body === '' ? undefined : JSON.parse(body);
        } catch {
          json = undefined;
        }
        const callType = (json as { type?: unknown } | undefined)?.type;
        const received: ReceivedRequest = {
          method: req.method ?? '',
          path: req.url ?? '',
          headers: req.headers,
          body,
          json,
          callType: typeof callType === 'string' ? callType : undefined,
          clientPort: req.socket.remotePort,
        };
        master?.requests.push(received);
        Promise.resolve(master?.handle(received, res)).catch((error: unknown) => {
          res.destroy(error instanceof Error ? error : new Error(String(error)));
        });
      });
    };
    const server = options.tls ? createHttpsServer(options.tls, onRequest) : createServer(onRequest);
    master = new ReplayMaster(server, options.tls ? 'https' : 'http');
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return master;
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  get url(): string {
    return `${this.#scheme}://127.0.0.1:${this.port}`;
  }

  /** Requests whose JSON body has this `type` (or GETs of this path). */
  received(typeOrPath: string): ReceivedRequest[] {
    return this.requests.filter((r) => r.callType === typeOrPath || r.path === typeOrPath);
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

/** Answer with a recorded non-streaming response; `headers` overrides recorded header values. */
export function replyRecorded(
  res: ServerResponse,
  exchange: RecordedExchange,
  overrides: Readonly<Record<string, string>> = {},
): void {
  const { response } = exchange;
  const headers: Record<string, string> = {};
  for (const [k, v] of response.headers) if (!HOP_HEADERS.has(k.toLowerCase())) headers[k] = v;
  Object.assign(headers, overrides);
  headers['Content-Length'] = String(response.body.length);
  res.writeHead(response.status, response.statusText, headers);
  res.end(Buffer.from(response.body));
}

/** Split RecordIO bytes into whole frames (each with its length prefix). */
export function recordIOFrames(bytes: Uint8Array): Uint8Array[] {
  const frames: Uint8Array[] = [];
  let at = 0;
  while (at < bytes.length) {
    const nl = bytes.indexOf(0x0a, at);
    const length = Number(Buffer.from(bytes.subarray(at, nl)).toString('latin1'));
    frames.push(bytes.subarray(at, nl + 1 + length));
    at = nl + 1 + length;
  }
  return frames;
}

export interface StreamOptions {
  /** How many recorded records to send (default all). */
  readonly records?: number;
  /** Chunk sizes to cycle through when re-sending (default odd sizes 1, 7, 13, 3, 29, 101). */
  readonly chunkSizes?: readonly number[];
  /** After the records: `end` the response cleanly, `hold` it open, or `destroy` the socket. */
  readonly after?: 'end' | 'hold' | 'destroy';
}

/**
 * Answer a SUBSCRIBE with a recorded stream: its status and headers (Mesos-Stream-Id included),
 * then its RecordIO body re-chunked at odd sizes so records and length prefixes straddle chunks.
 */
export async function streamRecorded(
  res: ServerResponse,
  exchange: RecordedExchange,
  options: StreamOptions = {},
): Promise<void> {
  const { response } = exchange;
  const headers: Record<string, string> = {};
  for (const [k, v] of response.headers) if (!HOP_HEADERS.has(k.toLowerCase())) headers[k] = v;
  res.writeHead(response.status, response.statusText, headers);
  res.flushHeaders();
  const frames = recordIOFrames(response.body).slice(0, options.records);
  const bytes = Buffer.concat(frames);
  const sizes = options.chunkSizes ?? [1, 7, 13, 3, 29, 101];
  let at = 0;
  for (let i = 0; at < bytes.length; i++) {
    const size = sizes[i % sizes.length] ?? 1;
    res.write(bytes.subarray(at, at + size));
    at += size;
    await new Promise((resolve) => setImmediate(resolve));
  }
  const after = options.after ?? 'end';
  if (after === 'end') res.end();
  else if (after === 'destroy') res.socket?.destroy();
}

export function streamIdOf(exchange: RecordedExchange): string {
  const id = header(exchange.response, 'mesos-stream-id');
  if (id === undefined) throw new Error(`${exchange.name} has no Mesos-Stream-Id`);
  return id;
}

/** Poll `check` (real time) until it returns a value other than undefined/false. */
export async function until<T>(
  check: () => T | undefined | false,
  what = 'condition',
  timeoutMs = 3000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
