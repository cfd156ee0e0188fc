/** Runs the dashboard on a real socket: 127.0.0.1 unless asked otherwise, with a token beyond it. */
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { BerthError } from '@berth/core';
import { serve } from '@hono/node-server';
import { createDashboardApp, type DashboardApp, type DashboardOptions } from './app.ts';
import { isLoopbackHost } from './security.ts';

export interface StartDashboardOptions extends Omit<DashboardOptions, 'version'> {
  /** Interface to listen on (default `127.0.0.1`). Anything but loopback needs `token`. */
  readonly host?: string;
  /** TCP port (default 0: any free port). */
  readonly port?: number;
  /** Reported by /api/health (default this package's version). */
  readonly version?: string;
}

export interface RunningDashboard {
  /** The base URL, e.g. `http://127.0.0.1:7070/` (never contains the token). */
  readonly url: string;
  readonly app: DashboardApp;
  /** Stops listening and ends the dashboard's watches (the adapters stay open). */
  close(): Promise<void>;
}

/** Where `vite build` puts the single-page app, relative to this file (src/server or dist/server). */
export const DEFAULT_STATIC_DIR: string = fileURLToPath(new URL('../../dist/web/', import.meta.url));

export async function startDashboard(options: StartDashboardOptions = {}): Promise<RunningDashboard> {
  const host = options.host ?? '127.0.0.1';
  const token = options.token === '' ? undefined : options.token;
  if (!isLoopbackHost(host) && token === undefined) {
    throw new BerthError('SPEC_INVALID', `host: listening on ${host} requires a token`, {
      component: 'dashboard',
      issues: [{ path: 'token', message: `required when host is not loopback (${host})` }],
      hint: 'Pass a token (e.g. from `openssl rand -hex 32`), or keep the default host 127.0.0.1.',
    });
  }
  if (
    options.port !== undefined &&
    (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535)
  ) {
    throw new BerthError('SPEC_INVALID', `port: must be an integer from 0 to 65535, got ${options.port}`, {
      component: 'dashboard',
      issues: [{ path: 'port', message: 'must be an integer from 0 to 65535' }],
    });
  }
  const app = createDashboardApp({
    ...options,
    version: options.version ?? '0.0.0',
    staticDir: options.staticDir ?? DEFAULT_STATIC_DIR,
  });
  const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, hostname: host, port: options.port ?? 0 }, () => resolve(s));
    s.once('error', reject);
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  let closed: Promise<void> | undefined;
  return {
    url: `http://${shownHost}:${address.port}/`,
    app,
    close() {
      closed ??= (async () => {
        await app.close();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          if ('closeAllConnections' in server) server.closeAllConnections();
        });
      })();
      return closed;
    },
  };
}
