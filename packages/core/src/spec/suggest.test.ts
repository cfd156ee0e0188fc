import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { closestMatch, didYouMean, editDistance } from './suggest.ts';

describe('editDistance', () => {
  it('counts insertions, deletions, substitutions and adjacent swaps as one edit each', () => {
    expect(editDistance('replica', 'replicas')).toBe(1);
    expect(editDistance('comand', 'command')).toBe(1);
    expect(editDistance('tpc', 'tcp')).toBe(1);
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
  });

  it('is a symmetric distance that is zero only for equal strings', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 12 }), fc.string({ maxLength: 12 }), (a, b) => {
        expect(editDistance(a, b)).toBe(editDistance(b, a));
        expect(editDistance(a, b) === 0).toBe(a === b);
        expect(editDistance(a, b)).toBeLessThanOrEqual(Math.max(a.length, b.length));
      }),
    );
  });
});

describe('closestMatch', () => {
  const fields = ['replicas', 'template', 'discovery', 'autoscaling'];

  it('suggests the nearest field within a third of its length', () => {
    expect(closestMatch('replica', fields)).toBe('replicas');
    expect(closestMatch('templtae', fields)).toBe('template');
    expect(closestMatch('autoscale', fields)).toBe('autoscaling');
  });

  it('prefers a match differing only in case', () => {
    expect(closestMatch('TCP', ['udp', 'tcp'])).toBe('tcp');
  });

  it('suggests nothing for unrelated words', () => {
    expect(closestMatch('foo', fields)).toBeUndefined();
    expect(didYouMean('zzz', fields)).toBe('');
    expect(didYouMean('replica', fields)).toBe(' (did you mean "replicas"?)');
  });
});
