import { Resources } from '@berth/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { taskSpec } from '../test/task-docs.ts';
import { agentUrlFromPid, hostPortsOfTask, portsOfResources, statusTimes } from './restore-view.ts';

const spec = (ports: string[]) =>
  taskSpec('t', {
    command: 'true',
    resources: { requests: Resources.of({ cpu: 10, memory: 1024 }) },
    ports: ports.map((name) => ({ name, protocol: 'tcp' as const })),
  });
const portsResource = (...ranges: [number, number][]) => ({
  name: 'ports',
  type: 'RANGES' as const,
  ranges: { range: ranges.map(([begin, end]) => ({ begin, end })) },
});

describe('agentUrlFromPid', () => {
  it('addresses the agent by the IP and port in its libprocess pid', () => {
    expect(agentUrlFromPid('slave(1)@127.0.0.1:40123')).toBe('http://127.0.0.1:40123');
    expect(agentUrlFromPid('slave(1)@10.0.0.5:5051', 'https')).toBe('https://10.0.0.5:5051');
    expect(agentUrlFromPid('slave(1)@::1:5051')).toBe('http://[::1]:5051');
  });

  it('gives up on pids without an address and port', () => {
    for (const pid of [
      undefined,
      '',
      'slave(1)',
      'slave(1)@host',
      'slave(1)@host:',
      'slave(1)@h:70000',
      'slave(1)@h:5x',
    ])
      expect(agentUrlFromPid(pid)).toBeUndefined();
  });

  it('round-trips any IPv4 address and port', () => {
    fc.assert(
      fc.property(fc.ipV4(), fc.integer({ min: 1, max: 65_535 }), (ip, port) => {
        const url = new URL(agentUrlFromPid(`slave(1)@${ip}:${port}`)!);
        expect(url.hostname).toBe(ip);
        expect(Number(url.port || 80)).toBe(port);
      }),
    );
  });
});

describe('hostPortsOfTask', () => {
  it('matches discovery ports to the spec by name, whatever their order', () => {
    const discovery = {
      visibility: 'FRAMEWORK' as const,
      ports: {
        ports: [
          { number: 31002, name: 'admin' },
          { number: 31001, name: 'http' },
        ],
      },
    };
    expect(hostPortsOfTask(spec(['http', 'admin']), { discovery })).toEqual([31001, 31002]);
  });

  it('falls back to the ports resources in ascending order when discovery is missing', () => {
    const resources = [portsResource([31005, 31005], [31001, 31001])];
    expect(hostPortsOfTask(spec(['http', 'admin']), { resources })).toEqual([31001, 31005]);
    expect(portsOfResources([portsResource([10, 12])])).toEqual([10, 11, 12]);
  });

  it('reports no ports rather than guessing when the counts disagree', () => {
    expect(hostPortsOfTask(spec(['http', 'admin']), { resources: [portsResource([31001, 31001])] })).toEqual(
      [],
    );
    expect(hostPortsOfTask(spec([]), { resources: [portsResource([31001, 31001])] })).toEqual([]);
  });
});

describe('statusTimes', () => {
  it('takes the first RUNNING, the terminal and the latest update from second-based timestamps', () => {
    const t = statusTimes([
      { state: 'TASK_STARTING', timestamp: 1_700_000_000.25 },
      { state: 'TASK_RUNNING', timestamp: 1_700_000_001.5 },
      { state: 'TASK_RUNNING', timestamp: 1_700_000_009 },
      { state: 'TASK_FINISHED', timestamp: 1_700_000_010.125 },
    ]);
    expect(t).toEqual({
      started: 1_700_000_001_500,
      finished: 1_700_000_010_125,
      updated: 1_700_000_010_125,
    });
  });

  it('knows nothing from statuses without timestamps', () => {
    expect(statusTimes([{ state: 'TASK_RUNNING' }])).toEqual({});
  });
});
