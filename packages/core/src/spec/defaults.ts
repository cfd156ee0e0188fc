/**
 * The defaults validation fills in, in one place so that the README, the JSON Schema
 * descriptions and consumers (autoscaler, adapters) agree.
 */
import type { RestartPolicy, ScalingRules } from './types.ts';

export const SPEC_DEFAULTS = {
  tenant: 'default',
  priority: 0,
  /** Kubernetes terminationGracePeriodSeconds default. */
  killGracePeriodSeconds: 30,
  protocol: 'tcp',
  restartPolicy: {
    Task: { policy: 'never' },
    Service: { policy: 'always', backoffSeconds: 10, maxBackoffSeconds: 300 },
    Job: { policy: 'on-failure', maxRetries: 3, backoffSeconds: 10, maxBackoffSeconds: 300 },
  } satisfies Record<'Task' | 'Service' | 'Job', RestartPolicy>,
  /** Kubernetes' container restart back-off: 10 s doubling to 5 min. */
  backoffSeconds: 10,
  maxBackoffSeconds: 300,
  maxRetries: 3,
  healthCheck: { intervalSeconds: 10, timeoutSeconds: 5, gracePeriodSeconds: 30, maxConsecutiveFailures: 3 },
  httpPath: '/',
  httpScheme: 'http',
  replicas: 1,
  completions: 1,
  /** Kubernetes Job backoffLimit default. */
  backoffLimit: 6,
  minReplicas: 1,
  /** Kubernetes HPA default target when no metric is given. */
  targetCpuUtilization: 80,
} as const;

/** Kubernetes HPA v2 default scale-up behaviour: double or +4 pods every 15 s, whichever is more. */
export const DEFAULT_SCALE_UP: ScalingRules = {
  stabilizationWindowSeconds: 0,
  selectPolicy: 'Max',
  policies: [
    { type: 'Percent', value: 100, periodSeconds: 15 },
    { type: 'Pods', value: 4, periodSeconds: 15 },
  ],
};

/** Kubernetes HPA v2 default scale-down behaviour: 5 min window, then down to the target at once. */
export const DEFAULT_SCALE_DOWN: ScalingRules = {
  stabilizationWindowSeconds: 300,
  selectPolicy: 'Max',
  policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }],
};
