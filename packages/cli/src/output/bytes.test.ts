import { describe, expect, it } from 'vitest';
import { bytes, cores } from './views.ts';

describe('table cells for resources', () => {
  it('prints short exact quantities as Kubernetes does', () => {
    expect(bytes(0)).toBe('0');
    expect(bytes(512 * 1024 ** 2)).toBe('512Mi');
    expect(bytes(4 * 1024 ** 3)).toBe('4Gi');
    expect(bytes(1536 * 1024)).toBe('1536Ki');
  });

  it('rounds odd byte counts such as a machine memory to one decimal instead of printing ten digits', () => {
    expect(bytes(8_425_504_768)).toBe('7.8Gi');
    expect(bytes(3 * 1024 ** 3 + 1)).toBe('3Gi');
    expect(bytes(1_000_000)).toBe('976.6Ki');
  });

  it('prints millicpu as cores', () => {
    expect(cores(1500)).toBe('1.5');
    expect(cores(250)).toBe('0.25');
    expect(cores(2000)).toBe('2');
  });
});
