/**
 * Events as the control plane's components write them: `core/v1` Events named
 * `<object>.<hex>`, with repeats of the same reason and message folded into `count` and
 * `lastTimestamp` (client-go's event correlator does the same on the client side).
 */
import type { Clock } from '@berth/core';
import type { KubeApi } from '../kube/kube-api.ts';
import { type JsonObject, meta, nameOf, namespaceOf, num, str, timestamp, uidOf } from './objects.ts';

export interface InvolvedObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly object: JsonObject;
}

export class EventRecorder {
  readonly #api: KubeApi;
  readonly #clock: Clock;
  /** `uid reason message` → event name, for folding repeats. */
  readonly #recent = new Map<string, string>();
  #seq = 0;

  constructor(api: KubeApi, clock: Clock) {
    this.#api = api;
    this.#clock = clock;
  }

  record(
    involved: InvolvedObject,
    type: 'Normal' | 'Warning',
    reason: string,
    message: string,
    component: string,
  ): void {
    const o = involved.object;
    const namespace = namespaceOf(o) || 'default';
    const now = timestamp(this.#clock.now());
    const fold = `${uidOf(o)}\u0000${reason}\u0000${message}`;
    const existingName = this.#recent.get(fold);
    if (existingName !== undefined) {
      try {
        const ev = this.#api.get('events', namespace, existingName);
        this.#api.patch('events', namespace, existingName, 'merge', {
          count: (num(ev.count) ?? 1) + 1,
          lastTimestamp: now,
        });
        return;
      } catch {
        this.#recent.delete(fold);
      }
    }
    const name = `${nameOf(o)}.${(this.#clock.now() * 1000 + (this.#seq++ % 1000)).toString(16)}`;
    try {
      this.#api.create('events', namespace, {
        metadata: { name, namespace },
        involvedObject: {
          apiVersion: involved.apiVersion,
          kind: involved.kind,
          name: nameOf(o),
          ...(namespaceOf(o) === '' ? {} : { namespace: namespaceOf(o) }),
          uid: uidOf(o),
          resourceVersion: str(meta(o).resourceVersion),
        },
        reason,
        message,
        type,
        source: { component },
        reportingComponent: component,
        reportingInstance: component,
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
      });
      if (this.#recent.size > 5000) this.#recent.clear();
      this.#recent.set(fold, name);
    } catch {
      // Events are best effort, as in client-go: a failed write never fails the controller.
    }
  }
}
