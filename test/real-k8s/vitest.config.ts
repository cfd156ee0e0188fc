import { defineProject } from 'vitest/config';

// Smoke checks against a real Kubernetes control plane (scripts/k8s-control-plane). They run when
// BERTH_REAL_K8S_KUBECONFIG names its kubeconfig; otherwise one skipped test says how to enable them.
export default defineProject({
  // This directory is the project's root even when vitest is started elsewhere with --config.
  root: import.meta.dirname,
  // Workspace packages resolve to their source, as in every package's own project.
  resolve: { conditions: ['@berth/source'] },
  ssr: { resolve: { conditions: ['@berth/source'] } },
  test: {
    name: 'real-k8s',
    include: ['**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    typecheck: { enabled: false },
    // The suites share one control plane; files run one after another so their pods do not
    // compete for the joined nodes and the kubectl scenarios see a quiet cluster.
    fileParallelism: false,
  },
});
