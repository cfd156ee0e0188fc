import { open, stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

/** One chunk of a log file, as the Mesos `/files/read` endpoint returns it. */
export interface LogChunk {
  /** Where `data` starts in the file. */
  readonly offset: number;
  readonly data: Uint8Array;
  /** The file's size when it was read. */
  readonly size: number;
}

/** Size of a file, 0 when it does not exist (yet). */
export async function fileSize(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
}

/**
 * Reads up to `length` bytes at `offset` (both clamped to the file). A missing file reads as empty:
 * a task that has not written anything yet has an empty log.
 */
export async function readChunk(path: string, offset: number, length: number): Promise<LogChunk> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT')
      return { offset: 0, data: new Uint8Array(), size: 0 };
    throw err;
  }
  try {
    const size = (await handle.stat()).size;
    const start = Math.min(offset, size);
    const want = Math.max(0, Math.min(length, size - start));
    const buf = new Uint8Array(want);
    let got = 0;
    while (got < want) {
      const { bytesRead } = await handle.read(buf, got, want - got, start + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    return { offset: start, data: got === want ? buf : buf.subarray(0, got), size };
  } finally {
    await handle.close();
  }
}

export interface FollowOptions {
  /** Where to start reading (default 0). */
  readonly offset?: number;
  /** Ends the stream when aborted. */
  readonly signal?: AbortSignal;
  /** How often to look for new bytes (default 100 ms). */
  readonly pollMs?: number;
  /** Largest chunk yielded at once (default 64 KiB). */
  readonly chunkBytes?: number;
}

/**
 * Yields the file's bytes from `offset`, then new bytes as they are appended, until `done()`
 * says the writer is finished (checked before the final read, so nothing written before the
 * writer finished is lost) or the signal aborts.
 */
export async function* followFile(
  path: string,
  done: () => boolean,
  options: FollowOptions = {},
): AsyncGenerator<Uint8Array, void, undefined> {
  const { signal } = options;
  const pollMs = options.pollMs ?? 100;
  const chunkBytes = options.chunkBytes ?? 64 * 1024;
  let offset = options.offset ?? 0;
  while (!signal?.aborted) {
    const finished = done();
    const chunk = await readChunk(path, offset, chunkBytes);
    if (chunk.data.length > 0) {
      offset = chunk.offset + chunk.data.length;
      yield chunk.data;
      continue;
    }
    if (finished) return;
    try {
      await sleep(pollMs, undefined, signal ? { signal } : {});
    } catch {
      return; // aborted
    }
  }
}
