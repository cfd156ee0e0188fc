import { defineConfig } from 'vitest/config';

// One vitest run over every package: `pnpm test` from the root. Each package's own
// vitest.config.ts is a project here; they resolve workspace packages to source through
// the `@berth/source` export condition, so tests never need a build first.
export default defineConfig({
  test: {
    // In CI, also write a JSON report so .ci/run can print the plain "N passed, N failed" line.
    reporters: process.env.CI
      ? ['default', ['json', { outputFile: 'test-results/vitest.json' }]]
      : ['default'],
    projects: ['packages/*', 'apps/*', 'test/real-k8s'],
    coverage: {
      provider: 'v8',
      include: ['packages/*/src/**', 'apps/*/src/**'],
      exclude: ['**/*.test.ts', '**/*.test-d.ts'],
    },
  },
});
