/**
 * Task logs through the agent's sandbox file API: `GET /files/browse?path=…` lists a directory,
 * `GET /files/read?path=…&offset=…&length=…` answers `{"data": "<bytes>", "offset": N}`
 * (`offset=-1` answers the file's size in `offset`). A task's sandbox is reachable under the
 * virtual path `/frameworks/<framework id>/executors/<executor id>/runs/latest` (command tasks:
 * executor id = task id).
 *
 * `data` holds the file's raw bytes (the agent does not re-encode them, so a read may end inside a
 * UTF-8 sequence); the body is therefore read as Latin-1, one char per byte, and `data` turned back
 * into the exact bytes. `follow` decodes text with a streaming decoder across reads.
 */
import { BerthError, type Clock, sleep, systemClock } from '@berth/core';
import { z } from 'zod';
import { httpError, MesosHttp, type MesosHttpOptions, normaliseMasterUrl } from './mesos-http.ts';
import { obj } from './proto/common.ts';
import { parseMesos } from './proto/parse.ts';

const COMPONENT = 'mesos-adapter';

export const FileInfoSchema = obj({
  path: z.string(),
  nlink: z.number().optional(),
  size: z.number().optional(),
  mtime: z.number().optional(),
  mode: z.string().optional(),
  uid: z.string().optional(),
  gid: z.string().optional(),
});
export type SandboxFileInfo = z.infer<typeof FileInfoSchema>;
const ReadSchema = obj({ data: z.string(), offset: z.number() });

export interface SandboxChunk {
  /** Byte offset of `data` in the file. */
  readonly offset: number;
  readonly data: Uint8Array;
}

export interface FollowOptions {
  /** Where to start: a byte offset, `'start'` (default) or `'end'` (only new output). */
  readonly from?: number | 'start' | 'end';
  /** Wait between polls once the end of the file is reached (default 1 s). */
  readonly pollIntervalMs?: number;
  /** Bytes asked for per read (default 64 KiB; the agent caps a read at 16 pages). */
  readonly chunkBytes?: number;
  readonly signal?: AbortSignal;
}

/** The sandbox directory of an executor's latest run, or a file in it (`stdout`, `stderr`). */
export function sandboxPath(frameworkId: string, executorId: string, file?: string): string {
  const dir = `/frameworks/${frameworkId}/executors/${executorId}/runs/latest`;
  return file === undefined ? dir : `${dir}/${file.replace(/^\/+/, '')}`;
}

/** An agent's base URL from an offer's `url` (`{scheme, address: {hostname, ip, port}}`). */
export function agentBaseUrl(url: {
  readonly scheme: string;
  readonly address: {
    readonly hostname?: string | undefined;
    readonly ip?: string | undefined;
    readonly port: number;
  };
}): string {
  const host = url.address.hostname ?? url.address.ip;
  if (!host) {
    throw new BerthError('BACKEND_UNAVAILABLE', 'the agent URL has neither a hostname nor an ip', {
      component: COMPONENT,
    });
  }
  return `${url.scheme}://${host}:${url.address.port}`;
}

export interface MesosSandboxFilesOptions {
  readonly httpOptions?: MesosHttpOptions;
  readonly http?: MesosHttp;
  readonly clock?: Clock;
}

export class MesosSandboxFiles {
  readonly #http: MesosHttp;
  readonly #ownsHttp: boolean;
  readonly #clock: Clock;

  constructor(options: MesosSandboxFilesOptions = {}) {
    this.#ownsHttp = options.http === undefined;
    this.#http = options.http ?? new MesosHttp(options.httpOptions);
    this.#clock = options.clock ?? systemClock;
  }

  /** List a sandbox directory. */
  async browse(agent: string, path: string, signal?: AbortSignal): Promise<SandboxFileInfo[]> {
    const body = await this.#get(agent, '/files/browse', { path }, signal);
    return parseMesos(z.array(FileInfoSchema), JSON.parse(body), '/files/browse response');
  }

  /** Read up to `length` bytes at `offset` (fewer at the end of the file; none past it). */
  async read(
    agent: string,
    path: string,
    offset: number,
    length: number,
    signal?: AbortSignal,
  ): Promise<SandboxChunk> {
    if (!Number.isInteger(offset) || offset < 0 || !Number.isInteger(length) || length < 0) {
      throw new BerthError(
        'SPEC_INVALID',
        `read: offset and length must be integers >= 0 (got ${offset}, ${length})`,
        {
          component: COMPONENT,
        },
      );
    }
    const body = await this.#get(
      agent,
      '/files/read',
      { path, offset: String(offset), length: String(length) },
      signal,
    );
    const parsed = parseMesos(ReadSchema, JSON.parse(body), '/files/read response');
    return { offset: parsed.offset, data: new Uint8Array(Buffer.from(parsed.data, 'latin1')) };
  }

  /** The file's current size in bytes (`offset=-1`). */
  async size(agent: string, path: string, signal?: AbortSignal): Promise<number> {
    const body = await this.#get(agent, '/files/read', { path, offset: '-1' }, signal);
    return parseMesos(ReadSchema, JSON.parse(body), '/files/read response').offset;
  }

  /**
   * Yield the file's text as it grows (like `tail -f`), one piece per non-empty read, decoding
   * UTF-8 across read boundaries. Ends when `signal` aborts.
   */
  async *follow(
    agent: string,
    path: string,
    options: FollowOptions = {},
  ): AsyncGenerator<{ offset: number; text: string }> {
    const chunkBytes = options.chunkBytes ?? 64 * 1024;
    const poll = options.pollIntervalMs ?? 1000;
    const from = options.from ?? 'start';
    let offset = from === 'start' ? 0 : from === 'end' ? await this.size(agent, path, options.signal) : from;
    const decoder = new TextDecoder('utf-8');
    while (!options.signal?.aborted) {
      const chunk = await this.read(agent, path, offset, chunkBytes, options.signal);
      if (chunk.data.length > 0) {
        const at = offset;
        offset += chunk.data.length;
        const text = decoder.decode(chunk.data, { stream: true });
        if (text !== '') yield { offset: at, text };
        if (chunk.data.length >= chunkBytes) continue;
      }
      try {
        await sleep(this.#clock, poll, options.signal);
      } catch {
        return;
      }
    }
  }

  async close(): Promise<void> {
    if (this.#ownsHttp) await this.#http.close();
  }

  async #get(
    agent: string,
    endpoint: string,
    query: Record<string, string>,
    signal?: AbortSignal,
  ): Promise<string> {
    const url = `${normaliseMasterUrl(agent, 'agent')}${endpoint}?${new URLSearchParams(query).toString()}`;
    const res = await this.#http.request(url, { method: 'GET', ...(signal === undefined ? {} : { signal }) });
    if (res.status !== 200) throw httpError(url, res.status, await res.text(), `${endpoint} request`);
    const bytes: Uint8Array[] = [];
    for await (const c of res.body) bytes.push(c);
    return Buffer.concat(bytes).toString('latin1');
  }
}
