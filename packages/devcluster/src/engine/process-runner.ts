import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { readGroupUsage } from './proc-stats.ts';

const hasProc = existsSync('/proc/self/stat');

/** How a process ended. */
export interface ProcessExit {
  /** Exit code, or null when a signal ended it. */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Set when the process could not be started at all (e.g. the executable does not exist). */
  readonly spawnError?: Error;
}

export interface ProcessLaunch {
  /** A shell command run with `/bin/sh -c`, or... */
  readonly command?: string;
  /** ...an argv executed directly (args[0] is the executable, looked up on PATH). */
  readonly args?: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  /** Working directory; `stdout` and `stderr` files are created in it. */
  readonly sandbox: string;
}

/**
 * A process a task runs, in its own process group (the child is a group leader), so that killing
 * the group reaches everything the command started — background jobs included.
 */
export class TaskProcess {
  readonly pid: number | undefined;
  /** Resolves once the process has exited (never rejects). */
  readonly exited: Promise<ProcessExit>;
  #exit: ProcessExit | undefined;
  readonly #child: ChildProcess;
  #graceTimer: ReturnType<typeof setTimeout> | undefined;

  /** Starts the process. Throws synchronously only when the sandbox log files cannot be created. */
  constructor(launch: ProcessLaunch, onSpawn: () => void) {
    const out = openSync(join(launch.sandbox, 'stdout'), 'a');
    let err: number;
    try {
      err = openSync(join(launch.sandbox, 'stderr'), 'a');
    } catch (e) {
      closeSync(out);
      throw e;
    }
    try {
      const [file, ...rest] =
        launch.command !== undefined ? ['/bin/sh', '-c', launch.command] : [...(launch.args ?? [])];
      this.#child = spawn(file!, rest, {
        cwd: launch.sandbox,
        env: launch.env,
        detached: true, // setsid(): own session and process group
        stdio: ['ignore', out, err],
      });
    } finally {
      // The child holds its own copies of the descriptors.
      closeSync(out);
      closeSync(err);
    }
    this.pid = this.#child.pid;
    this.exited = new Promise<ProcessExit>((resolve) => {
      const finish = (exit: ProcessExit) => {
        if (this.#exit !== undefined) return;
        this.#exit = exit;
        if (this.#graceTimer !== undefined) clearTimeout(this.#graceTimer);
        // Whatever the command left behind in its group goes with it, as when a Mesos agent
        // destroys a container whose task has exited.
        this.#signalGroup('SIGKILL');
        resolve(exit);
      };
      this.#child.once('spawn', onSpawn);
      this.#child.once('error', (error) => {
        if (this.pid === undefined) finish({ code: null, signal: null, spawnError: error });
      });
      this.#child.once('exit', (code, signal) => finish({ code, signal }));
    });
  }

  /** True until the process has exited. */
  get running(): boolean {
    return this.#exit === undefined;
  }

  /** SIGTERM to the group now, SIGKILL after `graceMs` unless it has exited by then. */
  terminate(graceMs: number): void {
    if (this.#exit !== undefined) return;
    if (graceMs <= 0) {
      this.#signalGroup('SIGKILL');
      return;
    }
    this.#signalGroup('SIGTERM');
    if (this.#graceTimer === undefined) {
      this.#graceTimer = setTimeout(() => this.#signalGroup('SIGKILL'), graceMs);
    }
  }

  /**
   * Resolves once no live member of the process group is left, or after `maxMs`. Leftovers of a
   * killed group are reparented and reaped by init; where init does not reap (some containers)
   * they stay zombies, which hold no resources and count as gone.
   */
  async groupGone(maxMs: number): Promise<void> {
    await this.exited;
    if (this.pid === undefined) return;
    const deadline = Date.now() + maxMs;
    while (Date.now() < deadline) {
      try {
        process.kill(-this.pid, 0);
      } catch {
        return; // ESRCH: the group is empty
      }
      if (hasProc && (await readGroupUsage(this.pid)) === undefined) return; // only zombies left
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** SIGKILL to the group right away (synchronous: safe inside a process 'exit' handler). */
  killNow(): void {
    if (this.#exit === undefined) this.#signalGroup('SIGKILL');
  }

  #signalGroup(signal: NodeJS.Signals): void {
    if (this.pid === undefined) return;
    try {
      process.kill(-this.pid, signal);
    } catch {
      // ESRCH: the group is already gone.
    }
  }
}
