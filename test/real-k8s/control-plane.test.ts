import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type KubectlResult, kubectl as kubectlAt, kubectlOk as kubectlOkAt } from './support/kubectl.ts';
import { HOW_TO_ENABLE, realK8sEnabled, requireRealKubeconfig } from './support/real-k8s-env.ts';

// Smoke checks of the real control plane that scripts/k8s-control-plane builds from Debian's
// kubernetes source (v1.20.2), driven with the real kubectl.
let kubeconfig = '';

function kubectl(args: readonly string[], token?: string): Promise<KubectlResult> {
  return kubectlAt(kubeconfig, args, token === undefined ? {} : { token });
}

function kubectlOk(args: readonly string[]): Promise<string> {
  return kubectlOkAt(kubeconfig, args);
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
describe.skipIf(!realK8sEnabled)('real Kubernetes control plane (real-k8s)', () => {
  it(HOW_TO_ENABLE, () => {
    expect(requireRealKubeconfig()).not.toBe('');
  });
});

if (realK8sEnabled) {
  describe('real kube-apiserver v1.20.2 through kubectl', () => {
    const namespace = `berth-smoke-${Date.now().toString(36)}-${process.pid}`;

    beforeAll(async () => {
      kubeconfig = requireRealKubeconfig();
      await kubectlOk(['create', 'namespace', namespace]);
      // The service account admission plugin admits pods once the controller-manager made "default".
      await eventually(`the default service account of ${namespace}`, async () =>
        (await kubectl(['get', 'serviceaccount', 'default', '-n', namespace])).code === 0 ? true : undefined,
      );
    });

    afterAll(async () => {
      if (kubeconfig !== '') await kubectl(['delete', 'namespace', namespace, '--wait=false']);
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
