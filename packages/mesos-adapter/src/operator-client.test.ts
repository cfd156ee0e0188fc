import { FakeClock, isBerthError } from '@berth/core';
import { afterEach, describe, expect, it } from 'vitest';
import { loadEvents, loadExchange } from '../test/recorded-exchange.ts';
import { ReplayMaster, replyRecorded, streamRecorded, until } from '../test/replay-master.ts';
import { parseMesosJson } from './json.ts';
import { MesosOperatorClient } from './operator-client.ts';
import type { OperatorCall } from './proto/master.ts';

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function master(): Promise<ReplayMaster> {
  const m = await ReplayMaster.start();
  cleanup.push(() => m.close());
  return m;
}

function client(masters: string[], clock?: FakeClock): MesosOperatorClient {
  const c = new MesosOperatorClient({ masters, ...(clock ? { clock } : {}) });
  cleanup.push(() => c.close());
  return c;
}

const recordedBody = (name: string) => {
  const { response } = loadExchange(name);
  return parseMesosJson(new TextDecoder().decode(response.body)) as Record<string, unknown>;
};

describe('MesosOperatorClient', () => {
  it('returns the recorded GET_STATE, GET_AGENTS, GET_TASKS, GET_FRAMEWORKS, GET_HEALTH and GET_VERSION answers', async () => {
    const byType: Record<string, string> = {
      GET_STATE: '26-operator-get-state',
      GET_AGENTS: '27-operator-get-agents',
      GET_FRAMEWORKS: '28-operator-get-frameworks',
      GET_TASKS: '29-operator-get-tasks',
      GET_HEALTH: '24-operator-get-health',
      GET_VERSION: '25-operator-get-version',
    };
    const m = await master();
    m.handle = (req, res) => replyRecorded(res, loadExchange(byType[req.callType ?? ''] ?? 'missing'));
    const c = client([m.url]);

    const state = await c.getState();
    const agents = await c.getAgents();
    const frameworks = await c.getFrameworks();
    const tasks = await c.getTasks();
    const health = await c.getHealth();
    const version = await c.getVersion();

    expect(JSON.parse(JSON.stringify(state))).toStrictEqual(recordedBody(byType.GET_STATE ?? '').get_state);
    expect(agents.agents?.[0]?.agent_info.hostname).toBe('localhost');
    expect(frameworks.frameworks?.[0]?.framework_info.name).toBe('fixture-framework');
    expect(tasks.tasks?.map((t) => [t.task_id.value, t.state])).toEqual([['task-sleep-1', 'TASK_RUNNING']]);
    expect(health).toEqual({ healthy: true });
    expect(version.version_info.version).toBe('1.12.0');
    for (const [type, name] of Object.entries(byType)) {
      const [sent] = m.received(type);
      expect(sent?.json, type).toStrictEqual(loadExchange(name).request.body);
      expect(sent?.headers['content-type']).toBe('application/json');
    }
  });

  it('streams the recorded operator SUBSCRIBE events in order', async () => {
    const m = await master();
    m.handle = (_req, res) =>
      streamRecorded(res, loadExchange('01-operator-subscribe'), { chunkSizes: [5, 11, 2] });
    const c = client([m.url]);

    const types: string[] = [];
    const seen: unknown[] = [];
    for await (const event of c.subscribe()) {
      types.push(event.type);
      seen.push(JSON.parse(JSON.stringify(event)));
    }

    expect(seen).toStrictEqual(loadEvents('01-operator-subscribe'));
    expect(types.slice(0, 5)).toEqual([
      'SUBSCRIBED',
      'HEARTBEAT',
      'AGENT_ADDED',
      'FRAMEWORK_ADDED',
      'TASK_ADDED',
    ]);
    expect(types).toContain('FRAMEWORK_REMOVED');
  });

  it('fails the operator stream with BACKEND_UNAVAILABLE when heartbeats stop', async () => {
    const m = await master();
    m.handle = (_req, res) =>
      streamRecorded(res, loadExchange('01-operator-subscribe'), { records: 2, after: 'hold' });
    const clock = new FakeClock();
    const c = client([m.url], clock);
    const types: string[] = [];
    const reading = (async () => {
      for await (const event of c.subscribe()) types.push(event.type);
    })().catch((e: unknown) => e);

    await until(() => types.length === 2, 'SUBSCRIBED and HEARTBEAT');
    await clock.advanceAsync(74_999);
    expect(types).toEqual(['SUBSCRIBED', 'HEARTBEAT']);
    await clock.advanceAsync(1);
    const error = await reading;

    expect(isBerthError(error, 'BACKEND_UNAVAILABLE')).toBe(true);
    expect((error as Error).message).toContain('for 5 heartbeat intervals');
  });

  it('follows a standby master to the leader and skips a master without a leader', async () => {
    const leader = await master();
    const standby = await master();
    const electing = await master();
    leader.handle = (_req, res) => replyRecorded(res, loadExchange('24-operator-get-health'));
    standby.handle = (_req, res) =>
      replyRecorded(res, loadExchange('03-master-redirect'), {
        Location: `//localhost:${leader.port}/api/v1`,
      });
    electing.handle = (_req, res) => {
      res.writeHead(503, { 'Content-Type': 'text/plain; charset=utf-8' }).end('No leader elected');
    };
    const c = client([electing.url, standby.url]);

    expect(await c.getHealth()).toEqual({ healthy: true });
    expect(c.leader).toBe(`http://localhost:${leader.port}`);
    expect(electing.requests).toHaveLength(1);
    expect(standby.requests).toHaveLength(1);
  });

  it("maps the master's 400 to SPEC_INVALID with its message, and names every URL when none answers", async () => {
    const m = await master();
    m.handle = (_req, res) => replyRecorded(res, loadExchange('52-operator-lowercase-type'));
    const c = client([m.url]);
    const error = await c.call({ type: 'get_health' } as unknown as OperatorCall).catch((e: unknown) => e);
    expect(isBerthError(error, 'SPEC_INVALID')).toBe(true);
    expect((error as Error).message).toContain(
      `"Failed to validate master::Call: Expecting 'type' to be present"`,
    );

    const down = await master();
    const url = down.url;
    await down.close();
    const unreachable = await client([url])
      .getState()
      .catch((e: unknown) => e);
    expect(isBerthError(unreachable, 'BACKEND_UNAVAILABLE')).toBe(true);
    expect((unreachable as Error).message).toContain(`${url}/api/v1`);
  });
});
