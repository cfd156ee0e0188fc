import { Command, CommanderError, Option } from 'commander';
import type { CommandContext, GlobalOptions } from './command-context.ts';
import { type ProgramIO, processIO } from './io.ts';
import { CLI_VERSION } from './version.ts';

export type { ProgramIO } from './io.ts';

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

/**
 * Build the `berth` command tree. Only commander is loaded up front: every implementation (and
 * `@berth/core`) is imported when its command runs, so `berth --help` starts fast.
 */
export function createProgram(io: ProgramIO = processIO): Command {
  const program = new Command('berth')
    .description('Describe, place and run workloads on Apache Mesos and Kubernetes from one spec.')
    .version(CLI_VERSION, '--version', 'print the client version')
    .option('--context <name>', 'the context to use (default: $BERTH_CONTEXT, then current-context)')
    .option('--debug', 'print stack traces and error details')
    .option('--no-color', 'never colour the output (NO_COLOR=1 does the same)')
    .showSuggestionAfterError(true)
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .addHelpText(
      'after',
      `
Examples:
  berth config set-context dev --backend mesos --master http://127.0.0.1:5050
  berth plan -f web.yaml --profile binpack
  berth run -f web.yaml --wait
  berth get tasks -o wide
  berth logs web-0 -f

Exit codes: 0 ok, 1 usage error or failed workload, 2 invalid spec or flag, 3 unschedulable,
4 backend unavailable, 5 authentication failed, 6 forbidden, 7 conflict, 8 not found,
9 timeout, 10 unsupported, 70 internal error.`,
    )
    .exitOverride();

  /** Runs an implementation with a fresh command context (imported lazily). */
  const run =
    <A extends unknown[]>(impl: (ctx: CommandContext, ...args: A) => Promise<void>) =>
    async (...args: A) => {
      const { createCommandContext } = await import('./command-context.ts');
      const { resolveIO } = await import('./io.ts');
      const { defaultBackends } = await import('./backends/registry.ts');
      const globals = program.opts<GlobalOptions>();
      const resolved = resolveIO(io);
      if (io.backends === undefined) {
        const { registerBuiltinBackends } = await import('./backends/builtin.ts');
        registerBuiltinBackends(defaultBackends, resolved.cwd);
      }
      await impl(createCommandContext(resolved, globals, io.backends ?? defaultBackends), ...args);
    };
  const withCommands = (c: Command) => c.showSuggestionAfterError(true).exitOverride();

  withCommands(
    program
      .command('version')
      .description('print the client version, and the server version when a context is connected')
      .option('-o, --output <format>', 'output format: text, json or yaml', 'text')
      .option('--client', 'print only the client version (do not connect)'),
  ).action(
    run(async (ctx, opts: { output: string; client?: boolean }) => {
      const { versionCommand } = await import('./commands/version.ts');
      await versionCommand(ctx, opts);
    }),
  );

  const config = withCommands(
    program.command('config').description('manage contexts in the berth config file'),
  );
  withCommands(
    config
      .command('get-contexts')
      .description('list contexts')
      .option('-o, --output <format>', 'table, json, yaml or name'),
  ).action(
    run(async (ctx, opts: { output?: string }) =>
      (await import('./commands/config.ts')).getContexts(ctx, opts),
    ),
  );
  withCommands(config.command('current-context').description('print the current context')).action(
    run(async (ctx) => (await import('./commands/config.ts')).currentContext(ctx)),
  );
  withCommands(
    config.command('use-context').argument('<name>').description('set current-context in the config file'),
  ).action(run(async (ctx, name: string) => (await import('./commands/config.ts')).useContext(ctx, name)));
  withCommands(
    config
      .command('set-context')
      .argument('<name>')
      .description('create a context or change fields of an existing one')
      .addOption(new Option('--backend <backend>', 'mesos or kubernetes'))
      .option('--master <url>', 'Mesos master URL (repeat for several)', collect)
      .option('--role <role>', 'Mesos framework role')
      .option('--principal <principal>', 'Mesos principal')
      .option('--secret-file <path>', 'read the Mesos secret from this file')
      .option('--secret-env <variable>', 'read the Mesos secret from this environment variable')
      .option('--kubeconfig <path>', 'kubeconfig file (default $KUBECONFIG, then ~/.kube/config)')
      .option('--kube-context <name>', 'context inside the kubeconfig')
      .option('--namespace <namespace>', 'Kubernetes namespace')
      .option('--mode <mode>', 'Kubernetes mode: delegate (kube-scheduler places) or berth (Berth binds)')
      .option('--current', 'also make it the current context'),
  ).action(
    run(async (ctx, name: string, opts: Record<string, unknown>) =>
      (await import('./commands/config.ts')).setContext(ctx, name, opts),
    ),
  );
  withCommands(config.command('delete-context').argument('<name>').description('remove a context')).action(
    run(async (ctx, name: string) => (await import('./commands/config.ts')).deleteContext(ctx, name)),
  );
  withCommands(
    config
      .command('view')
      .description('print the config (secrets appear only as their file or variable reference)')
      .option('-o, --output <format>', 'yaml or json', 'yaml'),
  ).action(
    run(async (ctx, opts: { output: string }) =>
      (await import('./commands/config.ts')).viewConfig(ctx, opts),
    ),
  );

  withCommands(
    program
      .command('run')
      .description('validate the spec file(s) and submit their tasks to the cluster')
      .option('-f, --filename <file>', 'spec file (repeat for several; - reads stdin)', collect)
      .option('--dry-run', 'validate and show what would be submitted, without touching the cluster')
      .option('--wait', 'wait until every task is RUNNING (or FINISHED)')
      .option('--timeout <duration>', 'how long --wait waits (e.g. 90s, 5m)', '5m')
      .option('-o, --output <format>', 'table, json, yaml or name'),
  ).action(run(async (ctx, opts) => (await import('./commands/run.ts')).runCommand(ctx, opts)));

  withCommands(
    program
      .command('plan')
      .description('show where each task would be placed, with per-plugin scores, or why it cannot be')
      .option('-f, --filename <file>', 'spec file (repeat for several; - reads stdin)', collect)
      .option('--profile <profile>', 'placement profile: spread, binpack or balanced', 'spread')
      .option('--seed <n>', 'seed of the tie-break among equal nodes', '0')
      .option(
        '--snapshot <file>',
        'plan against a saved snapshot (berth get snapshot -o json) instead of the cluster',
      )
      .option('-o, --output <format>', 'table, wide, json or yaml'),
  ).action(run(async (ctx, opts) => (await import('./commands/plan.ts')).planCommand(ctx, opts)));

  withCommands(
    program
      .command('get')
      .description('list nodes, tasks, services, jobs (or print the cluster snapshot)')
      .argument('<type>', 'nodes, tasks, services, jobs or snapshot')
      .argument('[names...]', 'only these')
      .option('-o, --output <format>', 'table, wide, json, yaml or name')
      .option('-l, --selector <selector>', 'label selector, e.g. berth.dev/zone=zone-1,tier!=db')
      .option('-w, --watch', 'after listing, print changes as they happen'),
  ).action(
    run(async (ctx, type: string, names: string[], opts) =>
      (await import('./commands/get.ts')).getCommand(ctx, type, names, opts),
    ),
  );

  withCommands(
    program
      .command('describe')
      .description('show details of a node, task or service')
      .argument('<type>', 'node, task or service')
      .argument('<name>')
      .option('-o, --output <format>', 'text, json or yaml', 'text'),
  ).action(
    run(async (ctx, type: string, name: string, opts) =>
      (await import('./commands/describe.ts')).describeCommand(ctx, type, name, opts),
    ),
  );

  withCommands(
    program
      .command('delete')
      .description('stop a task, or every task of a service or job')
      .argument('<type>', 'task, service or job')
      .argument('<names...>')
      .option('--grace-period <seconds>', 'seconds between the stop signal and the forced kill'),
  ).action(
    run(async (ctx, type: string, names: string[], opts) =>
      (await import('./commands/delete.ts')).deleteCommand(ctx, type, names, opts),
    ),
  );

  withCommands(
    program
      .command('scale')
      .description('set the replica count of a service')
      .argument('<type>', 'service')
      .argument('<name>')
      .argument('[replicas]', 'the new replica count')
      .option('--replicas <n>', 'the new replica count'),
  ).action(
    run(async (ctx, type: string, name: string, replicas: string | undefined, opts) =>
      (await import('./commands/scale.ts')).scaleCommand(ctx, type, name, replicas, opts),
    ),
  );

  withCommands(
    program
      .command('logs')
      .description("print a task's output")
      .argument('<task>')
      .option('-f, --follow', 'keep printing new lines until the task ends')
      .option('--tail <lines>', 'start this many lines from the end')
      .option('--stream <stream>', 'stdout, stderr or both', 'both'),
  ).action(
    run(async (ctx, task: string, opts) => (await import('./commands/logs.ts')).logsCommand(ctx, task, opts)),
  );

  withCommands(
    program
      .command('events')
      .description('print what the cluster does (task state changes, scheduling, scaling)')
      .option('-w, --watch', 'keep printing events until interrupted')
      .option(
        '--duration <duration>',
        'without --watch: how long to listen when the backend keeps no history',
        '2s',
      )
      .option('-o, --output <format>', 'table, json or yaml'),
  ).action(run(async (ctx, opts) => (await import('./commands/events.ts')).eventsCommand(ctx, opts)));

  withCommands(
    program
      .command('endpoints')
      .description('list the host:port of every running replica of a service')
      .argument('<service>')
      .option('-w, --watch', 'print the endpoints again whenever they change')
      .option('-o, --output <format>', 'table, json, yaml or name'),
  ).action(
    run(async (ctx, service: string, opts) =>
      (await import('./commands/endpoints.ts')).endpointsCommand(ctx, service, opts),
    ),
  );

  const devcluster = withCommands(
    program
      .command('devcluster')
      .description('the embedded one-machine cluster: a Mesos face and a Kubernetes face on this machine'),
  );
  const stateDirHelp = 'pid file, log, kubeconfig and sandboxes (default $XDG_STATE_HOME/berth/devcluster)';
  withCommands(
    devcluster
      .command('up')
      .description('start the devcluster and add the contexts devcluster-mesos and devcluster-k8s')
      .option('-d, --detach', 'run in the background (pid file and log under the state dir)')
      .option('--preset <preset>', 'laptop (3 nodes), rack (200) or large (5,000)', 'laptop')
      .option('--mesos-port <port>', 'port of the Mesos face (0: a free one)', '5050')
      .option('--kube-port <port>', 'port of the Kubernetes face (0: a free one)', '0')
      .option('--state-dir <dir>', stateDirHelp)
      .option('--timeout <duration>', 'with --detach: how long to wait for the faces to answer', '60s'),
  ).action(run(async (ctx, opts) => (await import('./commands/devcluster.ts')).devclusterUp(ctx, opts)));
  withCommands(
    devcluster
      .command('down')
      .description('stop the detached devcluster (SIGTERM, then SIGKILL after --timeout)')
      .option('--state-dir <dir>', stateDirHelp)
      .option('--timeout <duration>', 'how long to wait before SIGKILL', '20s'),
  ).action(run(async (ctx, opts) => (await import('./commands/devcluster.ts')).devclusterDown(ctx, opts)));
  withCommands(
    devcluster
      .command('status')
      .description('is the devcluster running, do its faces answer, how many nodes')
      .option('--state-dir <dir>', stateDirHelp)
      .option('-o, --output <format>', 'table, json or yaml'),
  ).action(run(async (ctx, opts) => (await import('./commands/devcluster.ts')).devclusterStatus(ctx, opts)));
  withCommands(
    devcluster
      .command('kubeconfig')
      .description("print the path of the devcluster's kubeconfig (and how to point kubectl at it)")
      .option('--state-dir <dir>', stateDirHelp),
  ).action(
    run(async (ctx, opts) => (await import('./commands/devcluster.ts')).devclusterKubeconfig(ctx, opts)),
  );

  withCommands(program.command('schema').description('print the JSON Schema of Berth spec files')).action(
    run(async (ctx) => (await import('./commands/schema.ts')).schemaCommand(ctx)),
  );

  withCommands(
    program
      .command('completion')
      .description('print a shell completion script')
      .argument('<shell>', 'bash, zsh or fish')
      .addHelpText(
        'after',
        '\nInstall: berth completion bash > ~/.local/share/bash-completion/completions/berth',
      ),
  ).action(
    run(async (ctx, shell: string) =>
      (await import('./commands/completion.ts')).completionCommand(ctx, shell, program),
    ),
  );

  return program;
}

/** Run the CLI with `argv` (without node and script) and return the process exit code. */
export async function runCli(argv: readonly string[], io: ProgramIO = processIO): Promise<number> {
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
