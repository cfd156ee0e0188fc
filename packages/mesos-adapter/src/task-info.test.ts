import { Resources, type TaskSpec } from '@berth/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { httpHealthCheck, MiB, taskSpec } from '../test/task-docs.ts';
import { buildTaskInfo, portEnvName, taskEnvironment, taskInfoJson, taskInfoTemplate } from './task-info.ts';

const spec = taskSpec('web', {
  command: 'serve --port $PORT_HTTP',
  image: 'nginx:1.27',
  env: { MODE: 'prod' },
  resources: { requests: Resources.of({ cpu: 250, memory: 64 * MiB }) },
  ports: [
    { name: 'http', protocol: 'tcp' },
    { name: 'admin-ui', protocol: 'tcp' },
  ],
  tenant: 'team-a',
  healthCheck: httpHealthCheck({ gracePeriodSeconds: 30 }),
  killGracePeriodSeconds: 7.5,
  labels: { app: 'web' },
});

describe('buildTaskInfo', () => {
  const info = buildTaskInfo({
    taskId: 'web-0',
    spec,
    agentId: 'S1',
    hostname: 'agent-1',
    hostPorts: [31001, 31007],
    role: 'team-a',
    specHash: 'abc',
    service: 'web',
  });

  it('uses the Berth task id and the offer agent, with resources allocated to the role', () => {
    expect(info.task_id).toEqual({ value: 'web-0' });
    expect(info.agent_id).toEqual({ value: 'S1' });
    const byName = Object.fromEntries((info.resources ?? []).map((r) => [r.name, r]));
    expect(byName.cpus?.scalar?.value).toBe(0.25);
    expect(byName.mem?.scalar?.value).toBe(64);
    expect(byName.ports?.ranges?.range).toEqual([
      { begin: 31001, end: 31001 },
      { begin: 31007, end: 31007 },
    ]);
    for (const r of info.resources ?? []) expect(r.allocation_info).toEqual({ role: 'team-a' });
  });

  it("sets Marathon's port variables and HOST next to the task's env", () => {
    const vars = Object.fromEntries(
      (info.command?.environment?.variables ?? []).map((v) => [v.name, v.value]),
    );
    expect(vars).toMatchObject({
      MODE: 'prod',
      HOST: 'agent-1',
      PORT: '31001',
      PORT0: '31001',
      PORT1: '31007',
      PORTS: '31001,31007',
      PORT_HTTP: '31001',
      PORT_ADMIN_UI: '31007',
    });
    expect(info.command).toMatchObject({ shell: true, value: 'serve --port $PORT_HTTP' });
  });

  it('runs the image in a MESOS container, with labels, discovery, health check and kill policy', () => {
    expect(info.container).toEqual({
      type: 'MESOS',
      mesos: { image: { type: 'DOCKER', docker: { name: 'nginx:1.27' } } },
    });
    const labels = Object.fromEntries((info.labels?.labels ?? []).map((l) => [l.key, l.value]));
    expect(labels).toMatchObject({
      app: 'web',
      'berth.dev/task-id': 'web-0',
      'berth.dev/service': 'web',
      'berth.dev/tenant': 'team-a',
      'berth.dev/spec-hash': 'abc',
    });
    expect(info.discovery?.ports?.ports).toEqual([
      { number: 31001, name: 'http', protocol: 'tcp' },
      { number: 31007, name: 'admin-ui', protocol: 'tcp' },
    ]);
    expect(info.health_check).toMatchObject({
      type: 'HTTP',
      http: { port: 31001, path: '/healthz' },
      consecutive_failures: 3,
    });
    expect(info.kill_policy).toEqual({ grace_period: { nanoseconds: 7_500_000_000 } });
  });

  it('refuses a health check on a port the task does not declare, naming the fix', () => {
    const bad = { ...spec, healthCheck: { ...spec.healthCheck!, port: 'metrics' } } as TaskSpec;
    expect(() =>
      buildTaskInfo({
        taskId: 'w',
        spec: bad,
        agentId: 'S1',
        hostname: 'h',
        hostPorts: [1, 2],
        role: 'r',
        specHash: 'x',
      }),
    ).toThrow(/healthCheck.port 'metrics' names no declared port/);
  });

  it('names port variables the way Marathon does', () => {
    expect(portEnvName('admin-ui')).toBe('PORT_ADMIN_UI');
    expect(taskEnvironment({ ...spec, ports: [] }, 'h', [])).toEqual({ MODE: 'prod', HOST: 'h' });
  });
});

