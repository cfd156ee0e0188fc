/**
 * Runs the real `berth` process for the end-to-end tests, in a temp directory with its own config
 * file and state home. In CI (`CI` set, after `pnpm build`) that is the built binary,
 * `dist/bin.js`, resolving the other packages to their `dist/` as an installed CLI does; locally it
 * is `node --conditions=@berth/source src/bin.ts` (no build needed, never a stale dist).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SOURCE_BIN = fileURLToPath(new URL('../../src/bin.ts', import.meta.url));
const BUILT_BIN = fileURLToPath(new URL('../../dist/bin.js', import.meta.url));
const useBuilt = process.env.CI !== undefined && process.env.CI !== '' && existsSync(BUILT_BIN);

export const BIN = useBuilt ? BUILT_BIN : SOURCE_BIN;
const NODE_ARGS = useBuilt ? ['--no-warnings'] : ['--conditions=@berth/source', '--no-warnings'];

export interface BerthResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface BerthSandbox extends AsyncDisposable {
  readonly dir: string;
  readonly env: Readonly<Record<string, string>>;
  /** Runs `berth …args` to completion. */
  berth(args: readonly string[], extraEnv?: Record<string, string>): Promise<BerthResult>;
  file(name: string, text: string): Promise<string>;
}

export async function berthSandbox(config: string): Promise<BerthSandbox> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-e2e-'));
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: dir,
    BERTH_CONFIG: join(dir, 'config.yaml'),
    XDG_STATE_HOME: join(dir, 'state'),
    NO_COLOR: '1',
    COLUMNS: '200',
  };
  await writeFile(env.BERTH_CONFIG, config);
  return {
    dir,
    env,
    berth(args, extraEnv = {}) {
      return new Promise((resolve) => {
        execFile(
          process.execPath,
          [...NODE_ARGS, BIN, ...args],
          { cwd: dir, env: { ...env, ...extraEnv }, timeout: 60_000 },
          (err, stdout, stderr) => {
            const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
            resolve({ code, stdout, stderr });
          },
        );
      });
    },
    async file(name, text) {
      const path = join(dir, name);
      await writeFile(path, text);
      return path;
    },
    async [Symbol.asyncDispose]() {
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Re-runs `attempt` until `check` holds for its result (the cluster settles asynchronously). */
export async function eventually<T>(
  attempt: () => Promise<T>,
  check: (value: T) => boolean,
  ms = 20_000,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await attempt();
    if (check(value) || Date.now() > end) return value;
    await new Promise((r) => setTimeout(r, 300));
  }
}

export const SERVICE_AND_TASK = `apiVersion: berth.dev/v1
kind: Service
metadata: { name: web }
spec:
  replicas: 2
  template:
    command: sleep 3600
    resources: { requests: { cpu: 100m, memory: 32Mi } }
    ports: [{ name: http }]
---
apiVersion: berth.dev/v1
kind: Task
metadata: { name: hello }
spec:
  command: echo hello from berth; echo to stderr >&2
  resources: { requests: { cpu: 100m, memory: 16Mi } }
`;

export const TWO_TASKS = `apiVersion: berth.dev/v1
kind: Task
metadata: { name: nap }
spec:
  command: sleep 3600
  resources: { requests: { cpu: 100m, memory: 32Mi } }
---
apiVersion: berth.dev/v1
kind: Task
metadata: { name: hello }
spec:
  command: echo hello from berth
  resources: { requests: { cpu: 100m, memory: 16Mi } }
`;

export const INVALID_SPEC = `apiVersion: berth.dev/v1
kind: Service
metadata: { name: Bad_Name }
spec:
  replicas: -1
  template:
    command: sleep 1
    resources: { requests: { cpu: lots } }
`;

export interface TaskItem {
  readonly id: string;
  readonly state: string;
  readonly backend: string;
  readonly node?: string;
  readonly service?: string;
  readonly exitCode?: number;
}

export function taskItems(stdout: string): TaskItem[] {
  const doc = JSON.parse(stdout) as { kind: string; items: TaskItem[] };
  if (doc.kind !== 'TaskList') throw new Error(`expected a TaskList, got ${doc.kind}`);
  return doc.items;
}
