import { BERTH_ERROR_CODES } from '@berth/core';
import { describe, expect, it } from 'vitest';
import { BATCH_JOB, HUGE_TASK, harness, ONE_TASK, until, WEB_SERVICE } from './cli-harness.ts';

describe('berth run', () => {
  it('submits every document and waits until the tasks run', async () => {
    await using h = await harness();
    const spec = await h.file('web.yaml', WEB_SERVICE);
    const r = await h.run(['run', '-f', spec, '--wait', '--timeout', '10s']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^service\/web created\n/);
    expect(r.out).toMatch(/web-0\s+RUNNING\s+node-\d/);
    expect(h.cluster.isRunning('web-0') && h.cluster.isRunning('web-1')).toBe(true);
    // A second run of the same spec changes nothing.
    const again = await h.run(['run', '-f', spec]);
    expect(again.out).toBe('service/web unchanged\n');
    expect(h.cluster.launchCount('web-0')).toBe(1);
  });

  it('--dry-run validates and lists the tasks without touching the cluster', async () => {
    await using h = await harness();
    const spec = await h.file('all.yaml', `${WEB_SERVICE}---\n${BATCH_JOB}`);
    const r = await h.run(['run', '-f', spec, '--dry-run']);
    expect(r.code).toBe(0);
    expect(r.out).toBe(
      'service/web valid (dry run): 2 tasks web-0, web-1\njob/batch valid (dry run): 2 tasks batch-0, batch-1\n',
    );
    expect(h.adaptersCreated()).toBe(0);
    const json = JSON.parse((await h.run(['run', '-f', spec, '--dry-run', '-o', 'json'])).out);
    expect(json).toMatchObject({ apiVersion: 'berth.dev/v1', kind: 'RunPlan', dryRun: true });
    expect(json.items[1]).toEqual({
      document: 'Job/batch',
      tenant: 'default',
      tasks: ['batch-0', 'batch-1'],
    });
  });

  it('lists every invalid field of every file with its location, and sends nothing', async () => {
    await using h = await harness();
    const good = await h.file('good.yaml', WEB_SERVICE);
    const bad = await h.file(
      'bad.yaml',
      'apiVersion: berth.dev/v1\nkind: Task\nmetadata: { name: Bad_Name }\nspec:\n  command: x\n  resources: { requests: { cpu: 2 cores } }\n',
    );
    const r = await h.run(['run', '-f', good, '-f', bad]);
    expect(r.code).toBe(BERTH_ERROR_CODES.SPEC_INVALID.exitCode);
    expect(r.err).toMatch(/^error: invalid spec in .*bad\.yaml: 2 problems\n/);
    expect(r.err).toMatch(/bad\.yaml:3:\d+: metadata\.name: /);
    expect(r.err).toMatch(/bad\.yaml:6:\d+: spec\.resources\.requests\.cpu: "2 cores" is not a quantity/);
    expect(r.err).toMatch(/hint: Fix every listed field; nothing was sent to the cluster/);
    expect(h.adaptersCreated()).toBe(0);
  });

  it('names a missing spec file as SPEC_INVALID', async () => {
    await using h = await harness();
    const r = await h.run(['run', '-f', 'missing.yaml']);
    expect(r.code).toBe(BERTH_ERROR_CODES.SPEC_INVALID.exitCode);
    expect(r.err).toMatch(
      /error: invalid spec in missing\.yaml: 1 problem\n {2}missing\.yaml: cannot read spec file: no such file/,
    );
    expect(r.err).not.toMatch(/at .*\.ts:\d+/);
  });

  it('prints the stack only with --debug', async () => {
    await using h = await harness();
    const r = await h.run(['run', '-f', 'missing.yaml', '--debug']);
    expect(r.err).toMatch(/code: SPEC_INVALID \(exit 2\)/);
    expect(r.err).toMatch(/BerthError: .*\n\s+at /);
  });

  it('--wait ends with UNSCHEDULABLE and the reason when no node fits', async () => {
    await using h = await harness();
    const r = await h.run([
      'run',
      '-f',
      await h.file('huge.yaml', HUGE_TASK),
      '--wait',
      '--timeout',
      '300ms',
    ]);
    expect(r.code).toBe(BERTH_ERROR_CODES.UNSCHEDULABLE.exitCode);
    expect(r.err).toMatch(
      /error: 1 task\(s\) still pending after 0.3s\n {2}huge: 0\/3 nodes are available: 3 insufficient cpu/,
    );
  });

  it('--wait exits 1 when a task fails, with its message', async () => {
    await using h = await harness();
    const spec = ONE_TASK.replace('echo hello; echo oops >&2; sleep 3600', 'echo broken >&2; exit 3');
    const r = await h.run(['run', '-f', await h.file('fail.yaml', spec), '--wait']);
    expect(r.code).toBe(1);
    expect(r.err).toBe('error: hello FAILED (command exited with status 3: broken)\n');
  });

  it('rejects a bad --timeout before reading anything', async () => {
    await using h = await harness();
    const r = await h.run(['run', '-f', 'x.yaml', '--timeout', 'soon']);
    expect(r.code).toBe(BERTH_ERROR_CODES.SPEC_INVALID.exitCode);
    expect(r.err).toMatch(/--timeout: cannot read "soon" as a duration/);
  });
});

