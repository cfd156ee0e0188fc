/** Fetch helpers: JSON in, JSON out, API errors as {@link ApiRequestError}. */
import type { ApiError } from '../shared/api.ts';

export class ApiRequestError extends Error {
  readonly status: number;
  readonly body: ApiError;
  constructor(status: number, body: ApiError) {
    super(body.message.replace(/^\[berth\] (\[[^\]]+\] )?/, ''));
    this.name = 'ApiRequestError';
    this.status = status;
    this.body = body;
  }
}

async function handle<T>(res: Response): Promise<T> {
  const text = await res.text();
  const value: unknown = text === '' ? undefined : JSON.parse(text);
  if (!res.ok) {
    const body =
      typeof value === 'object' && value !== null && 'code' in value
        ? (value as ApiError)
        : { code: 'INTERNAL', message: `HTTP ${res.status}` };
    throw new ApiRequestError(res.status, body);
  }
  return value as T;
}

export async function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  return handle<T>(await fetch(path, { credentials: 'same-origin', ...(signal ? { signal } : {}) }));
}

export async function postJson<T>(path: string, body: unknown): Promise<T> {
  return handle<T>(
    await fetch(path, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    }),
  );
}

export const enc = encodeURIComponent;
