/**
 * The Mesos v1 JSON wire format of the face: resources as the master prints them, JSON bodies
 * whose syntax errors are reported the way the master words them, and small helpers for ids.
 */
import { randomBytes } from 'node:crypto';
import { type MesosResource, type Resources, toMesosResources } from '@berth/core';

/** A JSON object as it arrives on the wire. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export const MESOS_VERSION = '1.12.0';

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `{ value }` id messages (FrameworkID, TaskID, AgentID, OfferID). */
export function idOf(v: unknown): string | undefined {
  return isObject(v) && typeof v.value === 'string' ? v.value : undefined;
}

/** A protobuf `bytes` UUID: 16 random bytes in base64, as TaskStatus.uuid. */
export function newUuidBytes(): string {
  return randomBytes(16).toString('base64');
}

/** `MasterInfo.ip`: the IPv4 address in network byte order read as a little-endian uint32. */
export function ipv4AsUint32(ip: string): number {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return 0;
  return ((parts[3]! << 24) >>> 0) + (parts[2]! << 16) + (parts[1]! << 8) + parts[0]!;
}

/** Resources as offered: every entry carries the legacy `role` and `allocation_info.role`. */
export function offeredResources(res: Resources, role: string): MesosResource[] {
  return toMesosResources(res, { role: '*', allocationRole: role });
}

/** Resources as `AgentInfo.resources` (no role) or `total_resources` (role `*`). */
export function agentResources(res: Resources, withRole: boolean): MesosResource[] {
  return toMesosResources(res, withRole ? { role: '*' } : {});
}

/** Resources of a task as the master stores them: `allocation_info` only. */
export function taskResources(res: Resources, role: string): MesosResource[] {
  return toMesosResources(res, { allocationRole: role });
}

/** Mesos' text form of resources, as in its TASK_ERROR messages: `cpus(allocated: *):0.5; ports(allocated: *):[31000-31001]`. */
export function formatResources(list: readonly MesosResource[]): string {
  return list
    .map((r) => {
      const alloc = r.allocation_info?.role;
      const tag = alloc === undefined ? '' : `(allocated: ${alloc})`;
      let value = '';
      if (r.type === 'SCALAR') value = String(Math.round((r.scalar?.value ?? 0) * 1000) / 1000);
      else if (r.type === 'RANGES') {
        value = `[${(r.ranges?.range ?? []).map((x) => `${x.begin}-${x.end}`).join(', ')}]`;
      } else if (r.type === 'SET') value = `{${(r.set?.item ?? []).join(', ')}}`;
      return `${r.name}${tag}:${value}`;
    })
    .join('; ');
}

/**
 * Parses a request body. On a syntax error returns the master's wording: `syntax error at line N
 * near: <the rest of the text from the offending character>`.
 */
export function parseJsonBody(text: string): { ok: true; value: Json } | { ok: false; error: string } {
  try {
    return { ok: true, value: JSON.parse(text) as Json };
  } catch {
    const at = syntaxErrorOffset(text);
    const line = text.slice(0, at).split('\n').length;
    return { ok: false, error: `syntax error at line ${line} near: ${text.slice(at)}` };
  }
}

/** Offset of the first character a JSON parser cannot accept (after skipping whitespace). */
function syntaxErrorOffset(s: string): number {
  let i = 0;
  const ws = () => {
    while (i < s.length && ' \t\r\n'.includes(s[i]!)) i++;
  };
  const fail = (): never => {
    throw i;
  };
  const str = () => {
    if (s[i] !== '"') fail();
    i++;
    while (i < s.length && s[i] !== '"') {
      if (s[i] === '\\') i++;
      i++;
    }
    if (i >= s.length) fail();
    i++;
  };
  const value = (): void => {
    ws();
    const c = s[i];
    if (c === '{') {
      i++;
      ws();
      if (s[i] === '}') {
        i++;
        return;
      }
      for (;;) {
        ws();
        str();
        ws();
        if (s[i] !== ':') fail();
        i++;
        value();
        ws();
        if (s[i] === ',') {
          i++;
          continue;
        }
        if (s[i] === '}') {
          i++;
          return;
        }
        fail();
      }
    }
    if (c === '[') {
      i++;
      ws();
      if (s[i] === ']') {
        i++;
        return;
      }
      for (;;) {
        value();
        ws();
        if (s[i] === ',') {
          i++;
          continue;
        }
        if (s[i] === ']') {
          i++;
          return;
        }
        fail();
      }
    }
    if (c === '"') {
      str();
      return;
    }
    const m = /^(?:true|false|null|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?)/.exec(s.slice(i));
    if (m === null) fail();
    i += m![0].length;
  };
  try {
    value();
    ws();
    return Math.min(i, s.length);
  } catch (at) {
    return typeof at === 'number' ? Math.min(at, s.length) : 0;
  }
}