describe('berth get', () => {
  it('lists nodes as a table, wide, json, yaml and names', async () => {
    await using h = await harness();
    const table = await h.run(['get', 'nodes']);
    expect(table.out).toBe(
      [
        'NAME     STATUS   CPU        MEMORY       TASKS',
        'node-1   Ready    0/4 (0%)   0/8Gi (0%)   0',
        'node-2   Ready    0/4 (0%)   0/8Gi (0%)   0',
        'node-3   Ready    0/4 (0%)   0/8Gi (0%)   0',
        '',
      ].join('\n'),
    );
    expect((await h.run(['get', 'no', '-o', 'wide'])).out).toMatch(
      /HOSTNAME\s+LABELS\nnode-1 .* 10\.0\.0\.1\s+berth\.dev\/zone=zone-1/,
    );
    const json = JSON.parse((await h.run(['get', 'nodes', '-o', 'json'])).out);
    expect(json).toMatchObject({ apiVersion: 'berth.dev/v1', kind: 'NodeList' });
    expect(json.items[0]).toEqual({
      kind: 'Node',
      name: 'node-1',
      hostname: '10.0.0.1',
      status: 'Ready',
      labels: { 'berth.dev/zone': 'zone-1' },
      taints: [],
      allocatable: { cpu: '4', memory: '8Gi', 'ephemeral-storage': '20Gi', ports: '31000-31999' },
      allocated: {},
      tasks: 0,
    });
    expect((await h.run(['get', 'nodes', '-o', 'yaml'])).out).toMatch(
      /^apiVersion: berth.dev\/v1\nkind: NodeList\nitems:\n {2}- kind: Node\n/,
    );
    expect((await h.run(['get', 'nodes', '-o', 'name', '-l', 'berth.dev/zone in (zone-2,zone-3)'])).out).toBe(
      'node/node-2\nnode/node-3\n',
    );
  });

  it('lists tasks, services and jobs from what runs on the cluster', async () => {
    await using h = await harness();
    await h.run([
      'run',
      '-f',
      await h.file('all.yaml', `${WEB_SERVICE}---\n${BATCH_JOB}---\n${ONE_TASK}`),
      '--wait',
    ]);
    await until(() => h.cluster.status('batch-1')?.state === 'FINISHED');
    const tasks = await h.run(['get', 'tasks'], { now: () => Date.now() + 65_000 });
    expect(tasks.out.split('\n')[0]).toMatch(/^NAME\s+STATE\s+NODE\s+PORTS\s+AGE$/);
    expect(tasks.out).toMatch(/\nbatch-0\s+FINISHED\s+node-\d\s+<none>\s+65s\n/);
    expect(tasks.out).toMatch(/\nweb-1\s+RUNNING\s+node-\d\s+http:31\d{3}\s+65s\n/);
    expect((await h.run(['get', 'tasks', '-o', 'name', '-l', 'berth.dev/service=web'])).out).toBe(
      'task/web-0\ntask/web-1\n',
    );
    const wide = await h.run(['get', 'tasks', 'batch-0', '-o', 'wide']);
    expect(wide.out).toMatch(
      /SERVICE\s+HOSTNAME\s+EXIT\s+REASON\s+MESSAGE\nbatch-0 .*<none>\s+10\.0\.0\.\d\s+0\s+Completed\s+command exited with status 0/,
    );
    const task = JSON.parse((await h.run(['get', 'task', 'hello', '-o', 'json'])).out).items[0];
    expect(task).toMatchObject({
      kind: 'Task',
      id: 'hello',
      state: 'RUNNING',
      rawState: 'RUNNING',
      backend: 'memory',
    });
    expect(task.createdAt).toMatch(/^\d{4}-\d\d-\d\dT/);

    expect((await h.run(['get', 'svc'])).out).toMatch(/^NAME\s+READY\s+AGE\nweb\s+2\/2\s+\d+s\n$/);
    const svc = JSON.parse((await h.run(['get', 'services', '-o', 'json'])).out);
    expect(svc.items).toEqual([
      {
        kind: 'Service',
        name: 'web',
        replicas: 2,
        ready: 2,
        tasks: ['web-0', 'web-1'],
        createdAt: expect.any(String),
      },
    ]);
    expect((await h.run(['get', 'jobs'])).out).toMatch(
      /^NAME\s+STATUS\s+COMPLETIONS\s+ACTIVE\s+FAILED\s+AGE\nbatch\s+Complete\s+2\/2\s+0\s+0\s+\d+s\n$/,
    );
  });

  it('says what it does not know: unknown names and types', async () => {
    await using h = await harness();
    const missing = await h.run(['get', 'tasks', 'nope']);
    expect(missing.code).toBe(BERTH_ERROR_CODES.NOT_FOUND.exitCode);
    expect(missing.err).toMatch(/error: task nope not found/);
    const type = await h.run(['get', 'nodez']);
    expect(type.code).toBe(BERTH_ERROR_CODES.SPEC_INVALID.exitCode);
    expect(type.err).toMatch(
      /unknown type "nodez"\nhint: Did you mean nodes?\? berth get takes nodes, tasks/,
    );
    const fmt = await h.run(['get', 'tasks', '-o', 'xml']);
    expect(fmt.err).toMatch(
      /--output: unknown format "xml"\nhint: Use one of table, wide, json, yaml, name\./,
    );
    expect((await h.run(['get', 'tasks'])).err).toBe('No tasks found.\n');
  });

  it('-w prints changes after the list until interrupted', async () => {
    await using h = await harness();
    const stop = new AbortController();
    const running = h.run(['get', 'tasks', '-w', '-o', 'name'], { signal: stop.signal });
    await until(() => h.adaptersCreated() === 1);
    await new Promise((r) => setTimeout(r, 20));
    await h.run(['run', '-f', await h.file('t.yaml', ONE_TASK)]);
    await until(() => h.cluster.isRunning('hello'));
    await new Promise((r) => setTimeout(r, 20));
    stop.abort();
    const r = await running;
    expect(r.code).toBe(0);
    // PENDING, STAGING, STARTING, RUNNING: one line per change.
    expect(r.out.split('\n').filter((l) => l === 'task/hello').length).toBeGreaterThanOrEqual(4);
  });

  it('saves the snapshot plan --snapshot reads', async () => {
    await using h = await harness();
    const snap = JSON.parse((await h.run(['get', 'snapshot'])).out);
    expect(snap).toMatchObject({ apiVersion: 'berth.dev/v1', kind: 'ClusterSnapshot', backend: 'memory' });
    expect(snap.nodes).toHaveLength(3);
  });
});

