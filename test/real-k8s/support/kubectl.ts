/** The real kubectl (1.32) against a kubeconfig: exit code, stdout and stderr, never a throw. */
import { execFile } from 'node:child_process';

export interface KubectlResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface KubectlOptions {
  /** Replace the kubeconfig's credentials with this bearer token. */
  readonly token?: string;
  /** Written to kubectl's stdin (for `-f -`). */
  readonly input?: string;
  readonly timeoutMs?: number;
}

export function kubectl(
  kubeconfig: string,
  args: readonly string[],
  options: KubectlOptions = {},
): Promise<KubectlResult> {
  const auth = options.token === undefined ? [] : ['--token', options.token];
  return new Promise((resolve) => {
    const child = execFile(
      'kubectl',
      ['--kubeconfig', kubeconfig, '--request-timeout=20s', ...auth, ...args],
      { timeout: options.timeoutMs ?? 30_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

/** stdout of a kubectl call that must succeed. */
export async function kubectlOk(
  kubeconfig: string,
  args: readonly string[],
  options?: KubectlOptions,
): Promise<string> {
  const result = await kubectl(kubeconfig, args, options);
  if (result.code !== 0) {
    throw new Error(`kubectl ${args.join(' ')} exited ${result.code}: ${result.stderr.trim()}`);
  }
  return result.stdout;
}
