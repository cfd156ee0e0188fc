import { describe, expect, it } from 'vitest';
import { decodeKubeProtobuf } from './protobuf.ts';
import { KubeStatusError } from './status.ts';

// A minimal proto2 encoder for building request bodies the way client-go does.
const varint = (n: number | bigint): number[] => {
  let v = BigInt.asUintN(64, BigInt(n));
  const out: number[] = [];
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return out;
};
const bytes = (field: number, payload: number[]) => [
  ...varint((field << 3) | 2),
  ...varint(payload.length),
  ...payload,
];
const str = (field: number, s: string) => bytes(field, [...new TextEncoder().encode(s)]);
const num = (field: number, n: number | bigint) => [...varint(field << 3), ...varint(n)];
const entry = (field: number, k: string, v: number[]) => bytes(field, [...str(1, k), ...bytes(2, v)]);
const strEntry = (field: number, k: string, v: string) => bytes(field, [...str(1, k), ...str(2, v)]);
const envelope = (apiVersion: string, kind: string, raw: number[]) =>
  Uint8Array.from([
    0x6b,
    0x38,
    0x73,
    0x00,
    ...bytes(1, [...str(1, apiVersion), ...str(2, kind)]),
    ...bytes(2, raw),
  ]);

describe('decodeKubeProtobuf', () => {
  it('decodes a namespace, dropping the zero values Go writes for unset fields', () => {
    const meta = [
      ...str(1, 'team'),
      ...str(2, ''),
      ...bytes(8, []),
      ...strEntry(11, 'env', 'dev'),
      ...num(7, 0),
    ];
    const body = envelope('v1', 'Namespace', [...bytes(1, meta), ...bytes(2, []), ...bytes(3, [])]);
    expect(decodeKubeProtobuf(body)).toEqual({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'team', labels: { env: 'dev' } },
      spec: {},
      status: {},
    });
  });

  it('keeps meaningful zeros of pointer fields and decodes times, quantities and int-or-strings', () => {
    const container = [
      ...str(1, 'web'),
      ...str(2, 'nginx'),
      ...bytes(8, entry(1, 'cpu', str(1, '250m'))),
      ...bytes(6, [...num(3, 80)]),
    ];
    const template = [...bytes(2, [...bytes(2, container)])];
    const rolling = [
      ...bytes(1, [...num(1, 1), ...str(3, '25%')]),
      ...bytes(2, [...num(1, 0), ...num(2, 1)]),
    ];
    const spec = [
      ...num(1, 0),
      ...bytes(3, template),
      ...bytes(4, [...str(1, 'RollingUpdate'), ...bytes(2, rolling)]),
    ];
    const meta = [...str(1, 'api'), ...bytes(8, [...num(1, 1_700_000_000), ...num(2, 0)])];
    const decoded = decodeKubeProtobuf(
      envelope('apps/v1', 'Deployment', [...bytes(1, meta), ...bytes(2, spec)]),
    );
    expect(decoded).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'api', creationTimestamp: '2023-11-14T22:13:20Z' },
      spec: {
        replicas: 0,
        template: {
          spec: {
            containers: [
              {
                name: 'web',
                image: 'nginx',
                resources: { limits: { cpu: '250m' } },
                ports: [{ containerPort: 80 }],
              },
            ],
          },
        },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: 1 } },
      },
    });
  });

  it('inlines embedded structs the way JSON does (a volume source, a probe handler)', () => {
    const probe = bytes(10, [...bytes(1, [...bytes(2, [...str(1, '/healthz')])]), ...num(4, 5)]);
    const container = [...str(1, 'web'), ...str(2, 'nginx'), ...probe];
    const volume = [...str(1, 'data'), ...bytes(2, [...bytes(2, [...str(1, 'Memory')])])];
    const spec = [...bytes(1, volume), ...bytes(2, container)];
    const decoded = decodeKubeProtobuf(envelope('v1', 'Pod', [...bytes(1, str(1, 'p')), ...bytes(2, spec)]));
    expect(decoded.spec).toEqual({
      volumes: [{ name: 'data', emptyDir: { medium: 'Memory' } }],
      containers: [
        { name: 'web', image: 'nginx', livenessProbe: { httpGet: { path: '/healthz' }, periodSeconds: 5 } },
      ],
    });
  });

  it('refuses bodies without the k8s magic (400) and kinds it cannot decode (415)', () => {
    expect(() => decodeKubeProtobuf(new TextEncoder().encode('{}'))).toThrow(KubeStatusError);
    try {
      decodeKubeProtobuf(envelope('v1', 'ConfigMap', []));
      expect.unreachable();
    } catch (error) {
      expect(error).toMatchObject({ code: 415, reason: 'UnsupportedMediaType' });
    }
    expect(() => decodeKubeProtobuf(Uint8Array.from([0x6b, 0x38, 0x73, 0x00, 0x0a, 0x05, 0x01]))).toThrow(
      'truncated',
    );
  });
});
