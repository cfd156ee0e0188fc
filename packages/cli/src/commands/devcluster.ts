/**
 * `berth devcluster up|down|status|kubeconfig`: the embedded one-machine cluster, in the
 * foreground (Ctrl-C stops everything) or detached with a pid file and a log file under the state
 * directory (default `$XDG_STATE_HOME/berth/devcluster`).
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { join, resolve } from 'node:path';
import { BerthError, type BerthErrorIssue } from '@berth/core';
import { parse } from 'yaml';
import { stateHome } from '../backends/mesos.ts';
import type { CommandContext } from '../command-context.ts';
import {
  type BerthConfig,
  type ContextConfig,
  configPath,
  loadConfig,
  saveConfig,
  validateContext,
} from '../config/config-file.ts';
import type { ResolvedIO } from '../io.ts';
import { parseDuration } from '../output/age.ts';
import { parseOutputFormat, printMachine } from '../output/format.ts';

export const DEVCLUSTER_MESOS_CONTEXT = 'devcluster-mesos';
export const DEVCLUSTER_K8S_CONTEXT = 'devcluster-k8s';
/** Set in the environment of the background process `up --detach` starts. */
const DETACHED_ENV = 'BERTH_DEVCLUSTER_DETACHED';

/** What the pid file holds (JSON). */
export interface DevclusterRecord {
  readonly pid: number;
  readonly detached: boolean;
  readonly startedAt: string;
  readonly preset: string;
  readonly mesosUrl: string;
  readonly kubeUrl: string;
  readonly kubeconfig: string;
  readonly stateDir: string;
  readonly logFile?: string;
}

export interface DevclusterUpOptions {
  readonly detach?: boolean;
  readonly preset: string;
  readonly mesosPort: string;
  readonly kubePort: string;
  readonly stateDir?: string;
  readonly timeout: string;
}

const cli = { component: 'cli' } as const;

export function devclusterStateDir(io: Pick<ResolvedIO, 'env' | 'cwd'>, flag: string | undefined): string {
  if (flag !== undefined && flag !== '') return resolve(io.cwd, flag);
  return join(stateHome(io.env), 'berth', 'devcluster');
}

const pidFileOf = (dir: string) => join(dir, 'devcluster.pid');

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function readRecord(dir: string): Promise<DevclusterRecord | undefined> {
  let text: string;
  try {
    text = await readFile(pidFileOf(dir), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const r = JSON.parse(text) as DevclusterRecord;
    if (Number.isInteger(r.pid) && r.pid > 0) return r;
  } catch {
    // fall through: an unreadable pid file is stale
  }
  return { pid: 0 } as DevclusterRecord;
}

function parsePort(value: string, flag: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535) {
    throw new BerthError('SPEC_INVALID', `${flag}: ${JSON.stringify(value)} is not a port number`, {
      ...cli,
      hint: `Give ${flag} a port from 1 to 65535, or 0 for a free one.`,
    });
  }
  return n;
}

/** Adds or refreshes the two devcluster contexts (and makes one current when none is). */
async function writeContexts(io: ResolvedIO, mesosUrl: string, kubeconfig: string): Promise<string> {
  const path = configPath(io.env, io.cwd);
  const config: BerthConfig = await loadConfig(path);
  const issues: BerthErrorIssue[] = [];
  const mesos = validateContext(
    { backend: 'mesos', masters: [mesosUrl] },
    `contexts.${DEVCLUSTER_MESOS_CONTEXT}`,
    issues,
  );
  const k8s = validateContext(
    { backend: 'kubernetes', kubeconfig, context: 'devcluster', mode: 'berth' },
    `contexts.${DEVCLUSTER_K8S_CONTEXT}`,
    issues,
  );
  if (mesos === undefined || k8s === undefined) {
    throw new BerthError('INTERNAL', 'the devcluster contexts did not validate', { ...cli, issues });
  }
  const contexts: Record<string, ContextConfig> = {
    ...config.contexts,
    [DEVCLUSTER_MESOS_CONTEXT]: mesos,
    [DEVCLUSTER_K8S_CONTEXT]: k8s,
  };
  await saveConfig(path, {
    contexts,
    currentContext: config.currentContext ?? DEVCLUSTER_MESOS_CONTEXT,
  });
  return path;
}

