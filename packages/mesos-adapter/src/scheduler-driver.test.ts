import { readFileSync } from 'node:fs';
import { FakeClock, isBerthError, Resources } from '@berth/core';
import { afterEach, describe, expect, it } from 'vitest';
import { loadEvents, loadExchange, type RecordedExchange } from '../test/recorded-exchange.ts';
import { ReplayMaster, replyRecorded, streamIdOf, streamRecorded, until } from '../test/replay-master.ts';
import { httpHealthCheck, MiB, taskSpec } from '../test/task-docs.ts';
import type { TaskInfo } from './proto/common.ts';
import type { SchedulerCall, SchedulerEvent } from './proto/scheduler.ts';
import { MesosSchedulerDriver, type MesosSchedulerDriverOptions } from './scheduler-driver.ts';
import { taskInfoTemplate } from './task-info.ts';

const subscribe15 = loadExchange('15-scheduler-subscribe');
const failover41 = loadExchange('41-scheduler-subscribe-failover');
const events15 = loadEvents('15-scheduler-subscribe');
const FRAMEWORK_ID = 'de646b14-c094-45bd-bcb9-7a221eaf2456-0000';

/** The FrameworkInfo the recording's framework sent (capabilities come from the driver's defaults). */
const framework = { user: 'root', name: 'fixture-framework', roles: ['*'], failover_timeout: 3600 };

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function master(): Promise<ReplayMaster> {
  const m = await ReplayMaster.start();
  cleanup.push(() => m.close());
  return m;
}

function driverFor(masters: string[], options: Partial<MesosSchedulerDriverOptions> = {}) {
  const clock = new FakeClock(1_000_000);
  const driver = new MesosSchedulerDriver({ masters, framework, clock, random: () => 0.5, ...options });
  cleanup.push(() => driver.close());
  const events: SchedulerEvent[] = [];
  driver.subscribe((e) => events.push(e));
  return { driver, clock, events };
}

/** Answer each scheduler call with the recorded exchange for its type. */
function answerCalls(byType: Readonly<Record<string, RecordedExchange>>) {
  return (type: string | undefined, res: import('node:http').ServerResponse) => {
    const exchange = type === undefined ? undefined : byType[type];
    if (!exchange) throw new Error(`unexpected call ${type}`);
    replyRecorded(res, exchange);
  };
}

/** A task with ports, env and a health check, so templated TaskInfos have every launch-dependent part. */
const templatedSpec = taskSpec('web', {
  command: 'serve --port $PORT0',
  env: { MODE: 'prod "quoted"' },
  resources: { requests: Resources.of({ cpu: 500, memory: 64 * MiB }) },
  ports: [
    { name: 'http', protocol: 'tcp' },
    { name: 'admin', protocol: 'tcp' },
  ],
  healthCheck: httpHealthCheck({ gracePeriodSeconds: 5 }),
  killGracePeriodSeconds: 5,
});

const json = (v: unknown) => JSON.parse(JSON.stringify(v)) as unknown;

