import { BERTH_ERROR_CODES } from '@berth/core';
import { describe, expect, it } from 'vitest';
import { runCli } from './program.ts';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return {
    io: {
      stdout: (t: string) => out.push(t),
      stderr: (t: string) => err.push(t),
      // No config file: version prints the client only.
      env: { BERTH_CONFIG: '/nonexistent/berth/config.yaml' },
    },
    out,
    err,
  };
}

describe('berth', () => {
  it('prints help listing its commands', async () => {
    const c = capture();
    expect(await runCli(['--help'], c.io)).toBe(0);
    expect(c.out.join('')).toMatch(/Usage: berth/);
    expect(c.out.join('')).toMatch(/version/);
  });

  it('prints the client version as text and json', async () => {
    const c = capture();
    expect(await runCli(['version'], c.io)).toBe(0);
    expect(c.out.join('')).toMatch(/^Client Version: \d+\.\d+\.\d+/);
    const j = capture();
    expect(await runCli(['version', '-o', 'json'], j.io)).toBe(0);
    expect(JSON.parse(j.out.join(''))).toMatchObject({ client: { version: expect.any(String) } });
  });

  it('suggests the closest command for a typo and exits non-zero', async () => {
    const c = capture();
    expect(await runCli(['verison'], c.io)).toBe(1);
    expect(c.err.join('')).toMatch(/Did you mean version\?/);
  });

  it('names the flag and the fix for a bad output format', async () => {
    const c = capture();
    expect(await runCli(['version', '-o', 'xml'], c.io)).toBe(BERTH_ERROR_CODES.SPEC_INVALID.exitCode);
    expect(c.err.join('')).toMatch(/--output: unknown format "xml"/);
    expect(c.err.join('')).toMatch(/hint: Use --output text, --output json or --output yaml/);
  });
});
