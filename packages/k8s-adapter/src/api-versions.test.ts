import { describe, expect, it } from 'vitest';
import { chooseApiVersions, type DiscoveredGroup, requireApiVersion } from './api-versions.ts';

const group = (name: string, ...versions: string[]): DiscoveredGroup => ({
  name,
  versions: versions.map((version) => ({ groupVersion: `${name}/${version}`, version })),
});

describe('chooseApiVersions', () => {
  it('picks the 1.20 versions on a 1.20 server', () => {
    const choice = chooseApiVersions([
      group('autoscaling', 'v1', 'v2beta1', 'v2beta2'),
      group('discovery.k8s.io', 'v1beta1'),
      group('policy', 'v1beta1'),
      group('apps', 'v1'),
    ]);
    expect(choice).toEqual({
      autoscaling: 'v2beta2',
      'discovery.k8s.io': 'v1beta1',
      policy: 'v1beta1',
      apps: 'v1',
    });
  });

  it('prefers the GA versions on a current server even when betas are still listed', () => {
    const choice = chooseApiVersions([
      group('autoscaling', 'v2', 'v1', 'v2beta2'),
      group('discovery.k8s.io', 'v1', 'v1beta1'),
      group('policy', 'v1'),
    ]);
    expect(choice).toMatchObject({ autoscaling: 'v2', 'discovery.k8s.io': 'v1', policy: 'v1' });
  });

  it('names the missing group and the versions Berth accepts when a feature needs it', () => {
    const choice = chooseApiVersions([group('autoscaling', 'v1')]);
    expect(choice.autoscaling).toBeUndefined();
    expect(() => requireApiVersion(choice, 'autoscaling', 'Autoscaling a Service')).toThrow(
      /Autoscaling a Service needs the autoscaling API \(v2 or v2beta2\)/,
    );
    expect(requireApiVersion(chooseApiVersions([group('batch', 'v1')]), 'batch', 'Jobs')).toBe('v1');
  });
});
