/**
 * `-o table|wide|json|yaml|name`. Machine formats print a stable, documented list shape:
 * `{ apiVersion: 'berth.dev/v1', kind: '<Kind>List', items: [...] }` (see the README).
 */
import { BerthError } from '@berth/core';
import { stringify } from 'yaml';

export const OUTPUT_FORMATS = ['table', 'wide', 'json', 'yaml', 'name'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export const API_VERSION = 'berth.dev/v1';

export function parseOutputFormat(
  value: string | undefined,
  allowed: readonly OutputFormat[] = OUTPUT_FORMATS,
): OutputFormat {
  const v = value ?? 'table';
  if ((allowed as readonly string[]).includes(v)) return v as OutputFormat;
  throw new BerthError('SPEC_INVALID', `--output: unknown format ${JSON.stringify(v)}`, {
    component: 'cli',
    hint: `Use one of ${allowed.join(', ')}.`,
  });
}

export interface ListDocument<T> {
  readonly apiVersion: typeof API_VERSION;
  readonly kind: string;
  readonly items: readonly T[];
}

export function listDocument<T>(kind: string, items: readonly T[]): ListDocument<T> {
  return { apiVersion: API_VERSION, kind: `${kind}List`, items };
}

export function toJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

export function toYaml(value: unknown): string {
  return stringify(value, { aliasDuplicateObjects: false });
}

/** Prints a document in a machine format; returns false for table formats. */
export function printMachine(format: OutputFormat, value: unknown, out: (t: string) => void): boolean {
  if (format === 'json') out(toJson(value));
  else if (format === 'yaml') out(toYaml(value));
  else return false;
  return true;
}
