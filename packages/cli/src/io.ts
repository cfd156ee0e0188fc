/**
 * Everything a command touches outside its arguments: output streams, environment, terminal facts,
 * the clock and the backend registry. `runCli(argv, io)` takes a partial {@link ProgramIO}; tests
 * pass their own, `bin.ts` uses the process.
 */
import type { BackendRegistry } from './backends/registry.ts';

export interface ProgramIO {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** Environment variables (default `process.env`). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Whether stdout / stderr are terminals (default: the process's streams). */
  readonly stdoutIsTTY?: boolean;
  readonly stderrIsTTY?: boolean;
  /** Terminal width for tables (default: stdout's columns, else `COLUMNS`, else 120). */
  readonly columns?: number;
  /** Directory relative file names are read from (default `process.cwd()`). */
  readonly cwd?: string;
  /** Epoch milliseconds (default `Date.now`), for AGE columns. */
  readonly now?: () => number;
  /** Ends watches (`-w`, `logs -f`) when aborted; `bin.ts` aborts it on SIGINT. */
  readonly signal?: AbortSignal;
  /** Reads standard input for `-f -` (default: the process's stdin). */
  readonly readStdin?: () => Promise<string>;
  /** Where backends are looked up (default: the process-wide registry of `registerBackend`). */
  readonly backends?: BackendRegistry;
}

/** A {@link ProgramIO} with every default filled in, as commands see it. */
export interface ResolvedIO {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly stdoutIsTTY: boolean;
  readonly stderrIsTTY: boolean;
  readonly columns: number;
  readonly cwd: string;
  readonly now: () => number;
  readonly signal: AbortSignal | undefined;
  readonly readStdin: () => Promise<string>;
}

export const processIO: ProgramIO = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
};

async function readProcessStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

export function resolveIO(io: ProgramIO): ResolvedIO {
  const env = io.env ?? process.env;
  const envColumns = Number(env.COLUMNS);
  return {
    stdout: io.stdout,
    stderr: io.stderr,
    env,
    stdoutIsTTY: io.stdoutIsTTY ?? (io === processIO && process.stdout.isTTY === true),
    stderrIsTTY: io.stderrIsTTY ?? (io === processIO && process.stderr.isTTY === true),
    columns:
      io.columns ??
      (io === processIO && process.stdout.columns ? process.stdout.columns : undefined) ??
      (Number.isInteger(envColumns) && envColumns > 0 ? envColumns : 120),
    cwd: io.cwd ?? process.cwd(),
    now: io.now ?? Date.now,
    signal: io.signal,
    readStdin: io.readStdin ?? readProcessStdin,
  };
}
