/** Human formats of the base units the API sends (millicpu, bytes). */
import type { ResourceName } from '../shared/api.ts';

export function formatCpu(milli: number): string {
  return milli % 1000 === 0 ? `${milli / 1000}` : `${(milli / 1000).toFixed(milli < 10_000 ? 2 : 1)}`;
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 100 || Number.isInteger(v) ? Math.round(v) : v.toFixed(1)} ${units[i]}`;
}

export function formatAmount(r: ResourceName, v: number): string {
  if (r === 'cpu') return `${formatCpu(v)} cores`;
  if (r === 'gpus') return `${v} GPU${v === 1 ? '' : 's'}`;
  return formatBytes(v);
}

export function percent(part: number, whole: number): number {
  return whole > 0 ? Math.round((part / whole) * 1000) / 10 : 0;
}

export function formatTime(ms: number): string {
  return new Date(ms).toLocaleTimeString(undefined, { hour12: false });
}