describe('berth describe', () => {
  it('describes a node, a task and a service', async () => {
    await using h = await harness();
    await h.run(['run', '-f', await h.file('all.yaml', `${WEB_SERVICE}---\n${ONE_TASK}`), '--wait']);
    const task = await h.run(['describe', 'task', 'hello']);
    expect(task.out).toMatch(/^Name: {10}hello\nService: {7}<none>\nState: {9}RUNNING\n/);
    expect(task.out).toMatch(/\nNode: {10}node-\d \(10\.0\.0\.\d\)\n/);
    const node = h.cluster.status('hello')!.nodeId!;
    const described = await h.run(['describe', 'node', node]);
    expect(described.out).toMatch(/Status: +Ready\n/);
    expect(described.out).toMatch(/Allocatable: +4 cpu, 8Gi mem, 20Gi disk, ports 31000-31999\n/);
    expect(described.out).toMatch(/\n {2}hello\s+<none>\s+default\s+0\s+0\.1 cpu, 64Mi mem\n/);
    expect(described.out).toMatch(/Allocated: +cpu [\d.]+ \(\d+%\), memory \d+Mi \(\d+%\)\n/);
    const svc = await h.run(['describe', 'service', 'web']);
    expect(svc.out).toMatch(/Replicas: +2 desired \| 2 running \| 0 ended\n/);
    expect(svc.out).toMatch(/Endpoints: +10\.0\.0\.\d:31\d{3}, 10\.0\.0\.\d:31\d{3}\n/);
    expect(
      JSON.parse((await h.run(['describe', 'service', 'web', '-o', 'json'])).out).endpoints,
    ).toHaveLength(2);
    const missing = await h.run(['describe', 'node', 'node-9']);
    expect(missing.code).toBe(BERTH_ERROR_CODES.NOT_FOUND.exitCode);
  });
});

