/**
 * Leader election over a coordination.k8s.io/v1 Lease, as client-go's leaderelection does: the
 * holder renews `renewTime` every `retryPeriod`; a candidate takes the Lease over once it has not
 * been renewed for `leaseDuration`. Updates carry the resourceVersion read, so two candidates
 * racing for an expired Lease cannot both win (the loser gets 409 and stays a follower).
 */
import { type Clock, sleep, systemClock } from '@berth/core';
import type { KubeClient } from './kube-client.ts';
import { seg } from './kube-client.ts';
import { httpStatusOf } from './kube-errors.ts';

export interface LeaderElectionOptions {
  readonly namespace?: string;
  readonly name?: string;
  /** This candidate's id (default: hostname-pid-random). */
  readonly identity?: string;
  readonly leaseDurationSeconds?: number;
  readonly retryPeriodMs?: number;
}

interface Lease {
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
  };
}

const micro = (ms: number) => new Date(ms).toISOString().replace('Z', '000Z');

export class LeaderElector {
  readonly identity: string;
  readonly #client: Pick<KubeClient, 'request'>;
  readonly #clock: Clock;
  readonly #ns: string;
  readonly #name: string;
  readonly #duration: number;
  readonly #retry: number;
  #leader = false;
  #stopped = false;
  #abort = new AbortController();
  #loop: Promise<void> | undefined;
  #onChange: (leader: boolean) => void = () => {};
  #onError: (error: unknown) => void = () => {};
  #failing = false;

  constructor(
    client: Pick<KubeClient, 'request'>,
    options: LeaderElectionOptions = {},
    clock: Clock = systemClock,
  ) {
    this.#client = client;
    this.#clock = clock;
    this.#ns = options.namespace ?? 'kube-system';
    this.#name = options.name ?? 'berth-scheduler';
    this.identity = options.identity ?? `berth-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
    this.#duration = options.leaseDurationSeconds ?? 15;
    this.#retry = options.retryPeriodMs ?? 2000;
  }

  get isLeader(): boolean {
    return this.#leader;
  }

  /**
   * Campaign until `stop()`: `onChange` on every change of leadership; `onError` once each time
   * the Lease stops being reachable (a leader that cannot renew steps down).
   */
  start(onChange: (leader: boolean) => void, onError?: (error: unknown) => void): void {
    this.#onChange = onChange;
    if (onError !== undefined) this.#onError = onError;
    this.#loop = this.#run();
  }

  #set(leader: boolean): void {
    if (leader === this.#leader) return;
    this.#leader = leader;
    this.#onChange(leader);
  }

  /** One acquire-or-renew attempt; true when this candidate holds the Lease afterwards. */
  async tryAcquireOrRenew(): Promise<boolean> {
    const path = `/apis/coordination.k8s.io/v1/namespaces/${seg(this.#ns)}/leases`;
    const now = this.#clock.now();
    let lease: Lease | undefined;
    try {
      lease = await this.#client.request<Lease>('GET', `${path}/${seg(this.#name)}`);
    } catch (error) {
      if (httpStatusOf(error) !== 404) throw error;
    }
    if (lease === undefined) {
      try {
        await this.#client.request('POST', path, {
          body: {
            apiVersion: 'coordination.k8s.io/v1',
            kind: 'Lease',
            metadata: { name: this.#name, namespace: this.#ns },
            spec: {
              holderIdentity: this.identity,
              leaseDurationSeconds: this.#duration,
              acquireTime: micro(now),
              renewTime: micro(now),
              leaseTransitions: 0,
            },
          },
        });
        return true;
      } catch (error) {
        if (httpStatusOf(error) === 409) return false;
        throw error;
      }
    }
    const holder = lease.spec.holderIdentity ?? '';
    const renewed = lease.spec.renewTime === undefined ? 0 : Date.parse(lease.spec.renewTime);
    const duration = (lease.spec.leaseDurationSeconds ?? this.#duration) * 1000;
    const mine = holder === this.identity;
    if (!mine && holder !== '' && renewed + duration > now) return false;
    const next: Lease = {
      ...lease,
      spec: {
        ...lease.spec,
        holderIdentity: this.identity,
        leaseDurationSeconds: this.#duration,
        renewTime: micro(now),
        ...(mine
          ? {}
          : { acquireTime: micro(now), leaseTransitions: (lease.spec.leaseTransitions ?? 0) + 1 }),
      },
    };
    try {
      await this.#client.request('PUT', `${path}/${seg(this.#name)}`, { body: next });
      return true;
    } catch (error) {
      if (httpStatusOf(error) === 409) return false;
      throw error;
    }
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      try {
        this.#set(await this.tryAcquireOrRenew());
        this.#failing = false;
      } catch (error) {
        // Could not reach the Lease: a leader that cannot renew steps down.
        this.#set(false);
        if (!this.#failing && !this.#stopped) this.#onError(error);
        this.#failing = true;
      }
      await sleep(this.#clock, this.#retry, this.#abort.signal).catch(() => {});
    }
  }

  /** Stops renewing; a leader releases the Lease so a standby takes over at once. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#abort.abort();
    await this.#loop;
    if (this.#leader) {
      const path = `/apis/coordination.k8s.io/v1/namespaces/${seg(this.#ns)}/leases/${seg(this.#name)}`;
      try {
        const lease = await this.#client.request<Lease>('GET', path);
        if (lease.spec.holderIdentity === this.identity) {
          await this.#client.request('PUT', path, {
            body: { ...lease, spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1 } },
          });
        }
      } catch {
        // best effort: the Lease expires on its own
      }
      this.#set(false);
    }
  }
}
