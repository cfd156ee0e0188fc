import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type BerthError, isBerthError } from '../cluster/errors.ts';
import { parseDocuments } from './parse-documents.ts';
import type { JobDocument, ServiceDocument, TaskDocument } from './types.ts';
import type { SpecIssue } from './validate.ts';

const examplesDir = new URL('../../../../examples/', import.meta.url);
const exampleFiles = readdirSync(examplesDir).filter((f) => f.endsWith('.yaml'));
const readExample = (name: string) => readFileSync(new URL(name, examplesDir), 'utf8');

function rejection(fn: () => unknown): BerthError {
  try {
    fn();
  } catch (err) {
    if (isBerthError(err, 'SPEC_INVALID')) return err;
    throw err;
  }
  throw new Error('expected SPEC_INVALID');
}

describe('parseDocuments on the examples', () => {
  it('finds the examples the issue asks for', () => {
    expect(exampleFiles).toEqual(
      expect.arrayContaining([
        'web-service.yaml',
        'batch-job-gang.yaml',
        'gpu-task.yaml',
        'marathon-constraints.yaml',
        'affinity-tolerations.yaml',
      ]),
    );
  });

  it.each(exampleFiles)('validates examples/%s', (file) => {
    const text = readExample(file);
    expect(text.split('\n')[0]).toBe(
      '# yaml-language-server: $schema=../packages/core/schema/berth.schema.json',
    );
    const docs = parseDocuments(text, { source: file });
    expect(docs.length).toBeGreaterThan(0);
    for (const d of docs) expect(d.apiVersion).toBe('berth.dev/v1');
  });

  it('reads the web service: ports, health check, discovery and autoscaling', () => {
    const [web] = parseDocuments(readExample('web-service.yaml')) as [ServiceDocument];
    expect(web.spec.replicas).toBe(3);
    expect(web.spec.template.ports).toEqual([{ name: 'http', containerPort: 80, protocol: 'tcp' }]);
    expect(web.spec.template.healthCheck).toMatchObject({
      type: 'http',
      port: 'http',
      path: '/',
      scheme: 'http',
    });
    expect(web.spec.template.priority).toBe(1000);
    expect(web.spec.discovery).toEqual({ name: 'web', ports: ['http'] });
    expect(web.spec.autoscaling?.behavior?.scaleDown?.stabilizationWindowSeconds).toBe(120);
    expect(web.spec.template.resources.limits?.memory).toBe(256 * 1024 * 1024);
  });

  it('reads the gang job and the GPU task', () => {
    const [train] = parseDocuments(readExample('batch-job-gang.yaml')) as [JobDocument];
    expect(train.spec).toMatchObject({ completions: 4, parallelism: 4, gang: true, backoffLimit: 2 });
    expect(train.spec.template.env).toEqual({ EPOCHS: '10', LOG_LEVEL: 'info' });
    const [gpu] = parseDocuments(readExample('gpu-task.yaml')) as [TaskDocument];
    expect(gpu.spec.resources.requests.gpus).toBe(1);
    expect(gpu.spec.tolerations).toEqual([
      { key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' },
    ]);
  });

  it('reads every document of a multi-document file in order', () => {
    const docs = parseDocuments(readExample('multi-document.yaml'));
    expect(docs.map((d) => `${d.kind}/${d.metadata.name}`)).toEqual([
      'Service/queue',
      'Job/nightly-import',
      'Task/hello',
    ]);
  });
});

describe('parseDocuments errors', () => {
  it('reports YAML syntax errors with line and column before validating anything', () => {
    const err = rejection(() =>
      parseDocuments('kind: Task\nmetadata:\n  name: a: b\n', { source: 'bad.yaml' }),
    );
    const issue = err.issues[0] as SpecIssue;
    expect(issue).toMatchObject({ path: '', source: 'bad.yaml', line: 3 });
    expect(issue.message).toMatch(/^YAML syntax error: /);
    expect(err.message).toMatch(/bad\.yaml:3:\d+: YAML syntax error/);
  });

  it('rejects duplicate keys, which YAML forbids', () => {
    const err = rejection(() => parseDocuments('kind: Task\nkind: Job\n'));
    expect(err.issues[0]).toMatchObject({ path: '', line: 2, column: 1 });
    expect(err.issues[0]?.message).toContain('Map keys must be unique');
  });

  it('gives every field problem its line and column', () => {
    const text = [
      'apiVersion: berth.dev/v1',
      'kind: Task',
      'metadata:',
      '  name: web',
      'spec:',
      '  command: ./run',
      '  resources:',
      '    requests:',
      '      cpu: 2 cores',
    ].join('\n');
    const err = rejection(() => parseDocuments(text, { source: 'web.yaml' }));
    expect(err.issues).toEqual([
      {
        path: 'spec.resources.requests.cpu',
        message: '"2 cores" is not a quantity (e.g. "2" or "1500m")',
        source: 'web.yaml',
        line: 9,
        column: 12,
      },
    ]);
    expect(err.message).toContain(
      'web.yaml:9:12: spec.resources.requests.cpu: "2 cores" is not a quantity (e.g. "2" or "1500m")',
    );
  });

  it('points a missing field at its parent', () => {
    const text = 'apiVersion: berth.dev/v1\nkind: Task\nmetadata:\n  tenant: a\nspec:\n  command: x\n';
    const err = rejection(() => parseDocuments(text));
    expect(err.issues).toEqual([{ path: 'metadata.name', message: 'is required', line: 4, column: 3 }]);
  });

  it('validates all documents as a whole: one bad document rejects the stream and names its number', () => {
    const good = 'apiVersion: berth.dev/v1\nkind: Task\nmetadata: {name: a}\nspec: {command: x}\n';
    const bad =
      'apiVersion: berth.dev/v1\nkind: Task\nmetadata: {name: b}\nspec: {command: x, replicas: 2}\n';
    const err = rejection(() => parseDocuments(`${good}---\n${bad}`, { source: 'two.yaml' }));
    expect(err.issues).toEqual([
      {
        path: 'spec.replicas',
        message: 'unknown field "replicas" here: replicas belong to a Service spec, next to template',
        document: 1,
        source: 'two.yaml',
        line: 9,
        column: 30,
      },
    ]);
    expect(err.message).toContain('two.yaml:9:30 document 2 (Task b): spec.replicas');
  });

  it('skips empty documents and keeps YAML document numbers in messages', () => {
    const doc = 'apiVersion: berth.dev/v1\nkind: Task\nmetadata: {name: a}\nspec: {command: x}\n';
    expect(parseDocuments(`---\n${doc}---\n# only a comment\n`)).toHaveLength(1);
    const err = rejection(() =>
      parseDocuments(`---\n# nothing\n---\n${doc}---\n${doc.replace('command: x', 'command: 5')}`),
    );
    expect(err.issues[0]).toMatchObject({ path: 'spec.command', document: 2 });
  });

  it('rejects a stream without documents', () => {
    const err = rejection(() => parseDocuments('# just a comment\n'));
    expect(err.issues).toEqual([
      { path: '', message: 'no documents found: write at least one Task, Service or Job' },
    ]);
  });

  it('refuses alias bombs instead of expanding them', () => {
    const lines = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 0; i < 8; i++) {
      const prev = String.fromCharCode(97 + i);
      const next = String.fromCharCode(98 + i);
      lines.push(
        `${next}: &${next} [*${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}]`,
      );
    }
    const err = rejection(() => parseDocuments(lines.join('\n')));
    expect(err.issues[0]?.message).toMatch(/^YAML document cannot be read: .*alias/i);
  });

  it('merges << keys, so one block can be shared through an anchor', () => {
    const text = [
      'apiVersion: berth.dev/v1',
      'kind: Task',
      'metadata: {name: a, labels: &common {app: a, tier: web}}',
      'spec:',
      '  command: ./run',
      '  labels:',
      '    <<: *common',
      '    tier: api',
    ].join('\n');
    const [doc] = parseDocuments(text) as [TaskDocument];
    expect(doc.spec.labels).toEqual({ app: 'a', tier: 'api' });
  });

  it('treats YAML 1.1 booleans as strings, as YAML 1.2 does', () => {
    const text =
      'apiVersion: berth.dev/v1\nkind: Task\nmetadata: {name: a, labels: {enabled: yes}}\nspec: {command: x}\n';
    const [doc] = parseDocuments(text);
    expect(doc?.metadata.labels).toEqual({ enabled: 'yes' });
  });
});
