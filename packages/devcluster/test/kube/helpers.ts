import { execFile } from 'node:child_process';
import { request as httpsRequest } from 'node:https';
import type { KubeApiServer } from '../../src/index.ts';

export interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Run the real kubectl against a kubeconfig; never throws for a non-zero exit. */
export function kubectl(
  kubeconfig: string,
  cacheDir: string,
  args: readonly string[],
): Promise<CommandResult> {
  return new Promise((resolve) => {
    execFile(
      'kubectl',
      ['--kubeconfig', kubeconfig, '--cache-dir', cacheDir, '--request-timeout=10s', ...args],
      { timeout: 20_000, env: { ...process.env, KUBECONFIG: '' } },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

export interface HttpResult {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
  json(): Record<string, unknown>;
}

/** One HTTPS request to the server, trusting its CA. */
export function call(
  server: KubeApiServer,
  method: string,
  path: string,
  options: { body?: unknown; token?: string | null; contentType?: string; accept?: string } = {},
): Promise<HttpResult> {
  const url = new URL(path, server.url);
  const token = options.token === undefined ? server.token : options.token;
  const body = options.body === undefined ? undefined : JSON.stringify(options.body);
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      url,
      {
        method,
        ca: server.caPem,
        headers: {
          ...(token === null ? {} : { Authorization: `Bearer ${token}` }),
          ...(body === undefined ? {} : { 'Content-Type': options.contentType ?? 'application/json' }),
          ...(options.accept === undefined ? {} : { Accept: options.accept }),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text,
            json: () => JSON.parse(text) as Record<string, unknown>,
          });
        });
      },
    );
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/** Poll until `check` returns true (or fail after `ms`). */
export async function eventually(check: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`condition not met within ${ms} ms`);
}