describe('berth delete and scale', () => {
  it('scales a service up and down', async () => {
    await using h = await harness();
    await h.run(['run', '-f', await h.file('web.yaml', WEB_SERVICE), '--wait']);
    expect((await h.run(['scale', 'service', 'web', '3'])).out).toBe('service/web scaled to 3\n');
    await until(() => h.cluster.isRunning('web-2'));
    expect((await h.run(['scale', 'svc', 'web', '--replicas', '1'])).code).toBe(0);
    await until(
      () => h.cluster.status('web-1')?.state === 'KILLED' && h.cluster.status('web-2')?.state === 'KILLED',
    );
    expect(h.cluster.isRunning('web-0')).toBe(true);
    const bad = await h.run(['scale', 'service', 'web', '-1']);
    expect(bad.code).not.toBe(0);
    const missing = await h.run(['scale', 'service', 'nope', '2']);
    expect(missing.code).toBe(BERTH_ERROR_CODES.NOT_FOUND.exitCode);
  });

  it('deletes a task, a service and a job, and nothing when a name is unknown', async () => {
    await using h = await harness();
    const batch = BATCH_JOB.replace('echo done', 'sleep 3600');
    await h.run([
      'run',
      '-f',
      await h.file('all.yaml', `${WEB_SERVICE}---\n${batch}---\n${ONE_TASK}`),
      '--wait',
    ]);
    const unknown = await h.run(['delete', 'task', 'hello', 'nope']);
    expect(unknown.code).toBe(BERTH_ERROR_CODES.NOT_FOUND.exitCode);
    expect(unknown.err).toMatch(/task nope not found; nothing was deleted/);
    expect(h.cluster.isRunning('hello')).toBe(true);

    expect((await h.run(['delete', 'task', 'hello', '--grace-period', '0'])).out).toBe(
      'task/hello deleted\n',
    );
    expect((await h.run(['delete', 'service', 'web'])).out).toBe('service/web deleted\n');
    expect((await h.run(['delete', 'job', 'batch'])).out).toBe('job/batch deleted\n');
    await until(() =>
      ['hello', 'web-0', 'web-1', 'batch-0', 'batch-1'].every(
        (id) => h.cluster.status(id)?.state === 'KILLED',
      ),
    );
  });
});