describe('MesosSchedulerDriver', () => {
  it('subscribes with the recorded FrameworkInfo and delivers SUBSCRIBED, HEARTBEAT and OFFERS read from odd-sized chunks', async () => {
    const m = await master();
    m.handle = (_req, res) => streamRecorded(res, subscribe15, { records: 3, after: 'hold' });
    const { driver, events } = driverFor([m.url]);

    const subscribed = await driver.start();
    await until(() => events.length === 3, 'three events');

    expect(subscribed.framework_id.value).toBe(FRAMEWORK_ID);
    expect(subscribed.heartbeat_interval_seconds).toBe(15);
    expect(json(events)).toStrictEqual(events15.slice(0, 3));
    expect(events.map((e) => e.type)).toEqual(['SUBSCRIBED', 'HEARTBEAT', 'OFFERS']);
    const [req] = m.received('SUBSCRIBE');
    expect(req?.json).toStrictEqual(subscribe15.request.body);
    expect(req?.headers['content-type']).toBe('application/json');
    expect(req?.headers.accept).toBe('application/json');
    expect(req?.headers['mesos-stream-id']).toBeUndefined();
    expect(driver.state).toMatchObject({
      phase: 'subscribed',
      streamId: streamIdOf(subscribe15),
      frameworkId: FRAMEWORK_ID,
    });
  });

  it('sends each call as recorded against the real master, with Mesos-Stream-Id and framework_id, and accepts its 202', async () => {
    const recorded = {
      ACCEPT: loadExchange('19-scheduler-accept-launch'),
      ACKNOWLEDGE: loadExchange('20-scheduler-acknowledge-task-starting'),
      DECLINE: loadExchange('36-scheduler-decline'),
      KILL: loadExchange('37-scheduler-kill'),
    };
    const m = await master();
    const answer = answerCalls(recorded);
    m.handle = (req, res) =>
      req.callType === 'SUBSCRIBE'
        ? streamRecorded(res, subscribe15, { records: 3, after: 'hold' })
        : answer(req.callType, res);
    const { driver } = driverFor([m.url]);
    await driver.start();

    const launch = recorded.ACCEPT.request.body as SchedulerCall & { type: 'ACCEPT' };
    const task = launch.accept.operations?.[0]?.launch?.task_infos?.[0] as TaskInfo;
    await driver.launch(['de646b14-c094-45bd-bcb9-7a221eaf2456-O0'], [task], { refuse_seconds: 1 });
    await driver.acknowledge({
      agentId: 'de646b14-c094-45bd-bcb9-7a221eaf2456-S0',
      taskId: 'task-sleep-1',
      uuid: 'u7+DnFF+QxW3wYvbUiRBNg==',
    });
    const decline = recorded.DECLINE.request.body as SchedulerCall & { type: 'DECLINE' };
    await driver.decline(
      (decline.decline.offer_ids ?? []).map((o) => o.value),
      3,
    );
    await driver.kill('task-sleep-1', { agentId: 'de646b14-c094-45bd-bcb9-7a221eaf2456-S0' });

    for (const [type, exchange] of Object.entries(recorded)) {
      const [sent] = m.received(type);
      expect(sent?.json, type).toStrictEqual(exchange.request.body);
      expect(sent?.headers['mesos-stream-id'], type).toBe(exchange.request.headers['Mesos-Stream-Id']);
      expect(sent?.headers['content-type'], type).toBe('application/json');
    }
  });

  it('reconciles explicitly and implicitly with the recorded call bodies', async () => {
    const explicit = loadExchange('22-scheduler-reconcile-explicit');
    const implicit = loadExchange('23-scheduler-reconcile-implicit');
    const m = await master();
    let reconciles = 0;
    m.handle = (req, res) =>
      req.callType === 'SUBSCRIBE'
        ? streamRecorded(res, subscribe15, { records: 1, after: 'hold' })
        : replyRecorded(res, reconciles++ === 0 ? explicit : implicit);
    const { driver } = driverFor([m.url]);
    await driver.start();

    await driver.reconcile([
      { taskId: 'task-sleep-1', agentId: 'de646b14-c094-45bd-bcb9-7a221eaf2456-S0' },
      { taskId: 'no-such-task' },
    ]);
    await driver.reconcile([]);

    expect(m.received('RECONCILE').map((r) => r.json)).toStrictEqual([
      explicit.request.body,
      implicit.request.body,
    ]);
  });

  it('ends the stream without reconnecting when the master sends ERROR "Framework failed over"', async () => {
    const m = await master();
    m.handle = (_req, res) => streamRecorded(res, subscribe15, { after: 'end' });
    const { driver, clock, events } = driverFor([m.url]);
    const seen: SchedulerEvent[] = [];
    const iterating = (async () => {
      for await (const e of driver.events()) seen.push(e);
    })();

    await driver.start();
    await driver.done;
    await iterating;
    await clock.advanceAsync(120_000);

    expect(json(events)).toStrictEqual(events15);
    expect(seen.at(-1)).toEqual({ type: 'ERROR', error: { message: 'Framework failed over' } });
    expect(driver.state.phase).toBe('closed');
    expect(driver.state.error?.message).toContain('"Framework failed over"');
    expect(m.received('SUBSCRIBE')).toHaveLength(1);
  });

  it('follows a 307 to the leader named by a protocol-relative Location and subscribes there', async () => {
    const redirect = loadExchange('03-master-redirect');
    const leader = await master();
    const follower = await master();
    follower.handle = (_req, res) => replyRecorded(res, redirect, { Location: `//localhost:${leader.port}` });
    leader.handle = (req, res) =>
      req.callType === 'SUBSCRIBE'
        ? streamRecorded(res, subscribe15, { records: 2, after: 'hold' })
        : replyRecorded(res, loadExchange('23-scheduler-reconcile-implicit'));
    const { driver } = driverFor([follower.url]);

    await driver.start();
    await driver.reconcile();

    expect(follower.received('SUBSCRIBE')).toHaveLength(1);
    expect(leader.received('SUBSCRIBE')).toHaveLength(1);
    expect(driver.state.leader).toBe(`http://localhost:${leader.port}`);
    expect(leader.received('RECONCILE')).toHaveLength(1);
  });

  it('asks /master/redirect for the leader when no listed master accepts SUBSCRIBE', async () => {
    const redirect = loadExchange('03-master-redirect');
    const leader = await master();
    const electing = await master();
    electing.handle = (req, res) => {
      if (req.path === '/master/redirect')
        replyRecorded(res, redirect, { Location: `//127.0.0.1:${leader.port}` });
      else res.writeHead(503, { 'Content-Type': 'text/plain; charset=utf-8' }).end('No leader elected');
    };
    leader.handle = (_req, res) => streamRecorded(res, subscribe15, { records: 1, after: 'hold' });
    const { driver } = driverFor([electing.url]);

    await driver.start();

    expect(electing.received('/master/redirect')).toHaveLength(1);
    expect(driver.state.leader).toBe(leader.url);
  });

  it('maps a 400 on SUBSCRIBE to SPEC_INVALID quoting the master and does not retry', async () => {
    const rejected = loadExchange('40-scheduler-resubscribe-without-top-level-framework-id');
    const m = await master();
    m.handle = (_req, res) => replyRecorded(res, rejected);
    const { driver, clock } = driverFor([m.url], { frameworkId: FRAMEWORK_ID });

    const error = await driver.start().catch((e: unknown) => e);
    await clock.advanceAsync(60_000);

    expect(isBerthError(error, 'SPEC_INVALID')).toBe(true);
    expect((error as Error).message).toContain(
      `(400 Bad Request): "Failed to validate scheduler::Call: 'framework_id' differs from 'subscribe.framework_info.id'"`,
    );
    expect((error as Error).message).toContain(`${m.url}/api/v1/scheduler`);
    await expect(driver.done).rejects.toBe(error);
    expect(m.requests).toHaveLength(1);
  });

  it('reports 401 as AUTH_FAILED and 403 as FORBIDDEN without revealing the credentials', async () => {
    const secret = 's3cret-passw0rd';
    const m = await master();
    let status = 401;
    m.handle = (_req, res) => {
      res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' }).end();
    };
    const logged: string[] = [];
    const logger = {
      warn: (msg: string, f?: object) => logged.push(msg + JSON.stringify(f)),
      error: (msg: string, f?: object) => logged.push(msg + JSON.stringify(f)),
    };
    const basic = { type: 'basic', principal: 'berth', secret } as const;

    const auth = driverFor([m.url], { httpOptions: { credentials: basic }, logger });
    const authError = await auth.driver.start().catch((e: unknown) => e);
    status = 403;
    const forbidden = driverFor([m.url], {
      httpOptions: { credentials: { type: 'bearer', token: secret } },
      logger,
    });
    const forbiddenError = await forbidden.driver.start().catch((e: unknown) => e);

    expect(isBerthError(authError, 'AUTH_FAILED')).toBe(true);
    expect(isBerthError(forbiddenError, 'FORBIDDEN')).toBe(true);
    expect(m.requests[0]?.headers.authorization).toBe(
      `Basic ${Buffer.from(`berth:${secret}`).toString('base64')}`,
    );
    expect(m.requests[1]?.headers.authorization).toBe(`Bearer ${secret}`);
    const everything = JSON.stringify([
      authError,
      forbiddenError,
      logged,
      String(authError),
      String(forbiddenError),
    ]);
    expect(everything).not.toContain(secret);
    expect(everything).not.toContain(Buffer.from(`berth:${secret}`).toString('base64'));
  });

  it('reconnects with full-jitter back-off after the stream drops, re-subscribing with both framework ids', async () => {
    const m = await master();
    let subscribes = 0;
    m.handle = (_req, res) =>
      subscribes++ === 0
        ? streamRecorded(res, subscribe15, { records: 2, after: 'destroy' })
        : streamRecorded(res, failover41, { records: 3, after: 'hold' });
    const { driver, clock, events } = driverFor([m.url], { backoff: { initialMs: 1000 } });
    const states: string[] = [];
    driver.onStateChange((s) =>
      states.push(`${s.phase}${s.retryInMs === undefined ? '' : `:${s.retryInMs}`}`),
    );

    await driver.start();
    await until(() => driver.state.phase === 'reconnecting', 'reconnecting');
    expect(driver.state.retryInMs).toBe(500); // random 0.5 × first ceiling 1000
    expect(driver.state.error?.code).toBe('BACKEND_UNAVAILABLE');
    await clock.advanceAsync(499);
    expect(m.received('SUBSCRIBE')).toHaveLength(1);
    await clock.advanceAsync(1);
    await until(() => events.filter((e) => e.type === 'SUBSCRIBED').length === 2, 'second SUBSCRIBED');

    expect(m.received('SUBSCRIBE')[1]?.json).toStrictEqual(failover41.request.body);
    expect(driver.state).toMatchObject({ phase: 'subscribed', streamId: streamIdOf(failover41) });
    expect(states).toEqual([
      'connecting',
      'subscribed',
      'reconnecting',
      'reconnecting:500',
      'connecting',
      'subscribed',
    ]);
  });

  it('waits exponentially longer, capped, while no master can be reached, naming the URLs tried', async () => {
    const gone = await master();
    const url = gone.url;
    await gone.close();
    const { driver, clock } = driverFor([url], {
      random: () => 0.999,
      backoff: { initialMs: 100, maxMs: 1000 },
    });
    const waits: number[] = [];
    driver.onStateChange((s) => {
      if (s.retryInMs !== undefined) waits.push(s.retryInMs);
    });
    void driver.start().catch(() => {});

    for (let i = 1; i <= 6; i++) {
      await until(() => waits.length === i, `wait ${i}`);
      await clock.advanceAsync(waits[i - 1] ?? 0);
    }

    expect(waits).toEqual([99, 199, 399, 799, 999, 999]);
    expect(driver.state.error?.code).toBe('BACKEND_UNAVAILABLE');
    expect(driver.state.error?.message).toContain(`${url}/api/v1/scheduler`);
    expect(driver.state.error?.message).toContain('ECONNREFUSED');
  });

  it('reconnects after heartbeats stop for missedHeartbeats intervals of heartbeat_interval_seconds', async () => {
    const m = await master();
    m.handle = (_req, res) => streamRecorded(res, subscribe15, { records: 2, after: 'hold' });
    const { driver, clock } = driverFor([m.url], { missedHeartbeats: 3, backoff: { initialMs: 10 } });

    await driver.start();
    await until(
      () => m.received('SUBSCRIBE').length === 1 && driver.state.phase === 'subscribed',
      'subscribed',
    );
    await new Promise((r) => setTimeout(r, 20)); // let the HEARTBEAT arrive and re-arm the watchdog
    await clock.advanceAsync(44_999);
    expect(driver.state.phase).toBe('subscribed');
    await clock.advanceAsync(1);
    await until(() => driver.state.phase === 'reconnecting', 'watchdog reconnect');
    expect(driver.state.error?.message).toContain('no heartbeat');
    await clock.advanceAsync(10);
    await until(() => m.received('SUBSCRIBE').length === 2, 'second SUBSCRIBE');
  });

  it('subscribes and calls over HTTPS only when given the cluster CA', async () => {
    const tlsFile = (name: string) => readFileSync(new URL(`../test/tls/${name}`, import.meta.url), 'utf8');
    const m = await ReplayMaster.start({ tls: { cert: tlsFile('server.crt'), key: tlsFile('server.key') } });
    cleanup.push(() => m.close());
    m.handle = (req, res) =>
      req.callType === 'SUBSCRIBE'
        ? streamRecorded(res, subscribe15, { records: 2, after: 'hold' })
        : void res.writeHead(202).end();

    const untrusting = driverFor([m.url]);
    const refused = await untrusting.driver.start().catch((e: unknown) => e);
    await untrusting.driver.close();
    const trusting = driverFor([m.url], { httpOptions: { tls: { ca: tlsFile('ca.crt') } } });
    const subscribed = await trusting.driver.start();
    // Calls travel on their own (pipelined) connection, which must trust the CA too.
    await trusting.driver.batch(() => Promise.all([trusting.driver.revive(), trusting.driver.suppress()]));

    expect(m.received('REVIVE')).toHaveLength(1);
    expect(m.received('SUPPRESS')).toHaveLength(1);
    expect(isBerthError(refused, 'BACKEND_UNAVAILABLE')).toBe(true);
    expect((refused as Error).message).toContain(`cannot reach Mesos at ${m.url}/api/v1/scheduler`);
    expect(isBerthError(refused) && refused.hint).toContain('tls.ca');
    expect(m.url.startsWith('https://')).toBe(true);
    expect(subscribed.framework_id.value).toBe(FRAMEWORK_ID);
  });

  it('retries a call answered 503 after a back-off and reports a 400 on a call with the master text', async () => {
    const m = await master();
    const answers = [503, 202];
    m.handle = (req, res) => {
      if (req.callType === 'SUBSCRIBE')
        return streamRecorded(res, subscribe15, { records: 1, after: 'hold' });
      if (req.callType === 'TEARDOWN')
        return replyRecorded(res, loadExchange('44-scheduler-call-after-teardown'));
      const status = answers.shift() ?? 202;
      res
        .writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' })
        .end(status === 503 ? 'Master has not finished recovery' : '');
    };
    const { driver, clock } = driverFor([m.url], { backoff: { initialMs: 200 } });
    await driver.start();

    const revived = driver.revive(['*']);
    await until(() => clock.pendingTimers > 1, 'retry timer');
    await clock.advanceAsync(100); // random 0.5 × 200
    await revived;
    const gone = await driver.teardown().catch((e: unknown) => e);

    expect(m.received('REVIVE').map((r) => r.json)).toEqual([
      { framework_id: { value: FRAMEWORK_ID }, type: 'REVIVE', revive: { roles: ['*'] } },
      { framework_id: { value: FRAMEWORK_ID }, type: 'REVIVE', revive: { roles: ['*'] } },
    ]);
    expect(isBerthError(gone, 'NOT_FOUND')).toBe(true);
    expect((gone as Error).message).toContain('(400 Bad Request): "Framework cannot be found"');
  });

  it('sends calls over one connection in the order they were made, without waiting for earlier answers', async () => {
    const m = await master();
    const held: import('node:http').ServerResponse[] = [];
    m.handle = (req, res) => {
      if (req.callType === 'SUBSCRIBE')
        return streamRecorded(res, subscribe15, { records: 1, after: 'hold' });
      held.push(res);
    };
    const { driver } = driverFor([m.url]);
    await driver.start();

    // A burst as one OFFERS round makes it: written together, while the master answers nothing.
    const kinds = Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? 'SUPPRESS' : 'REVIVE'));
    const calls = driver.batch(() =>
      kinds.map((k) => (k === 'REVIVE' ? driver.revive() : driver.suppress())),
    );
    await until(() => held.length === kinds.length, 'every call to reach the master before any answer');
    for (const res of held) res.writeHead(202).end();
    await Promise.all(calls);

    const sent = m.requests.filter((r) => r.callType !== 'SUBSCRIBE');
    expect(sent.map((r) => r.callType)).toEqual(kinds);
    expect(new Set(sent.map((r) => r.clientPort)).size).toBe(1);
  });

  it('writes an ACCEPT of templated TaskInfos byte for byte as JSON.stringify of the call', async () => {
    const m = await master();
    m.handle = (req, res) => {
      if (req.callType === 'SUBSCRIBE')
        return streamRecorded(res, subscribe15, { records: 1, after: 'hold' });
      res.writeHead(202).end();
    };
    const { driver } = driverFor([m.url]);
    await driver.start();
    const template = taskInfoTemplate({ taskId: 'web-0', spec: templatedSpec, role: '*', specHash: 'h' });
    const tasks = [
      template({ agentId: 'S0', hostname: 'agent-"0"', hostPorts: [31000, 31002] }),
      template({ agentId: 'S0', hostname: 'agent-0', hostPorts: [31001, 31003] }),
    ];
    const operations = [
      { type: 'LAUNCH' as const, launch: { task_infos: tasks } },
      { type: 'LAUNCH' as const, launch: { task_infos: [tasks[0]!] } },
    ];
    await driver.accept(['O1', 'O2'], operations, { refuse_seconds: 5 });

    const [sent] = m.received('ACCEPT');
    expect(sent?.body).toBe(
      JSON.stringify({
        framework_id: { value: FRAMEWORK_ID },
        type: 'ACCEPT',
        accept: { offer_ids: [{ value: 'O1' }, { value: 'O2' }], operations, filters: { refuse_seconds: 5 } },
      }),
    );
  });

  it('never sends an ACCEPT twice: calls in flight when the call connection drops fail, other calls go again', async () => {
    const m = await master();
    const held: import('node:http').ServerResponse[] = [];
    let drop = true;
    m.handle = (req, res) => {
      if (req.callType === 'SUBSCRIBE')
        return streamRecorded(res, subscribe15, { records: 1, after: 'hold' });
      if (drop) held.push(res);
      else res.writeHead(202).end();
    };
    const { driver } = driverFor([m.url]);
    await driver.start();

    const launch = (id: string) =>
      driver.launch(
        [id],
        [
          taskInfoTemplate({ taskId: id, spec: templatedSpec, role: '*', specHash: 'h' })({
            agentId: 'S0',
            hostname: 'a',
            hostPorts: [31000],
          }),
        ],
      );
    const [first, revive, second] = driver.batch(() => [launch('O1'), driver.revive(), launch('O2')]);
    const outcomes = Promise.allSettled([first, revive, second]);
    await until(() => held.length === 3, 'the three calls to reach the master');
    // The master got all three (it may have acted on them) but the connection breaks before any answer.
    drop = false;
    held[0]!.socket?.destroy();
    const [a, r, b] = await outcomes;

    expect(a.status).toBe('rejected');
    expect(b.status).toBe('rejected');
    expect(isBerthError(a.status === 'rejected' ? a.reason : undefined, 'BACKEND_UNAVAILABLE')).toBe(true);
    expect(r.status).toBe('fulfilled');
    expect(
      m.received('ACCEPT').map((c) => (c.json as { accept: { offer_ids: unknown } }).accept.offer_ids),
    ).toEqual([[{ value: 'O1' }], [{ value: 'O2' }]]);
    expect(m.received('REVIVE').length).toBe(2);
  });

  it('skips an event it cannot read and keeps the stream', async () => {
    const m = await master();
    m.handle = async (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Mesos-Stream-Id': 'stream-1' });
      const frame = (v: unknown) => {
        const t = JSON.stringify(v);
        return `${Buffer.byteLength(t)}\n${t}`;
      };
      res.write(
        frame(events15[0]) + frame({ type: 'SOMETHING_NEW', something_new: {} }) + frame(events15[1]),
      );
    };
    const warnings: string[] = [];
    const { driver, events } = driverFor([m.url], { logger: { warn: (msg) => warnings.push(msg) } });
    await driver.start();
    await until(() => events.length === 2, 'two events');

    expect(events.map((e) => e.type)).toEqual(['SUBSCRIBED', 'HEARTBEAT']);
    expect(warnings).toContain('skipping an event Berth cannot read');
    expect(driver.state.phase).toBe('subscribed');
  });

  it('rejects calls while not subscribed and an incomplete FrameworkInfo up front', async () => {
    const m = await master();
    const { driver } = driverFor([m.url]);
    await expect(driver.revive()).rejects.toThrow(/not subscribed/);
    expect(() => new MesosSchedulerDriver({ masters: [m.url], framework: { name: '', user: '' } })).toThrow(
      /framework\.name.*framework\.user/,
    );
    expect(() => new MesosSchedulerDriver({ masters: ['http://berth:pw@m1:5050'], framework })).toThrow(
      /must not embed credentials/,
    );
  });
});
