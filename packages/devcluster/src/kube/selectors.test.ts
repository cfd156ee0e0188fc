import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  formatRequirements,
  matchesFields,
  matchesLabels,
  parseFieldSelector,
  parseLabelSelector,
  requirementsOf,
} from './selectors.ts';
import { KubeStatusError } from './status.ts';

const labels = { app: 'web', tier: 'frontend', 'berth.dev/task': 't1' };

describe('label selectors', () => {
  it.each([
    ['app=web', true],
    ['app==web', true],
    ['app!=web', false],
    ['app!=db', true],
    ['tier in (frontend, backend)', true],
    ['tier notin (frontend)', false],
    ['missing notin (x)', true],
    ['berth.dev/task', true],
    ['!berth.dev/task', false],
    ['!missing,app=web,tier in (frontend)', true],
    ['', true],
  ])('%s → %s', (selector, expected) => {
    expect(matchesLabels(parseLabelSelector(selector), labels)).toBe(expected);
  });

  it('rejects malformed selectors with a 400', () => {
    for (const bad of ['app=web,', 'tier in (', '-bad=x', 'a=b c']) {
      expect(() => parseLabelSelector(bad)).toThrow(KubeStatusError);
    }
  });

  it('formats matchLabels and matchExpressions the way Scale.status.selector shows them', () => {
    const reqs = requirementsOf({
      matchLabels: { app: 'web' },
      matchExpressions: [
        { key: 'tier', operator: 'In', values: ['b', 'a'] },
        { key: 'x', operator: 'DoesNotExist' },
      ],
    });
    expect(formatRequirements(reqs)).toBe('app=web,tier in (a,b),!x');
  });

  it('round-trips: a formatted selector parses to one that selects the same label sets', () => {
    const key = fc.constantFrom('app', 'tier', 'berth.dev/x');
    const value = fc.constantFrom('a', 'b', 'c');
    const requirement = fc.oneof(
      fc.record({
        op: fc.constant('in' as const),
        key,
        values: fc.uniqueArray(value, { minLength: 1, maxLength: 3 }),
      }),
      fc.record({
        op: fc.constant('notin' as const),
        key,
        values: fc.uniqueArray(value, { minLength: 1, maxLength: 3 }),
      }),
      fc.record({ op: fc.constant('exists' as const), key }),
      fc.record({ op: fc.constant('doesnotexist' as const), key }),
    );
    const labelSet = fc.dictionary(key, value);
    fc.assert(
      fc.property(fc.array(requirement, { maxLength: 4 }), labelSet, (reqs, set) => {
        const reparsed = parseLabelSelector(formatRequirements(reqs));
        expect(matchesLabels(reparsed, set)).toBe(matchesLabels(reqs, set));
      }),
    );
  });
});

describe('field selectors', () => {
  const supported = new Set(['metadata.name', 'spec.nodeName', 'status.phase']);
  const fields = { 'metadata.name': 'p', 'spec.nodeName': '', 'status.phase': 'Running' };

  it('matches =, == and != (an unset field is the empty string)', () => {
    expect(
      matchesFields(parseFieldSelector('metadata.name=p,status.phase!=Pending', supported), fields),
    ).toBe(true);
    expect(matchesFields(parseFieldSelector('spec.nodeName=', supported), fields)).toBe(true);
    expect(matchesFields(parseFieldSelector('status.phase==Pending', supported), fields)).toBe(false);
  });

  it('rejects a field the resource does not support, naming it', () => {
    expect(() => parseFieldSelector('spec.bogus=x', supported)).toThrow(
      'field label not supported: spec.bogus',
    );
  });
});