describe('berth logs, events, endpoints', () => {
  it('prints a task log, a stream of it, and follows it', async () => {
    await using h = await harness();
    await h.run(['run', '-f', await h.file('t.yaml', ONE_TASK), '--wait']);
    await until(() => (h.cluster.logs('hello')?.lines.length ?? 0) >= 2);
    expect((await h.run(['logs', 'hello'])).out).toBe('hello\noops\n');
    expect((await h.run(['logs', 'hello', '--stream', 'stderr'])).out).toBe('oops\n');
    expect((await h.run(['logs', 'hello', '--tail', '1'])).out).toBe('oops\n');
    const follow = h.run(['logs', 'hello', '-f']);
    await new Promise((r) => setTimeout(r, 20));
    await h.run(['delete', 'task', 'hello']);
    expect((await follow).out).toBe('hello\noops\n');
    expect((await h.run(['logs', 'nope'])).code).toBe(BERTH_ERROR_CODES.NOT_FOUND.exitCode);
  });

  it('streams events with -w and lists those seen in --duration without it', async () => {
    await using h = await harness();
    const stop = new AbortController();
    const watching = h.run(['events', '-w'], { signal: stop.signal });
    await until(() => h.adaptersCreated() === 1);
    await new Promise((r) => setTimeout(r, 20));
    await h.run(['run', '-f', await h.file('t.yaml', ONE_TASK), '--wait']);
    await new Promise((r) => setTimeout(r, 20));
    stop.abort();
    const r = await watching;
    expect(r.out.split('\n')[0]).toMatch(/^LAST SEEN\s+TYPE\s+REASON\s+OBJECT\s+MESSAGE$/);
    expect(r.out).toMatch(/\d+s\s+Normal\s+Scheduled\s+task\/hello\s+placed hello on node-\d/);
    expect(r.out).toMatch(/Normal\s+TaskStateChanged\s+task\/hello\s+hello is RUNNING/);

    const listing = h.run(['events', '--duration', '200ms', '-o', 'json']);
    await until(() => h.adaptersCreated() === 3);
    await new Promise((r) => setTimeout(r, 20));
    await h.run(['delete', 'task', 'hello']);
    const doc = JSON.parse((await listing).out);
    expect(doc.kind).toBe('EventList');
    expect(doc.items.map((e: { kind: string }) => e.kind)).toContain('TaskStateChanged');
    expect(doc.items.at(-1)).toMatchObject({ taskId: 'hello', state: 'KILLED', level: 'info' });
  });

  it('lists endpoints and prints them again when they change', async () => {
    await using h = await harness();
    await h.run(['run', '-f', await h.file('web.yaml', WEB_SERVICE), '--wait']);
    const table = await h.run(['endpoints', 'web']);
    expect(table.out).toMatch(
      /^TASK\s+NODE\s+HOST\s+PORTS\nweb-0\s+node-\d\s+10\.0\.0\.\d\s+http:31\d{3}\nweb-1 /,
    );
    expect((await h.run(['endpoints', 'web', '-o', 'name'])).out).toMatch(
      /^10\.0\.0\.\d:31\d{3}\n10\.0\.0\.\d:31\d{3}\n$/,
    );
    const stop = new AbortController();
    const watching = h.run(['endpoints', 'web', '-w', '-o', 'json'], { signal: stop.signal });
    await until(() => h.adaptersCreated() === 4);
    await new Promise((r) => setTimeout(r, 20));
    await h.run(['scale', 'service', 'web', '1']);
    await until(() => h.cluster.status('web-1')?.state === 'KILLED');
    await new Promise((r) => setTimeout(r, 20));
    stop.abort();
    const lines = (await watching).out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines[0].items).toHaveLength(2);
    expect(lines.at(-1).items.map((e: { taskId: string }) => e.taskId)).toEqual(['web-0']);
    expect((await h.run(['endpoints', 'nope'])).code).toBe(BERTH_ERROR_CODES.NOT_FOUND.exitCode);
  });
});

describe('berth schema, completion, version', () => {
  it('prints the JSON Schema', async () => {
    await using h = await harness();
    const schema = JSON.parse((await h.run(['schema'])).out);
    expect(schema.$schema).toMatch(/json-schema\.org/);
  });

  it('prints completion scripts that know the commands and flags', async () => {
    await using h = await harness();
    const bash = (await h.run(['completion', 'bash'])).out;
    expect(bash).toMatch(/complete -F _berth berth/);
    expect(bash).toMatch(/"get"\) words="[^"]*--selector[^"]*"/);
    expect(bash).toMatch(
      /"config"\) words="get-contexts current-context use-context set-context delete-context view/,
    );
    expect((await h.run(['completion', 'zsh'])).out).toMatch(/^#compdef berth\n/);
    expect((await h.run(['completion', 'fish'])).out).toMatch(
      /complete -c berth -n '__fish_seen_subcommand_from get' -l watch/,
    );
    expect((await h.run(['completion', 'tcsh'])).code).toBe(BERTH_ERROR_CODES.SPEC_INVALID.exitCode);
  });

  it('prints the server side when a context is connected', async () => {
    await using h = await harness();
    const r = await h.run(['version', '-o', 'json']);
    expect(JSON.parse(r.out)).toMatchObject({
      client: { version: expect.any(String) },
      server: { context: 'dev', backend: 'memory', adapter: 'memory', version: 'unknown' },
    });
    expect((await h.run(['version', '--client'])).out).not.toMatch(/Server Version/);
  });
});
