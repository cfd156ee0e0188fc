import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatAge, parseDuration } from './age.ts';
import { parseSelector, selectorPredicate } from './selector.ts';
import { colorEnabled } from './style.ts';
import { displayWidth, renderTable } from './table.ts';

describe('AGE like kubectl', () => {
  it.each([
    [5_000, '5s'],
    [119_000, '119s'],
    [200_000, '3m20s'],
    [180_000, '3m'],
    [42 * 60_000, '42m'],
    [2 * 3_600_000, '120m'],
    [5 * 3_600_000 + 10 * 60_000, '5h10m'],
    [30 * 3_600_000, '30h'],
    [4 * 86_400_000, '4d'],
    [3 * 86_400_000 + 4 * 3_600_000, '3d4h'],
    [120 * 86_400_000, '120d'],
    [(3 * 365 + 45) * 86_400_000, '3y45d'],
    [9 * 365 * 86_400_000, '9y'],
    [-1_500, '0s'],
    [-5_000, '<invalid>'],
  ])('prints %i ms as %s', (ms, text) => {
    expect(formatAge(ms)).toBe(text);
  });

  it('reads --timeout durations', () => {
    expect(parseDuration('90')).toBe(90_000);
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('5 minutes')).toBeUndefined();
    expect(parseDuration('')).toBeUndefined();
  });
});

describe('tables', () => {
  it('aligns columns three spaces apart under upper-case headers', () => {
    const text = renderTable(
      [{ header: 'NAME' }, { header: 'STATE' }, { header: 'AGE' }],
      [
        ['web-0', 'RUNNING', '5s'],
        ['web-10', 'PENDING', '3m'],
      ],
      Number.POSITIVE_INFINITY,
    );
    expect(text).toBe('NAME     STATE     AGE\nweb-0    RUNNING   5s\nweb-10   PENDING   3m\n');
  });

  it('truncates the widest cells with … to fit the terminal, never the protected column', () => {
    const long = 'x'.repeat(100);
    const text = renderTable(
      [{ header: 'NAME', noTruncate: true }, { header: 'MESSAGE' }],
      [['a-very-long-task-name', long]],
      60,
    );
    for (const line of text.trimEnd().split('\n')) expect(displayWidth(line)).toBeLessThanOrEqual(60);
    expect(text).toContain('a-very-long-task-name');
    expect(text).toMatch(/x…\n$/);
  });

  it('never exceeds the width when the columns can shrink enough (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.string({ maxLength: 40 }), { minLength: 3, maxLength: 3 }), { maxLength: 8 }),
        fc.integer({ min: 40, max: 200 }),
        (rows, width) => {
          const cells = rows.map((r) => r.map((c) => [...c].map((ch) => (ch < ' ' ? ' ' : ch)).join('')));
          const text = renderTable([{ header: 'A' }, { header: 'B' }, { header: 'C' }], cells, width);
          for (const line of text.split('\n')) expect(displayWidth(line)).toBeLessThanOrEqual(width);
        },
      ),
    );
  });
});

describe('label selectors', () => {
  it('parses equality, set and existence terms', () => {
    expect(parseSelector('app=web,tier!=db,zone in (a, b),!legacy,gpu')).toEqual({
      matchLabels: { app: 'web' },
      matchExpressions: [
        { key: 'tier', operator: 'NotIn', values: ['db'] },
        { key: 'zone', operator: 'In', values: ['a', 'b'] },
        { key: 'legacy', operator: 'DoesNotExist', values: [] },
        { key: 'gpu', operator: 'Exists', values: [] },
      ],
    });
    const match = selectorPredicate('berth.dev/zone notin (zone-1),app==web');
    expect(match({ app: 'web', 'berth.dev/zone': 'zone-2' })).toBe(true);
    expect(match({ app: 'web', 'berth.dev/zone': 'zone-1' })).toBe(false);
  });

  it('names the term it cannot read', () => {
    expect(() => parseSelector('app=web,=x')).toThrow(/--selector: cannot parse "=x"/);
  });
});

describe('colours', () => {
  it('are on for a terminal only, and off with NO_COLOR or --no-color', () => {
    expect(colorEnabled({ env: {}, stdoutIsTTY: true }, true)).toBe(true);
    expect(colorEnabled({ env: {}, stdoutIsTTY: false }, true)).toBe(false);
    expect(colorEnabled({ env: { NO_COLOR: '1' }, stdoutIsTTY: true }, true)).toBe(false);
    expect(colorEnabled({ env: {}, stdoutIsTTY: true }, false)).toBe(false);
    expect(colorEnabled({ env: { FORCE_COLOR: '1' }, stdoutIsTTY: false }, true)).toBe(true);
  });
});
