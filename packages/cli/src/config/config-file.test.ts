import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BerthError } from '@berth/core';
import { describe, expect, it } from 'vitest';
import { configPath, loadConfig, saveConfig, validateConfig } from './config-file.ts';

function rejection(fn: () => unknown): BerthError {
  try {
    fn();
  } catch (err) {
    if (err instanceof BerthError) return err;
    throw err;
  }
  throw new Error('expected a BerthError');
}

describe('config file', () => {
  it('lives under XDG_CONFIG_HOME, falls back to ~/.config, and BERTH_CONFIG overrides both', () => {
    expect(configPath({ XDG_CONFIG_HOME: '/x/cfg', HOME: '/home/u' }, '/cwd')).toBe(
      '/x/cfg/berth/config.yaml',
    );
    expect(configPath({ HOME: '/home/u' }, '/cwd')).toBe('/home/u/.config/berth/config.yaml');
    expect(configPath({ XDG_CONFIG_HOME: 'relative', HOME: '/home/u' }, '/cwd')).toBe(
      '/home/u/.config/berth/config.yaml',
    );
    expect(configPath({ BERTH_CONFIG: 'my.yaml', HOME: '/home/u' }, '/cwd')).toBe('/cwd/my.yaml');
  });

  it('accepts mesos and kubernetes contexts and fills the kubernetes mode', () => {
    const c = validateConfig(
      {
        'current-context': 'prod',
        contexts: {
          prod: {
            backend: 'mesos',
            masters: ['https://m1:5050', 'https://m2:5050'],
            principal: 'berth',
            secret: { env: 'MESOS_SECRET' },
          },
          kube: { backend: 'kubernetes', namespace: 'team-a' },
        },
      },
      'config.yaml',
    );
    expect(c.currentContext).toBe('prod');
    expect(c.contexts.kube).toEqual({ backend: 'kubernetes', namespace: 'team-a', mode: 'delegate' });
    expect(c.contexts.prod).toMatchObject({
      masters: ['https://m1:5050', 'https://m2:5050'],
      secret: { env: 'MESOS_SECRET' },
    });
  });

  it('lists every problem with the path of the field', () => {
    const err = rejection(() =>
      validateConfig(
        {
          'current-context': 'nope',
          contexts: {
            a: { backend: 'mesos', masters: ['ftp://x', 'http://ok:5050'], secret: { file: '/s', env: 'X' } },
            b: { backend: 'nomad' },
            c: { backend: 'kubernetes', mode: 'fast', extra: 1 },
          },
        },
        'cfg.yaml',
      ),
    );
    expect(err.code).toBe('SPEC_INVALID');
    expect(err.message).toContain('cfg.yaml');
    const paths = err.issues.map((i) => i.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'contexts.a.masters[0]',
        'contexts.a.secret',
        'contexts.b.backend',
        'contexts.c.mode',
        'contexts.c.extra',
        'current-context',
      ]),
    );
  });

  it('refuses a secret written inline: only file or env references are stored', () => {
    const err = rejection(() =>
      validateConfig(
        {
          contexts: {
            a: { backend: 'mesos', masters: ['http://m:5050'], principal: 'p', secret: { value: 'hunter2' } },
          },
        },
        'c.yaml',
      ),
    );
    expect(err.issues).toEqual([
      { path: 'contexts.a.secret', message: expect.stringMatching(/never stored in the config file/) },
    ]);
  });

  it('treats a missing file as empty and writes the file readable by its owner only', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-config-'));
    try {
      const path = join(dir, 'nested', 'config.yaml');
      expect(await loadConfig(path)).toEqual({ contexts: {} });
      await saveConfig(path, {
        contexts: { d: { backend: 'kubernetes', mode: 'berth' } },
        currentContext: 'd',
      });
      expect((await stat(path)).mode & 0o777).toBe(0o600);
      expect(await readFile(path, 'utf8')).toContain('current-context: d');
      expect(await loadConfig(path)).toEqual({
        contexts: { d: { backend: 'kubernetes', mode: 'berth' } },
        currentContext: 'd',
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
