import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoordinationV1Api, CoreV1Api, KubeConfig, type V1Pod } from '@kubernetes/client-node';
import {
  createKubeletLogProxy,
  type KubeApiServer,
  startKubeApiServer,
  type VirtualKubelet,
} from '../../src/index.ts';
import { until as pollUntil } from '../kube-controllers/helpers.ts';

/** A cluster the virtual kubelet joins: devcluster's face, or a real control plane. */
export interface Target {
  readonly name: string;
  readonly kubeconfigPath: string;
  readonly kubeConfig: KubeConfig;
  readonly core: CoreV1Api;
  readonly coordination: CoordinationV1Api;
  /** The face, when the target is devcluster's own. */
  readonly face?: KubeApiServer;
  /** Whether controllers and a scheduler run (a Deployment becomes scheduled pods). */
  readonly controllers: boolean;
  /** Hand the face the kubelet's metrics (pods/log goes through the kubelet API proxy). */
  attach(kubelet: VirtualKubelet): void;
  close(): Promise<void>;
}

export async function faceTarget(): Promise<Target> {
  let kubelet: VirtualKubelet | undefined;
  const empty = { nodes: [], pods: [] };
  const face: KubeApiServer = await startKubeApiServer({
    podTerminationMs: null,
    metrics: () => kubelet?.metrics() ?? empty,
    podLogs: (request) =>
      createKubeletLogProxy({
        node: (name) => {
          try {
            return face.store.get('nodes', '', name);
          } catch {
            return undefined;
          }
        },
      })(request),
  });
  return {
    name: 'devcluster kube face',
    controllers: false,
    ...clients(face.kubeconfigPath),
    face,
    attach: (k) => {
      kubelet = k;
    },
    close: () => face.close(),
  };
}

export function realTarget(kubeconfigPath: string): Target {
  return {
    name: 'real control plane',
    controllers: true,
    ...clients(kubeconfigPath),
    attach: () => {},
    close: async () => {},
  };
}

function clients(kubeconfigPath: string) {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(kubeconfigPath);
  return {
    kubeconfigPath,
    kubeConfig,
    core: kubeConfig.makeApiClient(CoreV1Api),
    coordination: kubeConfig.makeApiClient(CoordinationV1Api),
  };
}

/** The controllers' `until`, with a longer default wait: kubelet cases start real processes. */
export function until<T>(what: string, check: () => Promise<T | undefined | false>, ms = 10_000): Promise<T> {
  return pollUntil(what, check, ms);
}

export function readPod(target: Target, name: string, namespace = 'default'): Promise<V1Pod> {
  return target.core.readNamespacedPod({ name, namespace });
}

export interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** The real kubectl with its own cache dir; never throws for a non-zero exit. */
export async function kubectl(kubeconfig: string, args: readonly string[]): Promise<CommandResult> {
  const cacheDir = await mkdtemp(join(tmpdir(), 'berth-vk-kubectl-'));
  try {
    return await new Promise((resolve) => {
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
  } finally {
    await rm(cacheDir, { recursive: true, force: true });
  }
}

/** One GET against the kubelet API, trusting its CA. */
export async function kubeletGet(
  kubelet: VirtualKubelet,
  path: string,
): Promise<{ status: number; text: string }> {
  const { request } = await import('node:https');
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, `https://127.0.0.1:${kubelet.port}`), { ca: kubelet.caPem }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}
