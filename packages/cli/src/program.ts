import { Command, CommanderError } from 'commander';
import { CLI_VERSION } from './version.ts';

export interface ProgramIO {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

const defaultIO: ProgramIO = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
};

/** Build the `berth` command tree. Subcommand implementations are imported lazily on use. */
export function createProgram(io: ProgramIO = defaultIO): Command {
  const program = new Command('berth')
    .description('Describe, place and run workloads on Apache Mesos and Kubernetes from one spec.')
    .version(CLI_VERSION, '--version', 'print the client version')
    .showSuggestionAfterError(true)
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .exitOverride();

  program
    .command('version')
    .description('print the client version (and the server versions when connected)')
    .option('-o, --output <format>', 'output format: text or json', 'text')
    .action(async (opts: { output: string }) => {
      const { versionCommand } = await import('./commands/version.ts');
      versionCommand(opts, io);
    });

  return program;
}

/** Run the CLI with `argv` (without node and script) and return the process exit code. */
export async function runCli(argv: readonly string[], io: ProgramIO = defaultIO): Promise<number> {
  const program = createProgram(io);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    const { reportError } = await import('./errors.ts');
    return reportError(err, io, argv.includes('--debug'));
  }
}
