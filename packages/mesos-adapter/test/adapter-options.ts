/** The adapter options every devcluster test starts from: a test framework and fast timings. */
import type { MesosAdapterOptions } from '../src/mesos-adapter.ts';

export function testAdapterOptions(masters: string[], stateFile: string): MesosAdapterOptions {
  return {
    masters,
    framework: {
      name: 'berth-test',
      user: 'root',
      roles: ['default'],
      failoverTimeoutSeconds: 60,
      checkpoint: true,
    },
    stateFile,
    refuseSeconds: 1,
    backoff: { initialMs: 20, maxMs: 200 },
    logPollIntervalMs: 50,
  };
}
