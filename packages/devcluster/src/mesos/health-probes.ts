/**
 * The probes behind a Mesos health check for process-mode tasks, run on this machine as an agent
 * runs them: COMMAND (exit code 0, in the task's sandbox and environment), HTTP (a GET whose status
 * is 200–399, certificates not verified, as Mesos' `curl -k`) and TCP (the connection opens).
 */
import { spawn } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import type { HealthCheckSpec, HealthProbe } from './health-check.ts';

export interface ProbeTarget {
  /** Where the task's ports listen (its node's address, 127.0.0.1 by default). */
  readonly host: string;
  /** The task's sandbox: COMMAND checks run there. */
  readonly cwd: string | undefined;
  /** The task's environment: COMMAND checks get it, plus the check's own variables. */
  readonly env: Readonly<Record<string, string>>;
}

/** The probe a spec asks for, against a process task. */
export function probeFor(spec: HealthCheckSpec, target: ProbeTarget): HealthProbe {
  if (spec.command !== undefined) return commandProbe(spec.command, target);
  if (spec.http !== undefined) return httpProbe(target.host, spec.http);
  if (spec.tcp !== undefined) return tcpProbe(target.host, spec.tcp.port);
  return async () => false;
}

export function commandProbe(
  command: NonNullable<HealthCheckSpec['command']>,
  target: ProbeTarget,
): HealthProbe {
  return (signal) =>
    new Promise<boolean>((resolve) => {
      const [file, argv] = command.shell
        ? ['/bin/sh', ['-c', command.value]]
        : [command.value, command.arguments.slice(1)];
      const child = spawn(file, argv, {
        cwd: target.cwd,
        env: { ...target.env, ...command.env },
        stdio: 'ignore',
        detached: true,
      });
      const onAbort = () => {
        // The whole process group: a shell's children go too.
        if (child.pid !== undefined) {
          try {
            process.kill(-child.pid, 'SIGKILL');
          } catch {
            // already gone
          }
        }
      };
      signal.addEventListener('abort', onAbort, { once: true });
      child.once('error', () => {
        signal.removeEventListener('abort', onAbort);
        resolve(false);
      });
      child.once('exit', (code) => {
        signal.removeEventListener('abort', onAbort);
        resolve(code === 0);
      });
    });
}

export function httpProbe(host: string, http: NonNullable<HealthCheckSpec['http']>): HealthProbe {
  return (signal) =>
    new Promise<boolean>((resolve) => {
      const send = http.scheme === 'https' ? httpsRequest : httpRequest;
      const req = send(
        {
          host,
          port: http.port,
          path: http.path,
          method: 'GET',
          signal,
          agent: false,
          ...(http.scheme === 'https' ? { rejectUnauthorized: false } : {}),
        },
        (res) => {
          const code = res.statusCode ?? 0;
          res.resume();
          resolve(code >= 200 && code < 400);
        },
      );
      req.once('error', () => resolve(false));
      req.end();
    });
}

export function tcpProbe(host: string, port: number): HealthProbe {
  return (signal) =>
    new Promise<boolean>((resolve) => {
      const socket = connect({ host, port });
      const done = (ok: boolean) => {
        signal.removeEventListener('abort', onAbort);
        socket.destroy();
        resolve(ok);
      };
      const onAbort = () => done(false);
      signal.addEventListener('abort', onAbort, { once: true });
      socket.once('connect', () => done(true));
      socket.once('error', () => done(false));
    });
}
