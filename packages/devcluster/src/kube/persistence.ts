/**
 * Keeps a Kubernetes face's state in its `stateDir` across restarts: the objects (with the
 * revision), the bearer token and the CA/serving certificate, so kubeconfigs written earlier
 * stay valid. Writes are debounced and atomic (temp file + rename).
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BerthError } from '@berth/core';
import type { ServingCertificates } from './certificates.ts';
import type { StoreSnapshot, VersionedStore } from './versioned-store.ts';

export interface PersistedServing extends ServingCertificates {
  readonly hosts: readonly string[];
}

export interface PersistedState {
  readonly token?: string;
  readonly serving?: PersistedServing;
  readonly store?: StoreSnapshot;
}

const FILES = { token: 'token', serving: 'serving.json', store: 'state.json' } as const;

async function readIfPresent(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

function parse<T>(path: string, text: string | undefined): T | undefined {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    throw new BerthError('SPEC_INVALID', `devcluster state file ${path} is not valid JSON`, {
      component: 'devcluster',
      hint: 'delete the file (or the whole stateDir) to start from an empty cluster',
      cause: error,
    });
  }
}

export async function loadState(dir: string): Promise<PersistedState> {
  const token = (await readIfPresent(join(dir, FILES.token)))?.trim();
  const servingPath = join(dir, FILES.serving);
  const storePath = join(dir, FILES.store);
  const serving = parse<PersistedServing>(servingPath, await readIfPresent(servingPath));
  const store = parse<StoreSnapshot>(storePath, await readIfPresent(storePath));
  if (store !== undefined && (typeof store.revision !== 'number' || typeof store.resources !== 'object')) {
    throw new BerthError('SPEC_INVALID', `devcluster state file ${storePath} has no revision/resources`, {
      component: 'devcluster',
      hint: 'delete the file to start from an empty cluster',
    });
  }
  return {
    ...(token === undefined || token === '' ? {} : { token }),
    ...(serving === undefined ? {} : { serving }),
    ...(store === undefined ? {} : { store }),
  };
}

async function atomicWrite(path: string, text: string, mode = 0o600): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, text, { mode });
  await rename(tmp, path);
}

export async function saveIdentity(dir: string, token: string, serving: PersistedServing): Promise<void> {
  await mkdir(dir, { recursive: true });
  await atomicWrite(join(dir, FILES.token), `${token}\n`);
  await atomicWrite(join(dir, FILES.serving), JSON.stringify(serving));
}

export interface StoreSaver {
  /** Write the current state now (pending debounced writes included). */
  flush(): Promise<void>;
  /** Stop listening; does not write. */
  stop(): void;
}

/**
 * Save the store at most `delayMs` after a change (and on `flush`). Under a stream of changes the
 * saves space out so that serializing the store (the only synchronous part: the file is written
 * asynchronously) takes at most about a tenth of the event loop, however large the store grows.
 */
export function persistStore(dir: string, store: VersionedStore, delayMs = 250): StoreSaver {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let writing: Promise<void> = Promise.resolve();
  let dirty = true;
  let lastSerializeMs = 0;
  const write = () => {
    timer = undefined;
    if (!dirty) return writing;
    dirty = false;
    const t0 = performance.now();
    // Stored objects are never mutated: serialize them in place instead of copying the store first.
    const text = JSON.stringify(store.snapshotShared());
    lastSerializeMs = performance.now() - t0;
    writing = writing.then(() => atomicWrite(join(dir, FILES.store), text));
    return writing;
  };
  const unsubscribe = store.subscribe(() => {
    dirty = true;
    if (timer === undefined) {
      timer = setTimeout(
        () => {
          write().catch(() => {
            dirty = true;
          });
        },
        Math.max(delayMs, 10 * lastSerializeMs),
      );
      timer.unref?.();
    }
  });
  return {
    async flush() {
      if (timer !== undefined) clearTimeout(timer);
      await write();
    },
    stop() {
      if (timer !== undefined) clearTimeout(timer);
      unsubscribe();
    },
  };
}
