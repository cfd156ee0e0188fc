import { describe, expect, it } from 'vitest';
import { BERTH_ERROR_CODES, BerthError, isBerthError, toBerthError } from './errors.ts';

describe('BerthError', () => {
  it('prefixes the message with the component and keeps the code', () => {
    const err = new BerthError('NOT_FOUND', 'task web-1 does not exist', { component: 'mesos-adapter' });
    expect(err.message).toBe('[berth] [mesos-adapter] task web-1 does not exist');
    expect(err.code).toBe('NOT_FOUND');
    expect(err.exitCode).toBe(BERTH_ERROR_CODES.NOT_FOUND.exitCode);
    expect(err.docsUrl).toMatch(/#not-found$/);
  });

  it('chains the cause and serialises issues without the stack', () => {
    const cause = new Error('ECONNREFUSED');
    const err = new BerthError('SPEC_INVALID', 'spec is invalid', {
      cause,
      issues: [{ path: 'spec.replicas', message: 'must be >= 0' }],
    });
    expect(err.cause).toBe(cause);
    expect(err.toJSON()).toEqual({
      code: 'SPEC_INVALID',
      message: '[berth] spec is invalid',
      issues: [{ path: 'spec.replicas', message: 'must be >= 0' }],
    });
  });

  it('gives every code a distinct exit code', () => {
    const codes = Object.values(BERTH_ERROR_CODES).map((c) => c.exitCode);
    expect(new Set(codes).size).toBe(codes.length);
    expect(codes).not.toContain(0);
    expect(codes).not.toContain(1);
  });

  it('normalises unknown throwables at adapter boundaries', () => {
    const original = new BerthError('CONFLICT', 'x');
    expect(toBerthError(original)).toBe(original);
    const timeout = toBerthError(Object.assign(new Error('slow'), { name: 'TimeoutError' }), 'k8s-adapter');
    expect(timeout.code).toBe('TIMEOUT');
    expect(timeout.component).toBe('k8s-adapter');
    const weird = toBerthError('boom');
    expect(weird.code).toBe('INTERNAL');
    expect(weird.message).toContain('boom');
    expect(isBerthError(weird, 'INTERNAL')).toBe(true);
    expect(isBerthError(weird, 'TIMEOUT')).toBe(false);
    expect(isBerthError(new Error('x'))).toBe(false);
  });
});
