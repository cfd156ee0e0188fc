import { describe, expect, it } from 'vitest';
import { createK8sAdapter } from './k8s-adapter.ts';
import { checkAutoscalingOptions, chooseAutoscalingController } from './k8s-autoscaler.ts';

describe('who scales an autoscaled Service on Kubernetes', () => {
  it('auto: an HPA in delegate mode when the cluster serves one, else Berth’s controller', () => {
    expect(chooseAutoscalingController(undefined, 'delegate', true)).toBe('hpa');
    expect(chooseAutoscalingController('auto', 'delegate', false)).toBe('berth');
    expect(chooseAutoscalingController('auto', 'berth', true)).toBe('berth');
    expect(chooseAutoscalingController(undefined, 'berth', false)).toBe('berth');
  });

  it('an explicit choice wins over the mode and discovery', () => {
    expect(chooseAutoscalingController('berth', 'delegate', true)).toBe('berth');
    expect(chooseAutoscalingController('hpa', 'berth', true)).toBe('hpa');
    expect(chooseAutoscalingController('hpa', 'delegate', false)).toBe('hpa');
  });

  it('refuses an unknown controller up front, naming the option', () => {
    expect(() => checkAutoscalingOptions({ controller: 'keda' as never })).toThrow(
      expect.objectContaining({
        code: 'SPEC_INVALID',
        message: expect.stringContaining('autoscaling.controller'),
      }),
    );
    expect(() =>
      createK8sAdapter({
        kubeconfigPath: 'unused',
        autoscaling: { controller: 'keda' as never },
      }),
    ).toThrow(/autoscaling\.controller/);
  });
});
