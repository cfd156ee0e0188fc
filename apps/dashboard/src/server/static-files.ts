/** Serves the built single-page app: files under `root`, and `index.html` for client routes. */
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
  '.map': 'application/json; charset=utf-8',
};

/** The app's content security policy: only its own scripts, styles and API. */
export const CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

async function fileAt(path: string): Promise<Buffer | undefined> {
  try {
    if (!(await stat(path)).isFile()) return undefined;
    return await readFile(path);
  } catch {
    return undefined;
  }
}

export async function serveStaticFile(root: string, urlPath: string): Promise<Response | undefined> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  const base = normalize(root);
  const target = normalize(join(base, decoded));
  if (target !== base && !target.startsWith(base.endsWith(sep) ? base : base + sep)) return undefined;
  const isAsset = decoded.startsWith('/assets/');
  let body = decoded.endsWith('/') ? undefined : await fileAt(target);
  let type = TYPES[extname(target)] ?? 'application/octet-stream';
  if (body === undefined) {
    // A client-side route (no file extension): the SPA's entry page answers it.
    if (isAsset || extname(decoded) !== '') return undefined;
    body = await fileAt(join(base, 'index.html'));
    type = TYPES['.html']!;
    if (body === undefined) return undefined;
  }
  const headers: Record<string, string> = {
    'Content-Type': type,
    'Cache-Control': isAsset ? 'public, max-age=31536000, immutable' : 'no-cache',
  };
  if (type.startsWith('text/html')) {
    headers['Content-Security-Policy'] = CONTENT_SECURITY_POLICY;
    headers['X-Frame-Options'] = 'DENY';
  }
  return new Response(new Uint8Array(body), { headers });
}
