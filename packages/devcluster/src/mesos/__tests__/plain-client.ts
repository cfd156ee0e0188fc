/**
 * A deliberately plain Mesos HTTP client for the face's tests: `fetch` plus a small RecordIO
 * reader, no Berth adapter code, so the tests check the wire format and not our own client.
 */

export type Ev = { type: string; [k: string]: unknown };

/** Reads RecordIO records (`<length>\n<json>`) from a response body. */
export class RecordReader {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  #buf: Uint8Array = new Uint8Array(0);
  readonly #events: Ev[] = [];
  #done = false;
  readonly all: Ev[] = [];

  constructor(body: ReadableStream<Uint8Array>) {
    this.#reader = body.getReader();
  }

  get ended(): boolean {
    return this.#done && this.#events.length === 0;
  }

  async #pump(): Promise<boolean> {
    // A cut connection (a master that died) ends the stream like a clean end does.
    const { value, done } = await this.#reader
      .read()
      .catch(() => ({ value: undefined, done: true as const }));
    if (done) {
      this.#done = true;
      return false;
    }
    const merged = new Uint8Array(this.#buf.length + value.length);
    merged.set(this.#buf);
    merged.set(value, this.#buf.length);
    this.#buf = merged;
    for (;;) {
      const nl = this.#buf.indexOf(0x0a);
      if (nl < 0) break;
      const len = Number(new TextDecoder().decode(this.#buf.subarray(0, nl)));
      if (this.#buf.length < nl + 1 + len) break;
      const ev = JSON.parse(new TextDecoder().decode(this.#buf.subarray(nl + 1, nl + 1 + len))) as Ev;
      this.#events.push(ev);
      this.all.push(ev);
      this.#buf = this.#buf.subarray(nl + 1 + len);
    }
    return true;
  }

  /** The next event matching `pred` (others are skipped), or an error after `timeoutMs`. */
  async next(pred: (e: Ev) => boolean = () => true, timeoutMs = 4000): Promise<Ev> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      while (this.#events.length > 0) {
        const e = this.#events.shift()!;
        if (pred(e)) return e;
      }
      if (this.#done) throw new Error('stream ended');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('timed out waiting for an event');
      let timer: ReturnType<typeof setTimeout> | undefined;
      const more = await Promise.race([
        this.#pump(),
        new Promise<'timeout'>((r) => {
          timer = setTimeout(() => r('timeout'), left);
        }),
      ]);
      clearTimeout(timer);
      if (more === 'timeout') throw new Error('timed out waiting for an event');
    }
  }

  /** The first event matching `pred` ever received (consumed or not), waiting for it if needed. */
  async find(pred: (e: Ev) => boolean, timeoutMs = 4000): Promise<Ev> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.all.find(pred);
      if (hit !== undefined) return hit;
      if (this.#done) throw new Error('stream ended');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('timed out waiting for an event');
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        this.#pump(),
        new Promise<void>((r) => {
          timer = setTimeout(r, left);
        }),
      ]);
      clearTimeout(timer);
    }
  }

  /** Resolves once the server ends the stream (pending events are discarded). */
  async end(timeoutMs = 4000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.#done) {
      if (Date.now() > deadline) throw new Error('stream did not end');
      await this.#pump();
    }
  }

  cancel(): void {
    void this.#reader.cancel().catch(() => undefined);
  }
}

export const isUpdate = (state: string, taskId?: string) => (e: Ev) => {
  if (e.type !== 'UPDATE') return false;
  const s = (e.update as { status: { state: string; task_id: { value: string } } }).status;
  return s.state === state && (taskId === undefined || s.task_id.value === taskId);
};

export function statusOf(e: Ev): Record<string, unknown> & {
  state: string;
  uuid?: string;
  message?: string;
  reason?: string;
  source?: string;
  task_id: { value: string };
  agent_id?: { value: string };
} {
  return (e.update as { status: never }).status;
}

export function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    redirect: 'manual',
  });
}

/** A framework's subscription: its event stream, framework id and `Mesos-Stream-Id`. */
export interface Subscription {
  readonly res: Response;
  readonly reader: RecordReader;
  readonly id: string;
  readonly streamId: string;
}

export type PlainOffer = {
  id: { value: string };
  agent_id: { value: string };
  resources: Record<string, unknown>[];
};

/**
 * SUBSCRIBE `info` (as `frameworkId` when given, a re-subscription) on `masterUrl`; the stream's
 * reader goes to `readers` so the test cancels it. Throws unless the master answers 200 and the
 * first event is SUBSCRIBED.
 */
export async function subscribeFramework(
  masterUrl: string,
  info: object,
  readers: RecordReader[],
  frameworkId?: string,
): Promise<Subscription> {
  const res = await post(`${masterUrl}/api/v1/scheduler`, {
    ...(frameworkId === undefined ? {} : { framework_id: { value: frameworkId } }),
    type: 'SUBSCRIBE',
    subscribe: { framework_info: frameworkId === undefined ? info : { ...info, id: { value: frameworkId } } },
  });
  if (res.status !== 200 || res.body === null) throw new Error(`SUBSCRIBE answered ${res.status}`);
  const reader = new RecordReader(res.body);
  readers.push(reader);
  const subscribed = await reader.next();
  if (subscribed.type !== 'SUBSCRIBED')
    throw new Error(`the first event was ${subscribed.type}, not SUBSCRIBED`);
  const id = (subscribed.subscribed as { framework_id: { value: string } }).framework_id.value;
  return { res, reader, id, streamId: res.headers.get('mesos-stream-id') ?? '' };
}

/** One scheduler call of `sub`'s framework on its stream. */
export function schedulerCall(masterUrl: string, sub: Subscription, body: Record<string, unknown>) {
  return post(
    `${masterUrl}/api/v1/scheduler`,
    { framework_id: { value: sub.id }, ...body },
    { 'Mesos-Stream-Id': sub.streamId },
  );
}

/** The first offer of the next OFFERS event on `sub`'s stream. */
export async function nextOffer(sub: Subscription): Promise<PlainOffer> {
  const e = await sub.reader.next((x) => x.type === 'OFFERS');
  return (e.offers as { offers: PlainOffer[] }).offers[0]!;
}
