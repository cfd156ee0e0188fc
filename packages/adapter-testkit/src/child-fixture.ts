/**
 * A test backend in a child process: the child starts its fixture and calls `serveChildFixture`,
 * the test calls `startChildFixture` with the child's module URL and asks the probe over IPC.
 * Running the backend outside the test process keeps "close releases everything" about the
 * adapter's own handles, not the backend's timers and sockets.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BackendProbe } from './probe.ts';

/** The child's side: what it tells the parent once started, its probe, and how to stop it. */
export interface ChildFixtureServer {
  /** Sent to the parent as {@link ChildFixture.ready}: a master URL, a kubeconfig path… */
  readonly ready: string;
  readonly probe: BackendProbe;
  close(): Promise<void>;
}

export interface ChildFixtureOptions {
  /** Added to this process's environment for the child. */
  readonly env?: Readonly<Record<string, string>>;
  /** After asking the child to close, kill it if it has not exited within this long (default 30 s). */
  readonly killAfterMs?: number;
}

/** The parent's side of a child started by {@link startChildFixture}. */
export interface ChildFixture {
  /** What the child passed to {@link serveChildFixture} as `ready`. */
  readonly ready: string;
  readonly pid: number | undefined;
  /** The child's probe, asked over IPC. */
  readonly probe: BackendProbe;
  /** Asks the child to close its fixture and waits for it to exit (killing it after `killAfterMs`). */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

type Request = { id: number; op: 'launchCount' | 'isRunning'; taskId: string } | { id: number; op: 'close' };
type Reply = { ready?: string; id?: number; value?: unknown };

/**
 * Forks `module` (a `.ts` file run by Node with the `@berth/source` condition) and resolves once
 * it has called {@link serveChildFixture}; rejects if it exits first.
 */
export async function startChildFixture(
  module: URL | string,
  options: ChildFixtureOptions = {},
): Promise<ChildFixture> {
  const path = module instanceof URL || module.startsWith('file:') ? fileURLToPath(module) : module;
  const child: ChildProcess = fork(path, [], {
    execArgv: ['--conditions=@berth/source', '--no-warnings'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    ...(options.env === undefined ? {} : { env: { ...process.env, ...options.env } }),
  });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let next = 0;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = await new Promise<string>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      const error = new Error(`${basename(path)} exited with ${code ?? signal}`);
      reject(error);
      for (const p of pending.values()) p.reject(error);
      pending.clear();
    });
    child.on('message', (raw) => {
      const m = raw as Reply;
      if (m.ready !== undefined) resolve(m.ready);
      else if (m.id !== undefined) {
        pending.get(m.id)?.resolve(m.value);
        pending.delete(m.id);
      }
    });
  });
  const ask = <T>(op: Request['op'], taskId = '') =>
    new Promise<T>((resolve, reject) => {
      const id = ++next;
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      child.send({ id, op, taskId } satisfies Request, (error) => {
        if (error === null) return;
        pending.delete(id);
        reject(error);
      });
    });
  const close = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const kill = setTimeout(() => child.kill('SIGKILL'), options.killAfterMs ?? 30_000);
    try {
      await Promise.race([ask('close'), exited]).catch(() => child.kill('SIGKILL'));
      await exited;
    } finally {
      clearTimeout(kill);
    }
  };
  return {
    ready,
    pid: child.pid,
    probe: {
      launchCount: (taskId) => ask<number>('launchCount', taskId),
      isRunning: (taskId) => ask<boolean>('isRunning', taskId),
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

/**
 * In the child: answers the parent's probe questions with `fixture.probe`, and on `close` closes
 * the fixture and exits. Sends `fixture.ready` to the parent.
 */
export function serveChildFixture(fixture: ChildFixtureServer): void {
  process.on('message', (raw) => {
    const m = raw as Request;
    void (async () => {
      let value: unknown;
      if (m.op === 'launchCount') value = await fixture.probe.launchCount(m.taskId);
      else if (m.op === 'isRunning') value = await fixture.probe.isRunning(m.taskId);
      else {
        await fixture.close();
        process.send?.({ id: m.id, value: true } satisfies Reply, () => process.exit(0));
        return;
      }
      process.send?.({ id: m.id, value } satisfies Reply);
    })();
  });
  process.send?.({ ready: fixture.ready } satisfies Reply);
}
