/**
 * Container probes as the kubelet runs them: exec (exit code 0 succeeds), httpGet (status
 * 200–399 succeeds) and tcpSocket (a connection succeeds), each bounded by `timeoutSeconds`, and
 * the schedule around them (initialDelaySeconds, periodSeconds, success/failureThreshold).
 */
import { execFile } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import type { V1Probe } from '@kubernetes/client-node';

export interface ProbeResult {
  readonly ok: boolean;
  readonly message: string;
}

export interface ProbeTarget {
  /** Resolves a probe's `port` (a number or a container port's name) to the host port to dial. */
  resolvePort(port: number | string): number | undefined;
  /** Environment for exec probes (the container's). */
  readonly env: Readonly<Record<string, string>>;
  /** Working directory for exec probes. */
  readonly cwd?: string;
}

/** Runs one probe attempt. */
export async function runProbe(probe: V1Probe, target: ProbeTarget): Promise<ProbeResult> {
  const timeoutMs = Math.max(1, probe.timeoutSeconds ?? 1) * 1000;
  if (probe.exec !== undefined) {
    const [file, ...args] = probe.exec.command ?? [];
    if (file === undefined) return { ok: false, message: 'exec probe has no command' };
    return new Promise((resolve) => {
      execFile(
        file,
        args,
        {
          timeout: timeoutMs,
          env: { ...process.env, ...target.env },
          ...(target.cwd === undefined ? {} : { cwd: target.cwd }),
        },
        (error, stdout, stderr) => {
          if (error === null) resolve({ ok: true, message: '' });
          else {
            const out = `${stdout}${stderr}`.trim();
            resolve({ ok: false, message: out === '' ? error.message : out });
          }
        },
      );
    });
  }
  if (probe.httpGet !== undefined) {
    const get = probe.httpGet;
    const port = target.resolvePort(get.port);
    if (port === undefined) return { ok: false, message: `unknown port ${JSON.stringify(get.port)}` };
    const https = (get.scheme ?? 'HTTP').toUpperCase() === 'HTTPS';
    const host = get.host === undefined || get.host === '' ? '127.0.0.1' : get.host;
    const headers: Record<string, string> = { 'User-Agent': 'kube-probe/1.32' };
    for (const h of get.httpHeaders ?? []) headers[h.name] = h.value;
    return new Promise((resolve) => {
      const request = https ? httpsRequest : httpRequest;
      const req = request(
        {
          host,
          port,
          path: get.path ?? '/',
          method: 'GET',
          headers,
          timeout: timeoutMs,
          rejectUnauthorized: false,
        },
        (res) => {
          res.resume();
          const code = res.statusCode ?? 0;
          resolve(
            code >= 200 && code < 400
              ? { ok: true, message: '' }
              : { ok: false, message: `HTTP probe failed with statuscode: ${code}` },
          );
        },
      );
      req.on('timeout', () => req.destroy(new Error(`Get "${host}:${port}": context deadline exceeded`)));
      req.on('error', (e) => resolve({ ok: false, message: e.message }));
      req.end();
    });
  }
  if (probe.tcpSocket !== undefined) {
    const port = target.resolvePort(probe.tcpSocket.port);
    if (port === undefined)
      return { ok: false, message: `unknown port ${JSON.stringify(probe.tcpSocket.port)}` };
    const host =
      probe.tcpSocket.host === undefined || probe.tcpSocket.host === '' ? '127.0.0.1' : probe.tcpSocket.host;
    return new Promise((resolve) => {
      const socket = connect({ host, port, timeout: timeoutMs });
      socket.once('connect', () => {
        socket.destroy();
        resolve({ ok: true, message: '' });
      });
      socket.once('timeout', () => {
        socket.destroy();
        resolve({ ok: false, message: `dial tcp ${host}:${port}: i/o timeout` });
      });
      socket.once('error', (e) => resolve({ ok: false, message: e.message }));
    });
  }
  return { ok: false, message: 'probe has no handler (exec, httpGet or tcpSocket)' };
}

/**
 * Runs a probe on its schedule and reports each change of its verdict. The verdict starts
 * unknown (`undefined`): readiness treats that as not ready, liveness as alive.
 */
export class ProbeLoop {
  readonly #probe: V1Probe;
  readonly #target: ProbeTarget;
  readonly #onChange: (ok: boolean, message: string) => void;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;
  #successes = 0;
  #failures = 0;
  #verdict: boolean | undefined;

  constructor(probe: V1Probe, target: ProbeTarget, onChange: (ok: boolean, message: string) => void) {
    this.#probe = probe;
    this.#target = target;
    this.#onChange = onChange;
  }

  get verdict(): boolean | undefined {
    return this.#verdict;
  }

  start(): void {
    this.#schedule((this.#probe.initialDelaySeconds ?? 0) * 1000);
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => void this.#tick(), ms);
    this.#timer.unref?.();
  }

  async #tick(): Promise<void> {
    const result = await runProbe(this.#probe, this.#target);
    if (this.#stopped) return;
    if (result.ok) {
      this.#failures = 0;
      this.#successes++;
      if (this.#verdict !== true && this.#successes >= Math.max(1, this.#probe.successThreshold ?? 1)) {
        this.#verdict = true;
        this.#onChange(true, '');
      }
    } else {
      this.#successes = 0;
      this.#failures++;
      if (this.#verdict !== false && this.#failures >= Math.max(1, this.#probe.failureThreshold ?? 3)) {
        this.#verdict = false;
        this.#onChange(false, result.message);
      }
    }
    this.#schedule(Math.max(1, this.#probe.periodSeconds ?? 10) * 1000);
  }
}
