/**
 * `pnpm bench [filter...]`: runs every `packages/* /bench/*.bench.ts` and `apps/* /bench/*.bench.ts`
 * suite (optionally only those whose name contains a filter), prints one table, and writes the
 * rows as JSON to bench-results/ (git-ignored).
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { arch, cpus, totalmem } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BenchRow, BenchSuite } from './types.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const filters = process.argv.slice(2).filter((a) => !a.startsWith('-'));

function findSuites(): string[] {
  const files: string[] = [];
  for (const top of ['packages', 'apps']) {
    for (const pkg of readdirSync(join(root, top), { withFileTypes: true })) {
      if (!pkg.isDirectory()) continue;
      const dir = join(root, top, pkg.name, 'bench');
      let entries: string[] = [];
      try {
        entries = readdirSync(dir);
      } catch {
        continue;
      }
      for (const f of entries) if (f.endsWith('.bench.ts')) files.push(join(dir, f));
    }
  }
  return files.sort();
}

function fmt(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (Math.abs(n) >= 1000) return Math.round(n).toLocaleString('en-US');
  return n.toPrecision(4);
}

const rows: BenchRow[] = [];
const all = findSuites();
// A filter that matches file paths selects those files without importing the others (a suite
// that fails to load must not break an unrelated filtered run); otherwise match suite names.
const byPath = all.filter((file) => filters.some((f) => relative(root, file).includes(f)));
const candidates = filters.length === 0 ? all : byPath.length > 0 ? byPath : all;
for (const file of candidates) {
  const mod = (await import(pathToFileURL(file).href)) as { default: BenchSuite };
  const suite = mod.default;
  if (filters.length > 0 && byPath.length === 0 && !filters.some((f) => suite.name.includes(f))) continue;
  process.stderr.write(`running ${suite.name} (${relative(root, file)})…\n`);
  rows.push(...(await suite.run()));
}

if (rows.length === 0) {
  process.stderr.write(`no benchmark suite matched ${filters.join(' ')}\n`);
  process.exit(1);
}

const table = rows.map((r) => ({
  suite: r.suite,
  benchmark: r.name,
  value: `${fmt(r.value)} ${r.unit}`,
  ratio: r.ratio === undefined ? '' : `${r.ratio.toFixed(3)}× ${r.baseline ?? 'baseline'}`,
  goal: r.goal ?? '',
}));
console.table(table);

const outDir = join(root, 'bench-results');
mkdirSync(outDir, { recursive: true });
const report = {
  date: new Date().toISOString(),
  node: process.version,
  machine: {
    arch: arch(),
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryBytes: totalmem(),
  },
  rows,
};
const stamp = report.date.replaceAll(':', '-');
writeFileSync(join(outDir, `bench-${stamp}.json`), `${JSON.stringify(report, null, 2)}\n`);
writeFileSync(join(outDir, 'latest.json'), `${JSON.stringify(report, null, 2)}\n`);
process.stderr.write(`wrote ${relative(root, join(outDir, 'latest.json'))}\n`);
