/**
 * `pnpm start`: devcluster, both adapters, the example workloads and the dashboard, until Ctrl-C
 * (SIGINT) or SIGTERM stops all of it (exit code 0, no process left behind).
 *
 *   --mesos-port N      Mesos face port (default 5050; 0 picks a free one)
 *   --kube-port N       Kubernetes face port (default 6443 when free, else a free one)
 *   --dashboard-port N  dashboard port (default 8080 when free, else a free one)
 *   --task-ports N      first host port given to tasks (default 31000; 1000 per node)
 *   --state-dir DIR     where state and logs go (default .berth-state/quickstart, cleared per run)
 *   --simulated         simulate the examples' processes instead of running them
 */
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { BerthError, isBerthError } from '@berth/core';
import { QUICKSTART_CONTEXTS, type Quickstart, startQuickstart } from './quickstart.ts';

const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const DEFAULT_STATE_DIR = fileURLToPath(new URL('../../../../.berth-state/quickstart/', import.meta.url));
/** startDevcluster's options as this program's flags, for its errors. */
const FLAG_OF_OPTION: Readonly<Record<string, string>> = {
  mesosPort: '--mesos-port',
  kubePort: '--kube-port',
};
/** How long stopping may take before the program gives up waiting (it still exits). */
const STOP_DEADLINE_MS = 30_000;

function out(line = ''): void {
  process.stdout.write(`${line}\n`);
}

function port(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535) {
    throw new BerthError('SPEC_INVALID', `${flag} ${JSON.stringify(value)} is not a port`, {
      component: 'quickstart',
      hint: `Pass ${flag} with a number from 0 to 65535 (0 picks a free port).`,
    });
  }
  return n;
}

/** A path as the user types it from the repository root (where `pnpm start` runs). */
function shown(path: string): string {
  const rel = relative(REPO_ROOT, path);
  return rel.startsWith('..') || rel === '' ? path : rel;
}

/** The CLI from source, run by this Node with the flags the quick start itself got (no build needed). */
function berthCommand(): string {
  return ['node', ...process.execArgv, 'packages/cli/src/bin.ts'].join(' ');
}

function summary(qs: Quickstart): string {
  const dc = qs.devcluster;
  const cfg = shown(qs.berthConfigPath);
  const kubeconfig = shown(dc.kubeconfigPath);
  const pending = qs.submitted.flatMap((s) =>
    s.unplaceable.map((u) => `${u.taskId} (${s.context}): ${u.message}`),
  );
  return [
    '',
    `Berth is running. Dashboard: ${qs.dashboard.url}`,
    '',
    `  ${QUICKSTART_CONTEXTS.mesos.padEnd(17)} Mesos face       ${dc.mesos.url}`,
    `  ${QUICKSTART_CONTEXTS.kubernetes.padEnd(17)} Kubernetes face  ${dc.kube.url}  (Berth scheduler mode)`,
    '',
    '  Running: the web service (3 replicas) and the crunch gang job on both backends;',
    '  pending on purpose, with the engine’s explanation:',
    ...[...new Set(pending)].map((p) => `    ${p}`),
    '',
    'Try next, in another terminal from this directory:',
    `  export BERTH_CONFIG=${cfg}`,
    `  alias berth='${berthCommand()}'`,
    `  berth --context ${QUICKSTART_CONTEXTS.kubernetes} get tasks`,
    `  berth --context ${QUICKSTART_CONTEXTS.kubernetes} describe task too-big`,
    `  berth --context ${QUICKSTART_CONTEXTS.mesos} get nodes`,
    `  berth --context ${QUICKSTART_CONTEXTS.mesos} plan -f examples/quickstart/too-big.yaml`,
    `  kubectl --kubeconfig ${kubeconfig} get deployments,jobs,pods -o wide`,
    `  curl -s ${qs.dashboard.url}api/contexts/${QUICKSTART_CONTEXTS.mesos}/services/web/endpoints`,
    '',
    'Press Ctrl-C to stop everything.',
  ].join('\n');
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      'mesos-port': { type: 'string' },
      'kube-port': { type: 'string' },
      'dashboard-port': { type: 'string' },
      'task-ports': { type: 'string' },
      'state-dir': { type: 'string' },
      simulated: { type: 'boolean', default: false },
    },
    strict: true,
  });
  const mesosPort = port('--mesos-port', values['mesos-port']);
  const kubePort = port('--kube-port', values['kube-port']);
  const dashboardPort = port('--dashboard-port', values['dashboard-port']);
  const taskPorts = port('--task-ports', values['task-ports']);

  const aborter = new AbortController();
  let starting: Promise<Quickstart> | undefined;
  let stopping: Promise<number> | undefined;
  const stop = (why: string): Promise<number> => {
    stopping ??= (async () => {
      aborter.abort();
      out(`\n${why}: stopping the dashboard, both adapters and devcluster…`);
      const deadline = setTimeout(() => {
        process.stderr.write('error: stopping took longer than 30 s; exiting anyway\n');
        process.exit(1);
      }, STOP_DEADLINE_MS);
      deadline.unref();
      try {
        // Interrupted while starting: the start-up stops what it began; wait for that.
        const qs = await starting?.catch(() => undefined);
        await qs?.close();
        out('stopped: no task process is left.');
        return 0;
      } catch (error) {
        process.stderr.write(`error while stopping: ${(error as Error).message}\n`);
        return 1;
      } finally {
        clearTimeout(deadline);
      }
    })();
    return stopping;
  };
  const exitAfter = (why: string) => () => {
    void stop(why).then((code) => process.exit(code));
  };
  process.on('SIGINT', exitAfter('Ctrl-C'));
  process.on('SIGTERM', exitAfter('SIGTERM'));

  out('Berth quick start');
  let started: Quickstart;
  try {
    starting = startQuickstart({
      stateDir: values['state-dir'] ?? DEFAULT_STATE_DIR,
      ...(mesosPort === undefined ? {} : { mesosPort }),
      ...(kubePort === undefined ? {} : { kubePort }),
      ...(dashboardPort === undefined ? {} : { dashboardPort }),
      ...(taskPorts === undefined ? {} : { taskPorts }),
      processes: !values.simulated,
      signal: aborter.signal,
      onProgress: (line) => out(line),
    });
    started = await starting;
  } catch (error) {
    if (stopping !== undefined) return await stopping;
    throw error;
  }
  if (stopping !== undefined) {
    // A signal came while the last step finished: close what started.
    return await stop('stopping');
  }
  out(summary(started));
  // Keep running until a signal's handler exits the process.
  return await new Promise<number>(() => {});
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (isBerthError(error)) {
      process.stderr.write(`error: ${error.message.replace(/^\[berth\] (\[[^\]]+\] )?/, '')}\n`);
      const flag = FLAG_OF_OPTION[String(error.details.option)];
      if (error.code === 'CONFLICT' && flag !== undefined) {
        // A busy port: name this program's flag rather than the library option.
        process.stderr.write(
          `hint: stop what listens on port ${String(error.details.port)}, or run pnpm start ${flag} <port> (0 picks a free one)\n`,
        );
      } else if (error.hint !== undefined) process.stderr.write(`hint: ${error.hint}\n`);
    } else {
      process.stderr.write(
        `error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
    }
    process.exit(1);
  },
);
