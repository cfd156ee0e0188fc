/**
 * One long-lived RecordIO response (a scheduler or operator SUBSCRIBE): each event is written as
 * one HTTP chunk, heartbeats run on the injected clock, and the stream can end cleanly (a zero-size
 * chunk, as after failover or teardown) or be cut (the connection destroyed, as when a master dies).
 */
import type { ServerResponse } from 'node:http';
import type { Clock, TimerHandle } from '@berth/core';
import { encodeRecord } from './recordio.ts';

export class EventStream {
  readonly #res: ServerResponse;
  readonly #clock: Clock;
  readonly #heartbeatMs: number;
  readonly #heartbeatsPaused: () => boolean;
  #timer: TimerHandle | undefined;
  #open = true;
  readonly #onClose = new Set<() => void>();

  constructor(res: ServerResponse, clock: Clock, heartbeatMs: number, heartbeatsPaused: () => boolean) {
    this.#res = res;
    this.#clock = clock;
    this.#heartbeatMs = heartbeatMs;
    this.#heartbeatsPaused = heartbeatsPaused;
    const gone = () => this.#closed();
    res.on('close', gone);
    res.on('error', gone);
  }

  get open(): boolean {
    return this.#open;
  }

  onClose(fn: () => void): void {
    this.#onClose.add(fn);
  }

  send(event: unknown): void {
    if (!this.#open) return;
    this.#res.write(encodeRecord(event));
  }

  /** Sends a HEARTBEAT now and every interval after. */
  startHeartbeats(): void {
    this.send({ type: 'HEARTBEAT' });
    this.#arm();
  }

  #arm(): void {
    this.#timer = this.#clock.setTimeout(() => {
      if (!this.#open) return;
      if (!this.#heartbeatsPaused()) this.send({ type: 'HEARTBEAT' });
      this.#arm();
    }, this.#heartbeatMs);
  }

  /** Ends the response cleanly (zero-size chunk). */
  end(): void {
    if (!this.#open) return;
    this.#res.end();
    this.#closed();
  }

  /** Cuts the connection without a clean end. */
  destroy(): void {
    if (!this.#open) return;
    this.#res.destroy();
    this.#closed();
  }

  #closed(): void {
    if (!this.#open) return;
    this.#open = false;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const fn of this.#onClose) fn();
    this.#onClose.clear();
  }
}
