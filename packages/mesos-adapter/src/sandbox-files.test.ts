import { FakeClock } from '@berth/core';
import { afterEach, describe, expect, it } from 'vitest';
import { ReplayMaster, until } from '../test/replay-master.ts';
import { agentBaseUrl, MesosSandboxFiles, sandboxPath } from './sandbox-files.ts';

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

const FRAMEWORK = 'de646b14-c094-45bd-bcb9-7a221eaf2456-0000';
const STDOUT = sandboxPath(FRAMEWORK, 'task-sleep-1', 'stdout');

/** An agent whose /files endpoints behave as the agent's (files.cpp): raw bytes in `data`, offset=-1 = size. */
async function fakeAgent(files: Map<string, Buffer>) {
  const agent = await ReplayMaster.start();
  cleanup.push(() => agent.close());
  agent.handle = (req, res) => {
    const url = new URL(req.path, 'http://agent');
    const path = url.searchParams.get('path') ?? '';
    const send = (status: number, body: string) => {
      const bytes = Buffer.from(body, 'latin1');
      res
        .writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': String(bytes.length) })
        .end(bytes);
    };
    if (url.pathname === '/files/browse') {
      const entries = [...files.keys()]
        .filter((p) => p.startsWith(`${path}/`))
        .map((p) => ({
          gid: 'root',
          mode: '-rw-r--r--',
          mtime: 1795714742,
          nlink: 1,
          path: p,
          size: files.get(p)?.length,
          uid: 'root',
        }));
      send(200, JSON.stringify(entries));
      return;
    }
    const file = files.get(path);
    if (!file) {
      res.writeHead(404).end();
      return;
    }
    const offset = Number(url.searchParams.get('offset') ?? '-1');
    if (offset === -1) {
      send(200, JSON.stringify({ data: '', offset: file.length }));
      return;
    }
    const length = Number(url.searchParams.get('length') ?? String(file.length));
    const data = file.subarray(offset, offset + length).toString('latin1');
    send(200, JSON.stringify({ data, offset }));
  };
  return agent;
}

describe('MesosSandboxFiles', () => {
  it('follows a growing stdout from an offset, decoding UTF-8 split across reads', async () => {
    const files = new Map([[STDOUT, Buffer.from('héllo wörld ✓\n')]]);
    const agent = await fakeAgent(files);
    const clock = new FakeClock();
    const sandbox = new MesosSandboxFiles({ clock });
    cleanup.push(() => sandbox.close());
    const abort = new AbortController();
    const pieces: { offset: number; text: string }[] = [];
    const following = (async () => {
      for await (const piece of sandbox.follow(agent.url, STDOUT, {
        chunkBytes: 5,
        pollIntervalMs: 1000,
        signal: abort.signal,
      })) {
        pieces.push(piece);
      }
    })();

    await until(() => pieces.map((p) => p.text).join('') === 'héllo wörld ✓\n', 'first output');
    files.set(STDOUT, Buffer.concat([files.get(STDOUT) ?? Buffer.alloc(0), Buffer.from('second line\n')]));
    await until(() => clock.pendingTimers > 0, 'poll timer');
    await clock.advanceAsync(1000);
    await until(
      () =>
        pieces
          .map((p) => p.text)
          .join('')
          .endsWith('second line\n'),
      'appended output',
    );
    abort.abort();
    await clock.advanceAsync(1000);
    await following;

    expect(pieces.map((p) => p.text).join('')).toBe('héllo wörld ✓\nsecond line\n');
    expect(pieces[0]?.offset).toBe(0);
    const last = pieces.at(-1);
    expect((last?.offset ?? 0) + Buffer.byteLength(last?.text ?? '')).toBe(
      Buffer.byteLength('héllo wörld ✓\nsecond line\n'),
    );
    const reads = agent.requests.map((r) => new URL(r.path, 'http://a').searchParams);
    expect(reads.every((q) => q.get('path') === STDOUT && q.get('length') === '5')).toBe(true);
  });

  it("reads exact bytes, reports a file's size and starts following at the end when asked", async () => {
    const bytes = Buffer.from([0x00, 0x01, 0xff, 0xc3, 0x22, 0x5c, 0x0a]);
    const files = new Map([[STDOUT, bytes]]);
    const agent = await fakeAgent(files);
    const sandbox = new MesosSandboxFiles({ clock: new FakeClock() });
    cleanup.push(() => sandbox.close());

    expect(Buffer.from((await sandbox.read(agent.url, STDOUT, 1, 100)).data)).toEqual(bytes.subarray(1));
    expect(await sandbox.size(agent.url, STDOUT)).toBe(7);
    const listing = await sandbox.browse(agent.url, sandboxPath(FRAMEWORK, 'task-sleep-1'));
    expect(listing.map((f) => [f.path, f.size])).toEqual([[STDOUT, 7]]);
    files.set(STDOUT, Buffer.concat([bytes, Buffer.from('new\n')]));
    const abort = new AbortController();
    const it = sandbox.follow(agent.url, STDOUT, { from: 7, signal: abort.signal });
    expect((await it.next()).value).toEqual({ offset: 7, text: 'new\n' });
    abort.abort();
  });

  it('builds agent URLs from offers and rejects a missing file with NOT_FOUND', async () => {
    expect(
      agentBaseUrl({ scheme: 'http', address: { hostname: 'localhost', ip: '127.0.0.1', port: 5051 } }),
    ).toBe('http://localhost:5051');
    const agent = await fakeAgent(new Map());
    const sandbox = new MesosSandboxFiles();
    cleanup.push(() => sandbox.close());
    await expect(sandbox.read(agent.url, '/nope', 0, 10)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
