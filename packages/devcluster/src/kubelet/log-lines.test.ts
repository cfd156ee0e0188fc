import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LineStamper, tail } from './pod-manager.ts';

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

describe('log lines', () => {
  it('tail keeps the last n lines, like tailLines', () => {
    expect(dec(tail(enc('a\nb\nc\n'), 2))).toBe('b\nc\n');
    expect(dec(tail(enc('a\nb\nc'), 1))).toBe('c');
    expect(dec(tail(enc('a\n'), 5))).toBe('a\n');
    expect(dec(tail(enc('a\nb\n'), 0))).toBe('');
  });

  it('tail agrees with splitting into lines', () => {
    fc.assert(
      fc.property(
        fc.array(fc.stringMatching(/^[a-z]{0,3}$/), { minLength: 1, maxLength: 8 }),
        fc.nat(10),
        (lines, n) => {
          const text = `${lines.join('\n')}\n`;
          const expected =
            n === 0
              ? ''
              : lines
                  .slice(-n)
                  .map((l) => `${l}\n`)
                  .join('');
          expect(dec(tail(enc(text), n))).toBe(expected);
        },
      ),
    );
  });

  it('stamps every line once, however the chunks split it', () => {
    fc.assert(
      fc.property(fc.array(fc.stringMatching(/^[a-z\n]{0,6}$/), { maxLength: 6 }), (chunks) => {
        const stamper = new LineStamper();
        const out = chunks.map((c) => dec(stamper.push(enc(c)))).join('');
        const stripped = out.replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z /g, '');
        expect(stripped).toBe(chunks.join(''));
        const lines = chunks.join('').split('\n');
        const started = lines.filter((l, i) => l !== '' || i < lines.length - 1).length;
        expect(out.match(/\d{9}Z /g)?.length ?? 0).toBe(started);
      }),
    );
  });
});
