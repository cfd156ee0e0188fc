/**
 * `DeploymentScaler`: core's autoscaling `Scaler` on Kubernetes, through the Deployment's `/scale`
 * subresource (`apis/apps/v1/namespaces/{ns}/deployments/{name}/scale`, an autoscaling/v1 Scale)
 * as the HPA controller writes it. The write carries the resourceVersion it read; a 409 Conflict
 * (someone scaled in between) is retried on a fresh read, so nothing is overwritten blindly.
 */
import { BerthError } from '@berth/core';
import type { KubeClient } from './kube-client.ts';
import { seg } from './kube-client.ts';
import { COMPONENT, httpStatusOf } from './kube-errors.ts';

/** A Deployment, by namespace and name. */
export interface DeploymentRef {
  readonly namespace: string;
  readonly name: string;
}

/** What `/scale` answers (autoscaling/v1 Scale). */
export interface ScaleObject {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata: {
    readonly name?: string;
    readonly namespace?: string;
    readonly uid?: string;
    readonly resourceVersion?: string;
  };
  readonly spec?: { readonly replicas?: number };
  readonly status?: { readonly replicas?: number; readonly selector?: string };
}

export interface DeploymentScalerOptions {
  readonly client: Pick<KubeClient, 'request'>;
  /** The Deployment behind a service; undefined when the service is unknown. */
  readonly deployment: (service: string) => DeploymentRef | undefined;
  /** Tries of a write that keeps losing to concurrent writers (default 5). */
  readonly maxAttempts?: number;
}

export const scalePath = (d: DeploymentRef): string =>
  `/apis/apps/v1/namespaces/${seg(d.namespace)}/deployments/${seg(d.name)}/scale`;

export class DeploymentScaler {
  readonly #client: Pick<KubeClient, 'request'>;
  readonly #deployment: DeploymentScalerOptions['deployment'];
  readonly #maxAttempts: number;

  constructor(options: DeploymentScalerOptions) {
    this.#client = options.client;
    this.#deployment = options.deployment;
    this.#maxAttempts = options.maxAttempts ?? 5;
  }

  #ref(service: string): DeploymentRef {
    const d = this.#deployment(service);
    if (d === undefined) {
      throw new BerthError('NOT_FOUND', `no Deployment for service ${service}`, {
        component: COMPONENT,
        hint: 'Submit the Service first; `berth get services` lists them.',
      });
    }
    return d;
  }

  /** The Deployment's Scale as the API server has it now. */
  async read(service: string): Promise<ScaleObject> {
    return this.#client.request<ScaleObject>('GET', scalePath(this.#ref(service)));
  }

  /** `spec.replicas` of the Deployment (what it is set to, not how many run). */
  async currentReplicas(service: string): Promise<number> {
    const s = await this.read(service);
    const n = s.spec?.replicas ?? 0;
    return Number.isSafeInteger(n) && n >= 0 ? n : 0;
  }

  /** Set `spec.replicas`; resolves with the Scale written. */
  async scale(service: string, replicas: number): Promise<ScaleObject> {
    if (!Number.isSafeInteger(replicas) || replicas < 0) {
      throw new BerthError('SPEC_INVALID', `replicas must be an integer >= 0, got ${replicas}`, {
        component: COMPONENT,
        hint: 'Pass a whole number of replicas.',
      });
    }
    const path = scalePath(this.#ref(service));
    for (let attempt = 1; ; attempt++) {
      const current = await this.#client.request<ScaleObject>('GET', path);
      if (current.spec?.replicas === replicas) return current;
      try {
        return await this.#client.request<ScaleObject>('PUT', path, {
          body: {
            apiVersion: current.apiVersion ?? 'autoscaling/v1',
            kind: current.kind ?? 'Scale',
            metadata: current.metadata,
            spec: { ...current.spec, replicas },
          },
        });
      } catch (error) {
        if (httpStatusOf(error) !== 409 || attempt >= this.#maxAttempts) throw error;
      }
    }
  }
}
