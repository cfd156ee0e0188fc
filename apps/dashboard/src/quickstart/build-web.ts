/**
 * The first step of `pnpm start`: builds the dashboard's single-page app (`dist/web`) with Vite
 * when it is missing or older than any of its sources, so a second start does not wait for it.
 * The quick start itself runs from source and needs nothing else built.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const APP_DIR = fileURLToPath(new URL('../../', import.meta.url));
const OUTPUT = join(APP_DIR, 'dist', 'web', 'index.html');
/** What the bundle is made of: the app, the API types it shares with the server, the build setup. */
const INPUTS = ['src/web', 'src/shared', 'vite.config.ts', 'package.json'].map((p) => join(APP_DIR, p));

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
  if (!existsSync(OUTPUT)) return true;
  const built = statSync(OUTPUT).mtimeMs;
  return INPUTS.some((input) => existsSync(input) && newestMtime(input) > built);
}

if (webBuildIsStale()) {
  process.stdout.write('building the dashboard web app (Vite)…\n');
  const { build } = await import('vite');
  await build({ configFile: join(APP_DIR, 'vite.config.ts'), logLevel: 'error' });
}
