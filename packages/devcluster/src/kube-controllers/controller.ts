/** The shape every controller shares: started from a context, stopped, and observable when idle. */
import type { BerthError, Clock } from '@berth/core';
import type { KubeApi } from '../kube/kube-api.ts';
import type { EventRecorder } from './events.ts';
import type { Informers } from './runtime.ts';

export interface ControllerContext {
  readonly api: KubeApi;
  readonly informers: Informers;
  readonly clock: Clock;
  readonly events: EventRecorder;
  readonly onError: (error: BerthError) => void;
}

export interface Controller {
  readonly name: string;
  /** Resolves once nothing is queued for an immediate sync. */
  idle(): Promise<void>;
  /** Unsubscribe and cancel timers; the informers stay (they are shared). */
  stop(): void;
}
