import { waitFor } from '@berth/adapter-testkit';
import { afterEach, describe, expect, it } from 'vitest';
import type { StreamMessage } from '../shared/api.ts';
import { createDashboardApp, type DashboardApp } from './app.ts';
import { createDemoContexts, type DemoContexts } from './demo-contexts.ts';

interface Frame {
  id?: string;
  event?: string;
  data?: string;
  comment?: string;
  retry?: string;
}

function parseFrames(text: string): Frame[] {
  return text
    .split('\n\n')
    .filter((block) => block.length > 0)
    .map((block) => {
      const f: Frame = {};
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) f.comment = line.slice(1).trim();
        else {
          const i = line.indexOf(': ');
          const key = line.slice(0, i) as keyof Frame;
          f[key] = line.slice(i + 2);
        }
      }
      return f;
    });
}

/** Reads the stream until `done(frames)` holds, then cancels it. */
async function readUntil(res: Response, done: (frames: Frame[]) => boolean, timeoutMs = 2_000) {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  const deadline = Date.now() + timeoutMs;
  try {
    while (Date.now() < deadline) {
      const chunk = await Promise.race([
        reader.read(),
        new Promise<undefined>((r) => setTimeout(() => r(undefined), deadline - Date.now())),
      ]);
      if (chunk === undefined || chunk.done) break;
      text += decoder.decode(chunk.value, { stream: true });
      const complete = text.slice(0, text.lastIndexOf('\n\n') + 2);
      if (done(parseFrames(complete))) return { text: complete, frames: parseFrames(complete) };
    }
  } finally {
    await reader.cancel();
  }
  throw new Error(`stream condition not met; got:\n${text}`);
}

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

async function setup(heartbeatMs = 60_000): Promise<{ app: DashboardApp; demo: DemoContexts }> {
  const demo = await createDemoContexts({ nodes: 3, workload: false });
  const app = createDashboardApp({ version: 't', contexts: demo.contexts, heartbeatMs });
  cleanup.push(
    () => demo.close(),
    () => app.close(),
  );
  await app.hub.ready;
  return { app, demo };
}

const SUBMIT = {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({
    yaml: 'apiVersion: berth.dev/v1\nkind: Task\nmetadata: { name: s1 }\nspec: { command: sleep 60, resources: { requests: { cpu: 100m } } }\n',
  }),
};

describe('server-sent events', () => {
  it('frames each change with id, event and one line of JSON data', async () => {
    const { app } = await setup();
    const res = await app.request('/api/stream');
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reading = readUntil(res, (fs) =>
      fs.some((f) => f.event === 'task' && f.data?.includes('"RUNNING"')),
    );
    await new Promise((r) => setTimeout(r, 20));
    expect((await app.request('/api/contexts/devcluster-mesos/submit', SUBMIT)).status).toBe(201);
    const { frames, text } = await reading;
    expect(frames[0]).toEqual({ retry: '2000' });
    expect(frames[1]?.event).toBe('hello');
    const ids = frames.filter((f) => f.event === 'task' || f.event === 'event').map((f) => Number(f.id));
    expect(ids.length).toBeGreaterThan(2);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(new Set(ids).size).toBe(ids.length);
    const task = frames.find((f) => f.event === 'task' && f.data?.includes('"RUNNING"'));
    const message = JSON.parse(task!.data!) as StreamMessage;
    expect(message).toMatchObject({ type: 'task', context: 'devcluster-mesos' });
    if (message.type === 'task') expect(message.row.slice(0, 2)).toEqual(['s1', 'RUNNING']);
    // Every frame ends with a blank line and data never spans lines.
    for (const block of text.split('\n\n').filter(Boolean)) {
      expect(block.split('\n').filter((l) => l.startsWith('data:')).length).toBeLessThanOrEqual(1);
    }
  });

  it('resumes after Last-Event-ID with exactly the missed messages', async () => {
    const { app } = await setup();
    const before = app.hub.lastId;
    expect((await app.request('/api/contexts/devcluster-mesos/submit', SUBMIT)).status).toBe(201);
    await waitFor('s1 RUNNING', () =>
      app.hub.task('devcluster-mesos', 's1')?.state === 'RUNNING' ? true : undefined,
    );
    const last = app.hub.lastId;
    const res = await app.request('/api/stream', { headers: { 'last-event-id': String(before) } });
    const { frames } = await readUntil(res, (fs) => fs.some((f) => f.id === String(last)));
    const replayed = frames.filter((f) => f.id !== undefined).map((f) => Number(f.id));
    expect(replayed).toEqual(Array.from({ length: last - before }, (_, i) => before + 1 + i));
    expect(frames.some((f) => f.event === 'hello')).toBe(false);
  });

  it('answers a Last-Event-ID that fell out of the buffer with a reset carrying the current id', async () => {
    const demo = await createDemoContexts({ nodes: 3, workload: false });
    const app = createDashboardApp({ version: 't', contexts: demo.contexts, streamBuffer: 4 });
    cleanup.push(
      () => demo.close(),
      () => app.close(),
    );
    await app.hub.ready;
    expect((await app.request('/api/contexts/devcluster-mesos/submit', SUBMIT)).status).toBe(201);
    await waitFor('s1 RUNNING', () =>
      app.hub.task('devcluster-mesos', 's1')?.state === 'RUNNING' ? true : undefined,
    );
    const last = app.hub.lastId;
    expect(last).toBeGreaterThan(5);
    const res = await app.request('/api/stream', { headers: { 'last-event-id': '1' } });
    const { frames } = await readUntil(res, (fs) => fs.some((f) => f.event === 'reset'));
    expect(frames.find((f) => f.event === 'reset')).toEqual({
      id: String(last),
      event: 'reset',
      data: JSON.stringify({ lastId: last }),
    });
    // Still within the buffer: replayed, no reset.
    const recent = await app.request('/api/stream', { headers: { 'last-event-id': String(last - 2) } });
    const replay = await readUntil(recent, (fs) => fs.some((f) => f.id === String(last)));
    expect(replay.frames.filter((f) => f.id !== undefined).map((f) => Number(f.id))).toEqual([
      last - 1,
      last,
    ]);
  });

  it('rejects a Last-Event-ID that is not a sequence number with 400', async () => {
    const { app } = await setup();
    const bad = await app.request('/api/stream', { headers: { 'last-event-id': 'abc' } });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { issues: { path: string }[] }).issues[0]?.path).toBe('Last-Event-ID');
  });

  it('sends heartbeat comments while idle', async () => {
    const { app } = await setup(20);
    const res = await app.request('/api/stream');
    const { frames } = await readUntil(res, (fs) => fs.filter((f) => f.comment === 'heartbeat').length >= 2);
    expect(frames.filter((f) => f.comment === 'heartbeat').length).toBeGreaterThanOrEqual(2);
  });
});