/** Refuses to start over a live devcluster; removes a stale pid file (saying so). */
async function checkNotRunning(io: ResolvedIO, dir: string): Promise<void> {
  const record = await readRecord(dir);
  if (record === undefined) return;
  if (record.pid !== 0 && record.pid !== process.pid && isAlive(record.pid)) {
    throw new BerthError(
      'CONFLICT',
      `a devcluster is already running (pid ${record.pid}, started ${record.startedAt}, Mesos ${record.mesosUrl})`,
      {
        ...cli,
        hint: `Stop it with berth devcluster down, or start another one with --state-dir DIR and other ports.`,
        details: { pid: record.pid, stateDir: dir },
      },
    );
  }
  await rm(pidFileOf(dir), { force: true });
  io.stderr(`note: removed a stale pid file ${pidFileOf(dir)} (pid ${record.pid || '?'} is not running)\n`);
}

export async function devclusterUp(ctx: CommandContext, opts: DevclusterUpOptions): Promise<void> {
  const io = ctx.io;
  const { DEVCLUSTER_PRESETS } = await import('../devcluster/start-devcluster.ts');
  const preset = opts.preset as (typeof DEVCLUSTER_PRESETS)[number];
  if (!DEVCLUSTER_PRESETS.includes(preset)) {
    throw new BerthError('SPEC_INVALID', `--preset: unknown preset ${JSON.stringify(opts.preset)}`, {
      ...cli,
      hint: `Use one of ${DEVCLUSTER_PRESETS.join(', ')} (laptop: 3 nodes splitting this machine).`,
    });
  }
  const mesosPort = parsePort(opts.mesosPort, '--mesos-port');
  const kubePort = parsePort(opts.kubePort, '--kube-port');
  const timeoutMs = parseDuration(opts.timeout);
  if (timeoutMs === undefined || timeoutMs <= 0) {
    throw new BerthError(
      'SPEC_INVALID',
      `--timeout: cannot read ${JSON.stringify(opts.timeout)} as a duration`,
      {
        ...cli,
        hint: 'Write a duration such as 30s or 2m.',
      },
    );
  }
  const dir = devclusterStateDir(io, opts.stateDir);
  const background = io.env[DETACHED_ENV] === '1';
  await mkdir(dir, { recursive: true, mode: 0o700 });
  if (!background) await checkNotRunning(io, dir);
  if (opts.detach && !background) return detach(ctx, dir, opts, mesosPort, kubePort, timeoutMs);

  // A fresh cluster: the previous run's objects, sandboxes and framework state are forgotten.
  await rm(join(dir, 'kube'), { recursive: true, force: true });
  await rm(join(dir, 'engine'), { recursive: true, force: true });
  const { mesosStateFile } = await import('../backends/mesos.ts');
  const frameworkState = mesosStateFile(DEVCLUSTER_MESOS_CONTEXT, io.env);
  for (const suffix of ['', '-wal', '-shm', '-journal'])
    await rm(`${frameworkState}${suffix}`, { force: true });

  const { startDevcluster } = await import('../devcluster/start-devcluster.ts');
  const dc = await startDevcluster({ preset, mesosPort, kubePort, stateDir: dir });
  let stopping: Promise<void> | undefined;
  const stopAll = () => {
    stopping ??= (async () => {
      await dc.stop();
      const r = await readRecord(dir);
      if (r?.pid === process.pid) await rm(pidFileOf(dir), { force: true });
    })();
    return stopping;
  };
  const stopped = new Promise<void>((resolveStop) => {
    const onSignal = () => {
      void stopAll().then(resolveStop);
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGHUP', onSignal);
    if (io.signal !== undefined) io.signal.addEventListener('abort', onSignal, { once: true });
    else process.once('SIGINT', onSignal);
  });
  try {
    const configFile = await writeContexts(io, dc.mesos.url, dc.kubeconfigPath);
    const record: DevclusterRecord = {
      pid: process.pid,
      detached: background,
      startedAt: new Date().toISOString(),
      preset,
      mesosUrl: dc.mesos.url,
      kubeUrl: dc.kube.url,
      kubeconfig: dc.kubeconfigPath,
      stateDir: dir,
      ...(background ? { logFile: join(dir, 'devcluster.log') } : {}),
    };
    await writeFile(pidFileOf(dir), `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
    io.stdout(summary(record, dc.engine.nodes().length, configFile));
    io.stdout(background ? 'Running in the background.\n' : 'Press Ctrl-C to stop it.\n');
  } catch (err) {
    await stopAll();
    throw err;
  }
  await stopped;
  io.stdout('devcluster stopped\n');
}

function summary(r: DevclusterRecord, nodes: number, configFile: string): string {
  return `devcluster is up (${r.preset} preset, ${nodes} nodes, pid ${r.pid})
  Mesos face:       ${r.mesosUrl}   context ${DEVCLUSTER_MESOS_CONTEXT}
  Kubernetes face:  ${r.kubeUrl}   context ${DEVCLUSTER_K8S_CONTEXT} (Berth scheduler mode)
  kubeconfig:       ${r.kubeconfig}
  contexts written: ${configFile}
Try:
  berth --context ${DEVCLUSTER_MESOS_CONTEXT} get nodes
  export KUBECONFIG=${r.kubeconfig}; kubectl get nodes
`;
}

async function detach(
  ctx: CommandContext,
  dir: string,
  opts: DevclusterUpOptions,
  mesosPort: number,
  kubePort: number,
  timeoutMs: number,
): Promise<void> {
  const io = ctx.io;
  const { checkPortFree } = await import('../devcluster/start-devcluster.ts');
  await checkPortFree('127.0.0.1', mesosPort, 'Mesos face', '--mesos-port');
  await checkPortFree('127.0.0.1', kubePort, 'Kubernetes face', '--kube-port');
  const logFile = join(dir, 'devcluster.log');
  const fd = openSync(logFile, 'w', 0o600);
  const script = process.argv[1];
  if (script === undefined) throw new BerthError('INTERNAL', 'cannot tell which script to start again', cli);
  const args = [
    ...process.execArgv,
    script,
    ...(ctx.globals.context === undefined ? [] : ['--context', ctx.globals.context]),
    'devcluster',
    'up',
    '--preset',
    opts.preset,
    '--mesos-port',
    String(mesosPort),
    '--kube-port',
    String(kubePort),
    '--state-dir',
    dir,
  ];
  const child = spawn(process.execPath, args, {
    cwd: io.cwd,
    env: { ...io.env, [DETACHED_ENV]: '1' },
    detached: true,
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  let exited: number | null | undefined;
  child.once('exit', (code) => {
    exited = code;
  });
  child.unref();
  const pid = child.pid;
  if (pid === undefined) throw new BerthError('INTERNAL', 'the background devcluster did not start', cli);
  const end = Date.now() + timeoutMs;
  for (;;) {
    const r = await readRecord(dir);
    if (r?.pid === pid && (await mesosAgents(r.mesosUrl)) !== undefined) {
      io.stdout(summary(r, (await mesosAgents(r.mesosUrl)) ?? 0, configPath(io.env, io.cwd)));
      io.stdout(`Running in the background; log ${logFile}. Stop it with berth devcluster down.\n`);
      return;
    }
    if (exited !== undefined) {
      const log = await readFile(logFile, 'utf8').catch(() => '');
      const first = log.split('\n').find((l) => l.startsWith('error: ')) ?? `exit code ${exited}`;
      throw new BerthError(
        'BACKEND_UNAVAILABLE',
        `the background devcluster stopped: ${first.replace(/^error: /, '')}`,
        {
          ...cli,
          hint: `See ${logFile}${/--mesos-port|--kube-port/.test(log) ? ' (a port is taken: change it with the flag named there)' : ''}.`,
          details: { logFile },
        },
      );
    }
    if (Date.now() > end) {
      process.kill(pid, 'SIGTERM');
      throw new BerthError(
        'TIMEOUT',
        `the background devcluster did not answer within ${timeoutMs / 1000}s`,
        {
          ...cli,
          hint: `See ${logFile}; raise --timeout on a slow machine.`,
        },
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The number of agents the Mesos face reports, or undefined when it does not answer. */
async function mesosAgents(url: string): Promise<number | undefined> {
  try {
    const res = await fetch(`${url}/api/v1`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify({ type: 'GET_AGENTS' }),
      signal: AbortSignal.timeout(2000),
    });
    if (!res.ok) return undefined;
    const body = (await res.json()) as { get_agents?: { agents?: unknown[] } };
    return body.get_agents?.agents?.length ?? 0;
  } catch {
    return undefined;
  }
}

/** The number of Nodes the Kubernetes face lists, through the kubeconfig's CA and token. */
async function kubeNodes(kubeconfig: string): Promise<number | undefined> {
  try {
    const kc = parse(await readFile(kubeconfig, 'utf8')) as {
      clusters?: { cluster?: { server?: string; 'certificate-authority-data'?: string } }[];
      users?: { user?: { token?: string } }[];
    };
    const cluster = kc.clusters?.[0]?.cluster;
    const token = kc.users?.[0]?.user?.token;
    if (cluster?.server === undefined) return undefined;
    const ca = cluster['certificate-authority-data'];
    return await new Promise<number | undefined>((done) => {
      const req = httpsRequest(
        `${cluster.server}/api/v1/nodes`,
        {
          headers: { Accept: 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
          ...(ca === undefined ? {} : { ca: Buffer.from(ca, 'base64') }),
          timeout: 2000,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            if (res.statusCode !== 200) return done(undefined);
            try {
              done(
                (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { items?: unknown[] }).items?.length ??
                  0,
              );
            } catch {
              done(undefined);
            }
          });
        },
      );
      req.on('error', () => done(undefined));
      req.on('timeout', () => req.destroy());
      req.end();
    });
  } catch {
    return undefined;
  }
}

function notRunning(dir: string): BerthError {
  return new BerthError('NOT_FOUND', `no devcluster is running (no pid file in ${dir})`, {
    ...cli,
    hint: 'Start one with berth devcluster up (add --detach to keep it in the background).',
  });
}

export async function devclusterStatus(
  ctx: CommandContext,
  opts: { stateDir?: string; output?: string },
): Promise<void> {
  const format = parseOutputFormat(opts.output, ['table', 'json', 'yaml']);
  const dir = devclusterStateDir(ctx.io, opts.stateDir);
  const r = await readRecord(dir);
  if (r === undefined) throw notRunning(dir);
  const alive = r.pid !== 0 && isAlive(r.pid);
  const [agents, nodes] = alive
    ? await Promise.all([mesosAgents(r.mesosUrl), kubeNodes(r.kubeconfig)])
    : [undefined, undefined];
  const status = {
    apiVersion: 'berth.dev/v1',
    kind: 'DevclusterStatus',
    running: alive,
    pid: r.pid,
    stateDir: dir,
    ...(alive ? {} : { stalePidFile: pidFileOf(dir) }),
    startedAt: r.startedAt,
    detached: r.detached,
    mesos: { url: r.mesosUrl, answering: agents !== undefined, agents: agents ?? 0 },
    kubernetes: {
      url: r.kubeUrl,
      answering: nodes !== undefined,
      nodes: nodes ?? 0,
      kubeconfig: r.kubeconfig,
    },
  };
  if (!printMachine(format, status, ctx.io.stdout)) {
    const face = (ok: boolean, n: number | undefined, what: string) =>
      ok ? `answering, ${n} ${what}` : 'not answering';
    ctx.io.stdout(
      alive
        ? `devcluster: running (pid ${r.pid}${r.detached ? ', detached' : ''}, since ${r.startedAt})
  Mesos face:       ${r.mesosUrl}   ${face(agents !== undefined, agents, 'agents')}
  Kubernetes face:  ${r.kubeUrl}   ${face(nodes !== undefined, nodes, 'nodes')}
  kubeconfig:       ${r.kubeconfig}
`
        : `devcluster: not running (the pid file ${pidFileOf(dir)} names pid ${r.pid || '?'}, which is gone)\n`,
    );
  }
  if (!alive) {
    throw new BerthError('BACKEND_UNAVAILABLE', `the devcluster of ${dir} is not running (stale pid file)`, {
      ...cli,
      hint: 'berth devcluster down removes the stale pid file; berth devcluster up starts a new one.',
    });
  }
  if (agents === undefined || nodes === undefined) {
    throw new BerthError(
      'BACKEND_UNAVAILABLE',
      `the devcluster (pid ${r.pid}) runs but a face does not answer`,
      {
        ...cli,
        hint: `See ${r.logFile ?? 'its terminal'}; berth devcluster down stops it.`,
      },
    );
  }
}

export async function devclusterDown(
  ctx: CommandContext,
  opts: { stateDir?: string; timeout: string },
): Promise<void> {
  const timeoutMs = parseDuration(opts.timeout);
  if (timeoutMs === undefined || timeoutMs <= 0) {
    throw new BerthError(
      'SPEC_INVALID',
      `--timeout: cannot read ${JSON.stringify(opts.timeout)} as a duration`,
      {
        ...cli,
        hint: 'Write a duration such as 10s or 1m.',
      },
    );
  }
  const dir = devclusterStateDir(ctx.io, opts.stateDir);
  const r = await readRecord(dir);
  if (r === undefined) throw notRunning(dir);
  if (r.pid === 0 || !isAlive(r.pid)) {
    await rm(pidFileOf(dir), { force: true });
    ctx.io.stdout(`devcluster was not running (pid ${r.pid || '?'} is gone); removed the stale pid file\n`);
    return;
  }
  process.kill(r.pid, 'SIGTERM');
  const end = Date.now() + timeoutMs;
  while (isAlive(r.pid) && Date.now() < end) await new Promise((res) => setTimeout(res, 50));
  let forced = false;
  if (isAlive(r.pid)) {
    forced = true;
    try {
      process.kill(r.detached ? -r.pid : r.pid, 'SIGKILL');
    } catch {
      process.kill(r.pid, 'SIGKILL');
    }
    while (isAlive(r.pid)) await new Promise((res) => setTimeout(res, 20));
  }
  await rm(pidFileOf(dir), { force: true });
  ctx.io.stdout(
    forced
      ? `devcluster (pid ${r.pid}) did not stop within ${timeoutMs / 1000}s and was killed\n`
      : `devcluster (pid ${r.pid}) stopped\n`,
  );
}

export async function devclusterKubeconfig(ctx: CommandContext, opts: { stateDir?: string }): Promise<void> {
  const dir = devclusterStateDir(ctx.io, opts.stateDir);
  const r = await readRecord(dir);
  const path = r?.kubeconfig ?? join(dir, 'kubeconfig');
  try {
    await readFile(path);
  } catch {
    throw new BerthError('NOT_FOUND', `no devcluster kubeconfig at ${path}`, {
      ...cli,
      hint: 'Start the devcluster first: berth devcluster up --detach.',
    });
  }
  ctx.io.stdout(`${path}\n`);
  ctx.io.stderr(
    `Point kubectl at it:\n  export KUBECONFIG=${path}\n  kubectl get nodes\n${r === undefined || !isAlive(r.pid) ? 'note: the devcluster is not running (berth devcluster up)\n' : ''}`,
  );
}
