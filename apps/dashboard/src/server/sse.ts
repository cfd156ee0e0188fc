/**
 * The Server-Sent Events response: `id:` is the hub's sequence number, `event:` the message type
 * (`task`, `node`, `event`), `data:` one line of JSON. A client that reconnects with
 * `Last-Event-ID` (browsers do it by themselves) gets what it missed, or a `reset` event when that
 * fell out of the buffer. Comment lines keep idle connections open through proxies.
 */
import type { LiveHub, Sequenced } from './live-hub.ts';

export interface SseOptions {
  /** Resume after this sequence number. */
  readonly since: number | undefined;
  readonly heartbeatMs: number;
  readonly signal?: AbortSignal;
  /** Queued bytes after which a client that does not read is dropped (it resumes on reconnect). */
  readonly maxQueuedChars?: number;
}

/** Browsers wait this long before reconnecting. */
export const SSE_RETRY_MS = 2_000;

export function frame(m: Sequenced): string {
  return `id: ${m.id}\nevent: ${m.message.type}\ndata: ${JSON.stringify(m.message)}\n\n`;
}

export function sseResponse(hub: LiveHub, options: SseOptions): Response {
  const encoder = new TextEncoder();
  const maxQueued = options.maxQueuedChars ?? 8 * 1024 * 1024;
  let cleanup = () => {};
  const body = new ReadableStream<Uint8Array>(
    {
      start(controller) {
        let open = true;
        const send = (text: string) => {
          if (!open) return;
          if ((controller.desiredSize ?? 0) < -maxQueued) {
            cleanup();
            controller.close();
            return;
          }
          controller.enqueue(encoder.encode(text));
        };
        const unsubscribe = hub.subscribe((m) => send(frame(m)));
        const heartbeat = setInterval(() => send(`: heartbeat\n\n`), options.heartbeatMs);
        cleanup = () => {
          if (!open) return;
          open = false;
          unsubscribe();
          clearInterval(heartbeat);
        };
        options.signal?.addEventListener('abort', () => {
          if (!open) return;
          cleanup();
          try {
            controller.close();
          } catch {
            // already closed by the reader
          }
        });
        send(`retry: ${SSE_RETRY_MS}\n\n`);
        const lastId = hub.lastId;
        if (options.since === undefined) {
          send(`id: ${lastId}\nevent: hello\ndata: ${JSON.stringify({ lastId })}\n\n`);
          return;
        }
        const missed = hub.since(options.since);
        if (missed === undefined) {
          send(`id: ${lastId}\nevent: reset\ndata: ${JSON.stringify({ lastId })}\n\n`);
          return;
        }
        for (const m of missed) send(frame(m));
      },
      cancel() {
        cleanup();
      },
    },
    // Count characters, not chunks, so the drop threshold means something.
    { highWaterMark: 0, size: (chunk) => chunk.byteLength },
  );
  return new Response(body, {
    headers: {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      'X-Accel-Buffering': 'no',
    },
  });
}
