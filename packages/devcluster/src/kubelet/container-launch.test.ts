import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import {
  containerArgv,
  containerEnv,
  containerPorts,
  containerResources,
  expandVars,
} from './container-launch.ts';

const pod: V1Pod = {
  metadata: { name: 'web-1', namespace: 'shop', uid: 'u-1', labels: { app: 'web' } },
  spec: { nodeName: 'node-3', serviceAccountName: 'default', containers: [] },
};

describe('container launch', () => {
  it('expands $(VAR) from earlier entries, leaves unknown ones and honours $$ escapes', () => {
    expect(expandVars('$(A)-$(B)-$$(A)', { A: 'x' })).toBe('x-$(B)-$(A)');
  });

  it('fills env from values and downward-API fieldRefs, in order', () => {
    const env = containerEnv(
      pod,
      {
        name: 'c',
        env: [
          { name: 'NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
          { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
          { name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
          { name: 'APP', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
          { name: 'GREETING', value: 'hi $(NAME)' },
        ],
      },
      '127.0.0.1',
    );
    expect(env).toEqual({
      HOSTNAME: 'web-1',
      NAME: 'web-1',
      NODE: 'node-3',
      IP: '127.0.0.1',
      APP: 'web',
      GREETING: 'hi web-1',
    });
  });

  it('refuses env sources it cannot read with UNSUPPORTED and a fix', () => {
    expect(() =>
      containerEnv(
        pod,
        { name: 'c', env: [{ name: 'S', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }] },
        '127.0.0.1',
      ),
    ).toThrow(
      expect.objectContaining({ code: 'UNSUPPORTED', hint: expect.stringContaining('inline the value') }),
    );
  });

  it('joins command and args into argv, expanded', () => {
    expect(containerArgv({ name: 'c', command: ['echo'], args: ['$(X)', 'y'] }, { X: '1' })).toEqual([
      'echo',
      '1',
      'y',
    ]);
    expect(containerArgv({ name: 'c' }, {})).toEqual([]);
  });

  it('asks for dynamic host ports unless hostPort is set, and takes requests over limits', () => {
    expect(
      containerPorts({
        name: 'c',
        ports: [
          { containerPort: 80, name: 'http' },
          { containerPort: 9, hostPort: 31999 },
        ],
      }),
    ).toEqual([{ name: 'http' }, { hostPort: 31999 }]);
    const r = containerResources({
      name: 'c',
      resources: { limits: { cpu: '1', memory: '64Mi' }, requests: { cpu: '250m' } },
    });
    expect([r.cpu, r.memory]).toEqual([250, 64 * 2 ** 20]);
  });
});
