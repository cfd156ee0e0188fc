/**
 * The first step of `pnpm start`: builds the dashboard's single-page app (`dist/web`) with Vite
 * when it is missing or older than any of its sources, so a second start does not wait for it.
 * The quick start itself and the bundle's workspace imports come from source: nothing else is built.
 */
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const APP_DIR = fileURLToPath(new URL('../../', import.meta.url));
/** Written after a build succeeded (a failed Vite build may leave a partial `dist/web`). */
const STAMP = join(APP_DIR, 'dist', 'web', '.built');
/** What the bundle is made of: the app, the API types it shares with the server (and core's task states), the build setup. */
const INPUTS = ['src/web', 'src/shared', 'vite.config.ts', 'package.json', '../../packages/core/src'].map(
  (p) => join(APP_DIR, p),
);

/** The newest modification time under `path` (a file or a directory tree), in ms. */
function newestMtime(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

/** Whether `dist/web` is missing or older than one of its inputs. */
function webBuildIsStale(): boolean {
  if (!existsSync(STAMP)) return true;
  const built = statSync(STAMP).mtimeMs;
  return INPUTS.some((input) => existsSync(input) && newestMtime(input) > built);
}

if (webBuildIsStale()) {
  process.stdout.write('building the dashboard web app (Vite)…\n');
  const { build, defaultClientConditions } = await import('vite');
  await build({
    configFile: join(APP_DIR, 'vite.config.ts'),
    logLevel: 'error',
    // Workspace packages from their TypeScript source, so nothing else has to be built first.
    resolve: { conditions: ['@berth/source', ...defaultClientConditions] },
  });
  writeFileSync(STAMP, `${new Date().toISOString()}\n`);
}
