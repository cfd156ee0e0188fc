/**
 * Who may call the API. Without a token (loopback only) reads and writes are open to the local
 * machine; with a token every API call but `/api/health` needs it, as an `Authorization: Bearer`
 * header or the HttpOnly cookie set by opening `/?token=…` once. Mutations additionally need a
 * same-origin request (`Sec-Fetch-Site`, `Origin`) with a JSON body, so another web page cannot
 * drive the dashboard from the user's browser.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { BerthError } from '@berth/core';

export const TOKEN_COOKIE = 'berth_dashboard_token';

const COMPONENT = 'dashboard';

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** Constant-time comparison (hashing first makes the lengths equal). */
export function tokenMatches(expected: string, given: string | undefined): boolean {
  if (given === undefined) return false;
  return timingSafeEqual(digest(expected), digest(given));
}

export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return undefined;
}

/** The token a request carries, from `Authorization: Bearer` or the session cookie. */
export function requestToken(headers: Headers): string | undefined {
  const auth = headers.get('authorization');
  if (auth !== null) {
    const m = /^Bearer\s+(.+)$/i.exec(auth.trim());
    if (m) return m[1];
  }
  return cookieValue(headers.get('cookie') ?? undefined, TOKEN_COOKIE);
}

export function assertAuthorized(token: string | undefined, headers: Headers): void {
  if (token === undefined) return;
  if (tokenMatches(token, requestToken(headers))) return;
  throw new BerthError('AUTH_FAILED', 'this dashboard requires its access token', {
    component: COMPONENT,
    hint: 'Open the dashboard URL with ?token=<token> once, or send Authorization: Bearer <token>.',
  });
}

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export function isMutating(method: string): boolean {
  return MUTATING.has(method.toUpperCase());
}

/**
 * Refuses cross-site mutations. Browsers send `Sec-Fetch-Site` and `Origin` on every POST; a
 * request with neither comes from a non-browser client (curl, the CLI), which CSRF cannot forge.
 */
export function assertSameOrigin(url: string, headers: Headers): void {
  const site = headers.get('sec-fetch-site');
  if (site !== null && site !== 'same-origin' && site !== 'none') {
    throw forbidden(`Sec-Fetch-Site is ${site}`);
  }
  const origin = headers.get('origin');
  if (origin !== null) {
    const host = headers.get('host') ?? new URL(url).host;
    let originHost: string;
    try {
      originHost = new URL(origin).host;
    } catch {
      throw forbidden(`Origin ${JSON.stringify(origin)} is not a URL`);
    }
    if (origin === 'null' || originHost !== host) throw forbidden(`Origin ${origin} is not ${host}`);
  }
  const type = headers.get('content-type') ?? '';
  if (!/^application\/json\b/i.test(type)) {
    throw new BerthError('SPEC_INVALID', 'content-type must be application/json for changes', {
      component: COMPONENT,
      hint: 'Send the request body as JSON with Content-Type: application/json.',
    });
  }
}

function forbidden(why: string): BerthError {
  return new BerthError('FORBIDDEN', `cross-origin change refused: ${why}`, {
    component: COMPONENT,
    hint: 'Changes are accepted only from the dashboard page itself (same origin).',
  });
}

/** 127.0.0.0/8, ::1 and `localhost`: addresses only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  return /^127(\.\d{1,3}){3}$/.test(h) || /^::ffff:127(\.\d{1,3}){3}$/.test(h);
}
