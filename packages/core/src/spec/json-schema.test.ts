import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { isBerthError } from '../cluster/errors.ts';
import { BERTH_SCHEMA_ID, berthJsonSchema } from './json-schema.ts';
import { validateDocument } from './validate.ts';

const schemaFile = new URL('../../schema/berth.schema.json', import.meta.url);
const examplesDir = new URL('../../../../examples/', import.meta.url);

const schema = berthJsonSchema();
const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true, strictTuples: false });
const ajvValidate = ajv.compile(schema);

function berthAccepts(doc: unknown): boolean {
  try {
    validateDocument(doc);
    return true;
  } catch (err) {
    if (isBerthError(err, 'SPEC_INVALID')) return false;
    throw err;
  }
}

type Obj = Record<string, unknown>;
const task = (spec: Obj = {}, metadata: Obj = {}): Obj => ({
  apiVersion: 'berth.dev/v1',
  kind: 'Task',
  metadata: { name: 'web', ...metadata },
  spec: { command: './run', ...spec },
});
const service = (spec: Obj = {}, template: Obj = {}): Obj => ({
  apiVersion: 'berth.dev/v1',
  kind: 'Service',
  metadata: { name: 'web' },
  spec: { template: { command: './serve', ...template }, ...spec },
});

describe('berthJsonSchema', () => {
  it('is a draft 2020-12 schema with an $id and descriptions', () => {
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema.$id).toBe(BERTH_SCHEMA_ID);
    expect(JSON.stringify(schema)).toContain('"description":"Seconds between SIGTERM and SIGKILL."');
  });

  it('matches the committed packages/core/schema/berth.schema.json (UPDATE_SCHEMA=1 rewrites it)', () => {
    if (process.env.UPDATE_SCHEMA === '1') writeFileSync(schemaFile, `${JSON.stringify(schema, null, 2)}\n`);
    // Compared as data, so reformatting the file (Biome) does not matter; any drift does.
    const committed: unknown = JSON.parse(readFileSync(schemaFile, 'utf8'));
    expect(
      committed,
      'schema/berth.schema.json is stale: run UPDATE_SCHEMA=1 vitest run packages/core/src/spec',
    ).toEqual(schema);
  });

  const examples = readdirSync(examplesDir)
    .filter((f) => f.endsWith('.yaml'))
    .flatMap((f) =>
      parseAllDocuments(readFileSync(new URL(f, examplesDir), 'utf8'))
        .map((d) => d.toJS() as unknown)
        .filter((v) => v !== null)
        .map((v, i) => [`${f}#${i + 1}`, v] as const),
    );

  it.each(examples)('accepts %s', (_name, doc) => {
    expect(ajvValidate(doc), JSON.stringify(ajvValidate.errors)).toBe(true);
  });

  // Malformed documents whose problem JSON Schema can express: the editor flags them too.
  const malformed: [string, unknown][] = [
    ['not a mapping', 'hello'],
    ['wrong apiVersion', { ...task(), apiVersion: 'v1' }],
    ['unknown kind', { ...task(), kind: 'Srvice' }],
    ['missing metadata', { apiVersion: 'berth.dev/v1', kind: 'Task', spec: { command: 'x' } }],
    ['name not a DNS label', task({}, { name: 'Web_1' })],
    ['name too long', task({}, { name: 'a'.repeat(64) })],
    ['label value not a string', task({}, { labels: { v: 2 } })],
    ['label key with spaces', task({}, { labels: { 'a b': 'x' } })],
    ['unknown top-level field', { ...task(), status: {} }],
    ['unknown spec field', task({ comand: 'x' })],
    ['quantity syntax', task({ resources: { requests: { cpu: '2 cores' } } })],
    ['negative quantity', task({ resources: { requests: { cpu: -1 } } })],
    ['unknown resource name', task({ resources: { requests: { cpus: 1 } } })],
    ['env name', task({ env: { '1X': 'a' } })],
    ['port out of range', task({ ports: [{ name: 'a', hostPort: 70000 }] })],
    ['port name format', task({ ports: [{ name: 'HTTP' }] })],
    ['port name length', task({ ports: [{ name: 'a-very-long-port-name' }] })],
    ['protocol', task({ ports: [{ name: 'a', protocol: 'TCP' }] })],
    ['priority class', task({ priority: 'hihg' })],
    ['priority fraction', task({ priority: 1.5 })],
    ['constraint operator', task({ constraints: [['hostname', 'unique']] })],
    ['constraint length', task({ constraints: [['hostname']] })],
    ['constraint too long', task({ constraints: [['a', 'IS', 'b', 'c']] })],
    [
      'node selector operator',
      task({
        affinity: { nodeAffinity: { required: [{ matchExpressions: [{ key: 'a', operator: 'in' }] }] } },
      }),
    ],
    [
      'empty node selector term',
      task({ affinity: { nodeAffinity: { required: [{ matchExpressions: [] }] } } }),
    ],
    [
      'weight',
      task({
        affinity: {
          taskAffinity: [{ labelSelector: { matchLabels: { a: 'b' } }, topologyKey: 'z', weight: 0 }],
        },
      }),
    ],
    ['taint effect', task({ tolerations: [{ key: 'k', effect: 'NoSchedul' }] })],
    ['restart policy name', task({ restartPolicy: 'sometimes' })],
    ['restart policy field', task({ restartPolicy: { policy: 'always', maxRetries: 3 } })],
    ['health check path', task({ healthCheck: { http: { port: 80, path: 'healthz' } } })],
    ['health check interval', task({ healthCheck: { command: 'true', intervalSeconds: 0 } })],
    ['kill grace fraction', task({ killGracePeriodSeconds: 2.5 })],
    ['negative replicas', service({ replicas: -1 })],
    ['replicas misspelt', service({ replica: 2 })],
    ['missing template', { ...service(), spec: { replicas: 1 } }],
    [
      'maxReplicas missing',
      service({ autoscaling: { minReplicas: 1 } }, { resources: { requests: { cpu: 1 } } }),
    ],
    [
      'scaling policy type',
      service({
        autoscaling: {
          maxReplicas: 3,
          behavior: { scaleUp: { policies: [{ type: 'Pod', value: 1, periodSeconds: 15 }] } },
        },
      }),
    ],
    [
      'gang not boolean',
      {
        apiVersion: 'berth.dev/v1',
        kind: 'Job',
        metadata: { name: 'j' },
        spec: { gang: 'yes', template: { command: 'x' } },
      },
    ],
    [
      'completions zero',
      {
        apiVersion: 'berth.dev/v1',
        kind: 'Job',
        metadata: { name: 'j' },
        spec: { completions: 0, template: { command: 'x' } },
      },
    ],
  ];

  it.each(malformed)('rejects %s, as validateDocument does', (_name, doc) => {
    expect(ajvValidate(doc)).toBe(false);
    expect(berthAccepts(doc)).toBe(false);
  });

  it('never rejects a document that validateDocument accepts', () => {
    const base = task();
    const variants = fc.record(
      {
        priority: fc.oneof(
          fc.integer({ min: -5000, max: 5000 }),
          fc.constantFrom('high', 'low', 'batch', 'hihg'),
        ),
        ports: fc.array(
          fc.record(
            {
              name: fc.constantFrom('http', 'grpc', 'metrics', 'a-b', 'HTTP'),
              hostPort: fc.integer({ min: 0, max: 70000 }),
              protocol: fc.constantFrom('tcp', 'udp', 'TCP'),
            },
            { requiredKeys: ['name'] },
          ),
          { maxLength: 3 },
        ),
        resources: fc.record(
          {
            requests: fc.dictionary(
              fc.constantFrom('cpu', 'memory', 'gpus', 'example.com/fpga', 'cpus'),
              fc.oneof(
                fc.constantFrom('500m', '1Gi', '2', '0.5', 'x', '1e3'),
                fc.double({ min: -1, max: 8, noNaN: true }),
              ),
            ),
          },
          { requiredKeys: [] },
        ),
        constraints: fc.array(
          fc.tuple(
            fc.constantFrom('hostname', 'rack'),
            fc.constantFrom('UNIQUE', 'CLUSTER', 'GROUP_BY', 'MAX_PER', 'IS', 'LIKE'),
            fc.option(fc.constantFrom('2', 3, 'a.*', '['), { nil: undefined }),
          ),
          { maxLength: 3 },
        ),
        killGracePeriodSeconds: fc.integer({ min: -2, max: 100 }),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(variants, (spec) => {
        const cleaned = JSON.parse(JSON.stringify(spec)) as Obj;
        const doc = { ...base, spec: { ...(base.spec as Obj), ...cleaned } };
        if (berthAccepts(doc)) expect(ajvValidate(doc), JSON.stringify(ajvValidate.errors)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});
