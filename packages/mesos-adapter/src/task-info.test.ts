import { Resources, type TaskSpec } from '@berth/core';
import { describe, expect, it } from 'vitest';
import { buildTaskInfo, portEnvName, taskEnvironment } from './task-info.ts';

const spec: TaskSpec = {
  name: 'web',
  command: 'serve --port $PORT_HTTP',
  image: 'nginx:1.27',
  env: { MODE: 'prod' },
  resources: { requests: Resources.of({ cpu: 250, memory: 64 * 1024 ** 2 }) },
  ports: [
    { name: 'http', protocol: 'tcp' },
    { name: 'admin-ui', protocol: 'tcp' },
  ],
  priority: 0,
  tenant: 'team-a',
  constraints: [],
  nodeSelector: {},
  tolerations: [],
  restartPolicy: { policy: 'never' },
  healthCheck: {
    type: 'http',
    port: 'http',
    path: '/healthz',
    scheme: 'http',
    intervalSeconds: 10,
    timeoutSeconds: 2,
    gracePeriodSeconds: 30,
    maxConsecutiveFailures: 3,
  },
  killGracePeriodSeconds: 7.5,
  labels: { app: 'web' },
};

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