describe('taskInfoTemplate', () => {
  const portName = fc.constantFrom('http', 'admin-ui', 'admin_ui', 'grpc', 'x');
  const variant = fc.record({
    command: fc.option(fc.constantFrom('sleep 1', 'serve $PORT0'), { nil: undefined }),
    args: fc.option(fc.array(fc.constantFrom('/bin/app', '--flag', 'x'), { maxLength: 3 }), {
      nil: undefined,
    }),
    image: fc.option(fc.constantFrom('nginx:1.27', 'busybox'), { nil: undefined }),
    env: fc.dictionary(
      fc.constantFrom('MODE', 'HOST', 'PORT', 'PORT0', 'PORTS', 'PORT_HTTP', 'A_B'),
      fc.oneof(
        fc.string({ unit: 'binary' }),
        fc.constantFrom('"quoted"\\', '\u2028', '\u0000berth-launch-value-2\u0000'),
      ),
      {
        maxKeys: 3,
      },
    ),
    ports: fc.uniqueArray(portName, { maxLength: 3 }),
    hostPorts: fc.uniqueArray(fc.integer({ min: 1, max: 65535 }), { maxLength: 4 }),
    gpus: fc.constantFrom(0, 1),
    disk: fc.constantFrom(0, 512 * 1024 ** 2),
    extended: fc.dictionary(fc.constantFrom('fpga', 'nic'), fc.integer({ min: 1, max: 4 }), { maxKeys: 2 }),
    health: fc.constantFrom('none', 'command', 'http-name', 'tcp-number'),
    role: fc.constantFrom('*', 'team-a'),
    service: fc.option(fc.constantFrom('web'), { nil: undefined }),
    job: fc.option(fc.constantFrom('batch'), { nil: undefined }),
    mesosTaskId: fc.option(fc.constantFrom('web-0.2'), { nil: undefined }),
    discoveryName: fc.option(fc.constantFrom('web.svc'), { nil: undefined }),
  });

  it('builds, launch after launch, exactly the TaskInfo buildTaskInfo builds, and its JSON text', () => {
    fc.assert(
      fc.property(variant, (v) => {
        const s: TaskSpec = {
          ...spec,
          ...(v.command === undefined ? { command: undefined } : { command: v.command }),
          ...(v.args === undefined ? {} : { args: v.args }),
          ...(v.image === undefined ? { image: undefined } : { image: v.image }),
          env: v.env,
          resources: {
            requests: Resources.of({
              cpu: 500,
              memory: 3 * 1024 ** 2 + 1,
              disk: v.disk,
              gpus: v.gpus,
              extended: v.extended,
            }),
          },
          ports: v.ports.map((name) => ({ name, protocol: 'tcp' as const })),
          healthCheck:
            v.health === 'none'
              ? undefined
              : v.health === 'command'
                ? { ...spec.healthCheck!, type: 'command', command: 'true' }
                : v.health === 'tcp-number'
                  ? { ...spec.healthCheck!, type: 'tcp', port: 8080 }
                  : { ...spec.healthCheck!, port: v.ports[0] ?? 'http' },
        } as TaskSpec;
        const fixed = {
          taskId: 'web-0',
          spec: s,
          role: v.role,
          specHash: 'h1',
          ...(v.mesosTaskId === undefined ? {} : { mesosTaskId: v.mesosTaskId }),
          ...(v.service === undefined ? {} : { service: v.service }),
          ...(v.job === undefined ? {} : { job: v.job }),
          ...(v.discoveryName === undefined ? {} : { discoveryName: v.discoveryName }),
        };
        // The wire form, byte for byte (field order included), or the error.
        const outcome = (f: () => unknown) => {
          try {
            return { ok: JSON.stringify(f()) };
          } catch (e) {
            return { error: (e as Error).message };
          }
        };
        let template: ReturnType<typeof taskInfoTemplate> | undefined;
        const templated = (place: { agentId: string; hostname: string; hostPorts: number[] }) =>
          outcome(() => {
            template ??= taskInfoTemplate(fixed);
            const info = template(place);
            // The prebuilt text the ACCEPT body uses is JSON.stringify's, byte for byte.
            expect(taskInfoJson(info)).toBe(JSON.stringify(info));
            return info;
          });
        for (const place of [
          { agentId: 'S1', hostname: 'agent-1', hostPorts: v.hostPorts },
          { agentId: 'S2', hostname: 'agent-2', hostPorts: v.hostPorts.slice(1) },
          { agentId: 'S"3"', hostname: 'agent-\u2028"3"', hostPorts: v.hostPorts.slice(2) },
        ]) {
          expect(templated(place)).toEqual(outcome(() => buildTaskInfo({ ...fixed, ...place })));
        }
      }),
      { numRuns: 1000 },
    );
  });
});
