import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Smoke checks of the real control plane that scripts/k8s-control-plane builds from Debian's
// kubernetes source (v1.20.2), driven with the real kubectl.
// Read once here; vitest runs at the root (not through turbo), so turbo.json need not list them.
const { BERTH_REAL_K8S_KUBECONFIG: kubeconfig, BERTH_REAL_K8S: mode, CI: ci } = process.env;
const required = ci !== undefined && mode === 'required';
const enabled = kubeconfig !== undefined || required;
const howToEnable =
  'needs BERTH_REAL_K8S_KUBECONFIG; enable with: scripts/k8s-control-plane build && ' +
  'scripts/k8s-control-plane up --dir <run dir> && ' +
  'BERTH_REAL_K8S_KUBECONFIG=<run dir>/kubeconfig pnpm test';

interface KubectlResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function kubectl(args: readonly string[], token?: string): Promise<KubectlResult> {
  const auth = token === undefined ? [] : ['--token', token];
  return new Promise((resolve) => {
    execFile(
      'kubectl',
      ['--kubeconfig', kubeconfig ?? '', '--request-timeout=20s', ...auth, ...args],
      { timeout: 30_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

async function kubectlOk(args: readonly string[]): Promise<string> {
  const result = await kubectl(args);
  if (result.code !== 0) {
    throw new Error(`kubectl ${args.join(' ')} exited ${result.code}: ${result.stderr.trim()}`);
  }
  return result.stdout;
}

async function kubectlJson<T>(args: readonly string[]): Promise<T> {
  return JSON.parse(await kubectlOk([...args, '-o', 'json'])) as T;
}

async function eventually<T>(what: string, probe: () => Promise<T | undefined>, seconds = 30): Promise<T> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${seconds} s waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

interface Named {
  readonly metadata: { readonly name: string };
}
interface PodCondition {
  readonly type: string;
  readonly status: string;
  readonly reason?: string;
}
interface Pod extends Named {
  readonly spec: { readonly nodeName?: string };
  readonly status: { readonly phase?: string; readonly conditions?: readonly PodCondition[] };
}

// Without a control plane this is the one (skipped) test, named after how to enable the suite; in CI
// with BERTH_REAL_K8S=required it runs and fails loudly when the kubeconfig is missing.
describe.skipIf(!enabled)('real Kubernetes control plane (real-k8s)', () => {
  it(howToEnable, () => {
    expect(kubeconfig, howToEnable).toBeDefined();
  });
});

if (enabled) {
  describe('real kube-apiserver v1.20.2 through kubectl', () => {
    const namespace = `berth-smoke-${Date.now().toString(36)}-${process.pid}`;

    beforeAll(async () => {
      if (kubeconfig === undefined) {
        throw new Error(
          `BERTH_REAL_K8S=required in CI, but BERTH_REAL_K8S_KUBECONFIG is unset. ${howToEnable}`,
        );
      }
      if (!existsSync(kubeconfig)) {
        throw new Error(
          `BERTH_REAL_K8S_KUBECONFIG=${kubeconfig} does not exist; is the control plane up? ${howToEnable}`,
        );
      }
      await kubectlOk(['create', 'namespace', namespace]);
      // The service account admission plugin admits pods once the controller-manager made "default".
      await eventually(`the default service account of ${namespace}`, async () =>
        (await kubectl(['get', 'serviceaccount', 'default', '-n', namespace])).code === 0 ? true : undefined,
      );
    });

    afterAll(async () => {
      if (kubeconfig !== undefined) await kubectl(['delete', 'namespace', namespace, '--wait=false']);
    });

    it('reports server gitVersion v1.20.2', async () => {
      const version = await kubectlJson<{ serverVersion?: { gitVersion?: string } }>(['version']);
      expect(version.serverVersion?.gitVersion).toBe('v1.20.2');
    });

    it('lists the built-in namespaces and the one the suite created', async () => {
      const list = await kubectlJson<{ items: readonly Named[] }>(['get', 'namespaces']);
      const names = list.items.map((ns) => ns.metadata.name);
      expect(names).toEqual(expect.arrayContaining(['default', 'kube-system', 'kube-public', namespace]));
    });

    it('creates, reads and deletes a ConfigMap', async () => {
      await kubectlOk([
        'create',
        'configmap',
        'smoke',
        '-n',
        namespace,
        '--from-literal=greeting=hello',
        '--from-literal=count=3',
      ]);
      const cm = await kubectlJson<{ data?: Record<string, string> }>([
        'get',
        'configmap',
        'smoke',
        '-n',
        namespace,
      ]);
      expect(cm.data).toEqual({ greeting: 'hello', count: '3' });

      await kubectlOk(['delete', 'configmap', 'smoke', '-n', namespace]);
      const gone = await kubectl(['get', 'configmap', 'smoke', '-n', namespace]);
      expect(gone.code).not.toBe(0);
      expect(gone.stderr).toContain('NotFound');
    });

    it('keeps a pod Pending and marks it Unschedulable when no node fits', async () => {
      // The node selector matches no node, so the pod stays Pending even once nodes join.
      await kubectlOk([
        'run',
        'pending',
        '-n',
        namespace,
        '--image=registry.invalid/berth/none:1',
        '--restart=Never',
        '--overrides={"spec":{"nodeSelector":{"berth.dev/smoke-no-such-node":"true"}}}',
      ]);
      const pod = await eventually('kube-scheduler to report the pod unschedulable', async () => {
        const p = await kubectlJson<Pod>(['get', 'pod', 'pending', '-n', namespace]);
        const scheduled = p.status.conditions?.find((c) => c.type === 'PodScheduled');
        return scheduled?.status === 'False' ? p : undefined;
      });
      expect(pod.status.phase).toBe('Pending');
      expect(pod.spec.nodeName).toBeUndefined();
      expect(pod.status.conditions?.find((c) => c.type === 'PodScheduled')?.reason).toBe('Unschedulable');
    });

    it('answers a bad token with Unauthorized', async () => {
      const result = await kubectl(['get', 'namespaces'], 'berth-not-a-valid-token');
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain('Unauthorized');
    });
  });
}
