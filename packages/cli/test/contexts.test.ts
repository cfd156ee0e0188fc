import { readFile } from 'node:fs/promises';
import { BERTH_ERROR_CODES } from '@berth/core';
import { describe, expect, it } from 'vitest';
import { harness } from './cli-harness.ts';

describe('berth config', () => {
  it('creates, lists, switches and deletes contexts', async () => {
    await using h = await harness({ config: '' });
    let r = await h.run([
      'config',
      'set-context',
      'prod',
      '--backend',
      'mesos',
      '--master',
      'https://m1:5050',
      '--master',
      'https://m2:5050',
      '--role',
      'web',
      '--principal',
      'berth',
      '--secret-env',
      'MESOS_SECRET',
    ]);
    expect(r).toMatchObject({ code: 0, out: 'Context "prod" created.\n' });
    r = await h.run([
      'config',
      'set-context',
      'kube',
      '--backend',
      'kubernetes',
      '--kube-context',
      'kind',
      '--namespace',
      'ns',
      '--mode',
      'berth',
      '--current',
    ]);
    expect(r.code).toBe(0);
    r = await h.run(['config', 'get-contexts']);
    expect(r.out.split('\n')[0]).toMatch(/^CURRENT\s+NAME\s+BACKEND\s+SERVER\s+ROLE\/NAMESPACE$/);
    expect(r.out).toMatch(/\*\s+kube\s+kubernetes\s+\$KUBECONFIG#kind\s+ns \(berth\)/);
    expect(r.out).toMatch(/\n\s+prod\s+mesos\s+https:\/\/m1:5050,https:\/\/m2:5050\s+web/);
    expect((await h.run(['config', 'current-context'])).out).toBe('kube\n');
    expect((await h.run(['config', 'use-context', 'prod'])).out).toBe('Switched to context "prod".\n');
    expect((await h.run(['config', 'current-context'])).out).toBe('prod\n');
    expect((await h.run(['config', 'get-contexts', '-o', 'name'])).out).toBe('kube\nprod\n');
    r = await h.run(['config', 'delete-context', 'prod']);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/was the current context/);
    expect((await h.run(['config', 'current-context'])).code).toBe(BERTH_ERROR_CODES.NOT_FOUND.exitCode);
  });

  it('changes only the given fields of an existing context', async () => {
    await using h = await harness();
    expect((await h.run(['config', 'set-context', 'dev', '--role', 'batch'])).out).toBe(
      'Context "dev" modified.\n',
    );
    const file = await readFile(h.configFile, 'utf8');
    expect(file).toMatch(/role: batch/);
    expect(file).toMatch(/http:\/\/127\.0\.0\.1:5050/);
  });

  it('rejects a bad context naming the flag, and writes nothing', async () => {
    await using h = await harness();
    const before = await readFile(h.configFile, 'utf8');
    const r = await h.run(['config', 'set-context', 'bad', '--backend', 'mesos', '--master', 'not a url']);
    expect(r.code).toBe(BERTH_ERROR_CODES.SPEC_INVALID.exitCode);
    expect(r.err).toMatch(/error: context bad is not valid; nothing was written/);
    expect(r.err).toMatch(/ {2}--master: must be an http:\/\/ or https:\/\/ URL, got "not a url"/);
    expect(await readFile(h.configFile, 'utf8')).toBe(before);
    const noBackend = await h.run(['config', 'set-context', 'new']);
    expect(noBackend.err).toMatch(/--backend is required/);
  });

  it('view shows secret references, never the secret', async () => {
    await using h = await harness({ config: '', env: { MESOS_SECRET: 's3cr3t-value' } });
    const secretFile = await h.file('secret.txt', 'file-secret-value\n');
    await h.run([
      'config',
      'set-context',
      'a',
      '--backend',
      'mesos',
      '--master',
      'http://m:5050',
      '--principal',
      'p',
      '--secret-env',
      'MESOS_SECRET',
    ]);
    await h.run([
      'config',
      'set-context',
      'b',
      '--backend',
      'mesos',
      '--master',
      'http://m:5050',
      '--principal',
      'p',
      '--secret-file',
      secretFile,
    ]);
    const yaml = await h.run(['config', 'view']);
    const json = await h.run(['config', 'view', '-o', 'json']);
    for (const r of [yaml, json]) {
      expect(r.code).toBe(0);
      expect(r.out).not.toMatch(/s3cr3t-value|file-secret-value/);
    }
    expect(yaml.out).toMatch(/env: MESOS_SECRET/);
    expect(JSON.parse(json.out).contexts.b.secret).toEqual({ file: secretFile });
  });

  it('hands the adapter factory the secret read from the variable the context names', async () => {
    await using h = await harness({ config: '', env: { MESOS_SECRET: 'from-env' } });
    await h.run([
      'config',
      'set-context',
      'a',
      '--backend',
      'mesos',
      '--master',
      'http://m:5050',
      '--principal',
      'p',
      '--secret-env',
      'MESOS_SECRET',
      '--current',
    ]);
    const seen: (string | undefined)[] = [];
    const { createMemoryAdapter } = await import('@berth/adapter-testkit');
    h.backends.register('mesos', (input) => {
      seen.push(input.secret);
      return createMemoryAdapter({ cluster: h.cluster });
    });
    expect((await h.run(['get', 'nodes'])).code).toBe(0);
    expect(seen).toEqual(['from-env']);
  });

  it('fails with AUTH_FAILED when the secret variable is unset', async () => {
    await using h = await harness({ config: '' });
    await h.run([
      'config',
      'set-context',
      'a',
      '--backend',
      'mesos',
      '--master',
      'http://m:5050',
      '--principal',
      'p',
      '--secret-env',
      'NOT_SET_ANYWHERE',
      '--current',
    ]);
    const r = await h.run(['get', 'nodes']);
    expect(r.code).toBe(BERTH_ERROR_CODES.AUTH_FAILED.exitCode);
    expect(r.err).toMatch(/environment variable NOT_SET_ANYWHERE is not set/);
  });

  it('picks the context from --context, then BERTH_CONTEXT, then current-context', async () => {
    await using h = await harness();
    // dev is current and served by the memory adapter; k8s has no adapter installed.
    expect((await h.run(['get', 'nodes'])).code).toBe(0);
    expect(
      (await h.run(['get', 'nodes'], { env: { BERTH_CONFIG: h.configFile, BERTH_CONTEXT: 'k8s' } })).code,
    ).toBe(BERTH_ERROR_CODES.UNSUPPORTED.exitCode);
    const flag = await h.run(['--context', 'dev', 'get', 'nodes'], {
      env: { BERTH_CONFIG: h.configFile, BERTH_CONTEXT: 'k8s' },
    });
    expect(flag.code).toBe(0);
  });

  it('names the unknown context, where it came from, and the closest one', async () => {
    await using h = await harness();
    const r = await h.run(['get', 'nodes', '--context', 'deev']);
    expect(r.code).toBe(BERTH_ERROR_CODES.NOT_FOUND.exitCode);
    expect(r.err).toMatch(
      /^error: context "deev" \(from --context\) is not in .*config\.yaml\nhint: Did you mean dev\?/,
    );
  });

  it('says which package provides a backend that is not installed', async () => {
    await using h = await harness();
    const r = await h.run(['--context', 'k8s', 'get', 'tasks']);
    expect(r.code).toBe(BERTH_ERROR_CODES.UNSUPPORTED.exitCode);
    expect(r.err).toMatch(
      /error: context k8s uses the kubernetes backend, but no kubernetes adapter is installed/,
    );
    expect(r.err).toMatch(/hint: The kubernetes backend is provided by @berth\/k8s-adapter/);
  });

  it('reports an invalid config file with the path of each bad field', async () => {
    await using h = await harness({ config: 'contexts:\n  x:\n    backend: mesos\n    masters: []\n' });
    const r = await h.run(['get', 'nodes']);
    expect(r.code).toBe(BERTH_ERROR_CODES.SPEC_INVALID.exitCode);
    expect(r.err).toMatch(
      /error: invalid config file .*config\.yaml\n {2}contexts\.x\.masters: needs at least one master URL/,
    );
  });
});
