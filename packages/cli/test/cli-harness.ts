/**
 * Runs `runCli` in process against an in-memory cluster: a temp config file with a `dev` context
 * (backend mesos, served by the testkit's memory adapter) and a `k8s` context (no factory
 * registered, like an install without @berth/k8s-adapter).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMemoryAdapter, MemoryCluster, type MemoryClusterOptions } from '@berth/adapter-testkit';
import { BackendRegistry } from '../src/backends/registry.ts';
import type { ProgramIO } from '../src/io.ts';
import { runCli } from '../src/program.ts';

export interface CliResult {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

export interface Harness extends AsyncDisposable {
  readonly dir: string;
  readonly configFile: string;
  readonly cluster: MemoryCluster;
  readonly backends: BackendRegistry;
  /** How many adapters the CLI created (0 = the cluster was never touched). */
  adaptersCreated(): number;
  run(argv: readonly string[], io?: Partial<ProgramIO>): Promise<CliResult>;
  file(name: string, text: string): Promise<string>;
}

export const DEFAULT_CONFIG = `current-context: dev
contexts:
  dev:
    backend: mesos
    masters: [http://127.0.0.1:5050]
    role: web
  k8s:
    backend: kubernetes
    context: kind-berth
    namespace: team-a
    mode: berth
`;

export async function harness(
  options: { config?: string; cluster?: MemoryClusterOptions; env?: Record<string, string> } = {},
): Promise<Harness> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-cli-'));
  const configFile = join(dir, 'config.yaml');
  if (options.config !== '') await writeFile(configFile, options.config ?? DEFAULT_CONFIG);
  const cluster = new MemoryCluster({ stepMs: 1, ...options.cluster });
  const backends = new BackendRegistry();
  let created = 0;
  backends.register('mesos', () => {
    created++;
    return createMemoryAdapter({ cluster, heartbeatMs: 60_000 });
  });
  return {
    dir,
    configFile,
    cluster,
    backends,
    adaptersCreated: () => created,
    async run(argv, io = {}) {
      const out: string[] = [];
      const err: string[] = [];
      const code = await runCli(argv, {
        stdout: (t) => out.push(t),
        stderr: (t) => err.push(t),
        env: { HOME: dir, BERTH_CONFIG: configFile, ...options.env },
        stdoutIsTTY: false,
        stderrIsTTY: false,
        columns: 200,
        cwd: dir,
        backends,
        ...io,
      });
      return { code, out: out.join(''), err: err.join('') };
    },
    async file(name, text) {
      const path = join(dir, name);
      await writeFile(path, text);
      return path;
    },
    async [Symbol.asyncDispose]() {
      cluster.shutdown();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export const WEB_SERVICE = `apiVersion: berth.dev/v1
kind: Service
metadata: { name: web }
spec:
  replicas: 2
  template:
    command: sleep 3600
    resources: { requests: { cpu: 500m, memory: 256Mi } }
    ports: [{ name: http }]
`;

export const ONE_TASK = `apiVersion: berth.dev/v1
kind: Task
metadata: { name: hello }
spec:
  command: echo hello; echo oops >&2; sleep 3600
  resources: { requests: { cpu: 100m, memory: 64Mi } }
`;

export const HUGE_TASK = `apiVersion: berth.dev/v1
kind: Task
metadata: { name: huge }
spec:
  command: sleep 1
  resources: { requests: { cpu: "64", memory: 1Gi } }
`;

export const BATCH_JOB = `apiVersion: berth.dev/v1
kind: Job
metadata: { name: batch }
spec:
  completions: 2
  parallelism: 2
  template:
    command: echo done
    resources: { requests: { cpu: 100m, memory: 32Mi } }
`;

/** Polls `check` until it returns true (real time, short: the memory cluster steps in ms). */
export async function until(check: () => boolean | Promise<boolean>, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}
