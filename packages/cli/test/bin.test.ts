/**
 * The real process: `node --conditions=@berth/source src/bin.ts …` (no build), checking exit
 * codes, stdout and stderr as a shell sees them.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BERTH_ERROR_CODES } from '@berth/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../src/bin.ts', import.meta.url));
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-bin-'));
  await writeFile(
    join(dir, 'config.yaml'),
    'current-context: gone\ncontexts:\n  gone: { backend: mesos, masters: ["http://127.0.0.1:9"] }\n',
  );
  await writeFile(
    join(dir, 'bad.yaml'),
    'apiVersion: berth.dev/v1\nkind: Task\nmetadata: {name: x}\nspec: {command: 5}\n',
  );
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function berth(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--conditions=@berth/source', bin, ...args],
      { cwd: dir, env: { PATH: process.env.PATH ?? '', HOME: dir, BERTH_CONFIG: join(dir, 'config.yaml') } },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

describe('the berth process', () => {
  it('prints help on stdout and exits 0', async () => {
    const r = await berth(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: berth \[options\] \[command\]/);
    expect(r.stderr).toBe('');
  });

  it('suggests the flag for a typo and exits 1', async () => {
    const r = await berth(['get', 'tasks', '--selectr', 'a=b']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^error: unknown option '--selectr'\n\(Did you mean --selector\?\)/);
  });

  it('names a missing spec file and exits with SPEC_INVALID', async () => {
    const r = await berth(['run', '-f', 'nope.yaml']);
    expect(r.code).toBe(BERTH_ERROR_CODES.SPEC_INVALID.exitCode);
    expect(r.stderr).toMatch(
      /^error: invalid spec in nope\.yaml: 1 problem\n {2}nope\.yaml: cannot read spec file: no such file\n/,
    );
  });

  it('lists the invalid fields with their line and column', async () => {
    const r = await berth(['plan', '-f', 'bad.yaml']);
    expect(r.code).toBe(BERTH_ERROR_CODES.SPEC_INVALID.exitCode);
    expect(r.stderr).toMatch(/ {2}bad\.yaml:4:\d+: spec\.command: /);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('exits BACKEND_UNAVAILABLE naming the master URL when nothing answers there', async () => {
    const r = await berth(['get', 'nodes']);
    expect(r.code).toBe(BERTH_ERROR_CODES.BACKEND_UNAVAILABLE.exitCode);
    expect(r.stderr).toMatch(
      /^error: cannot reach the Mesos master of context gone \(tried http:\/\/127\.0\.0\.1:9\)/,
    );
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('exits NOT_FOUND for an unknown context', async () => {
    const r = await berth(['--context', 'prod', 'get', 'nodes']);
    expect(r.code).toBe(BERTH_ERROR_CODES.NOT_FOUND.exitCode);
    expect(r.stderr).toMatch(/^error: context "prod" \(from --context\) is not in /);
  });
});
