/**
 * Label selectors (`a=b,c!=d,e in (x,y),f notin (z),g,!h`) and field selectors
 * (`metadata.name=x,status.phase!=Running`) with the grammar and errors of apimachinery.
 */
import { badRequest } from './status.ts';

export type LabelRequirement =
  | { readonly op: 'in'; readonly key: string; readonly values: readonly string[] }
  | { readonly op: 'notin'; readonly key: string; readonly values: readonly string[] }
  | { readonly op: 'exists'; readonly key: string }
  | { readonly op: 'doesnotexist'; readonly key: string };

export type Labels = Readonly<Record<string, string>>;

const LABEL_KEY =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

function fail(selector: string, why: string): never {
  throw badRequest(`unable to parse requirement: ${why} (in selector "${selector}")`);
}

function checkKey(selector: string, key: string): string {
  if (key === '' || !LABEL_KEY.test(key) || key.length > 317) fail(selector, `invalid label key "${key}"`);
  return key;
}

function checkValue(selector: string, value: string): string {
  if (value.length > 63 || !LABEL_VALUE.test(value)) fail(selector, `invalid label value: "${value}"`);
  return value;
}

/** Split on commas that are not inside parentheses. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '(') depth++;
    else if (ch === ')') depth--;
    else if (ch === ',' && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

const SET_EXPR = /^(\S+)\s+(in|notin)\s*\((.*)\)$/;

export function parseLabelSelector(selector: string): LabelRequirement[] {
  const text = selector.trim();
  if (text === '') return [];
  const out: LabelRequirement[] = [];
  for (const raw of splitTopLevel(text)) {
    const part = raw.trim();
    if (part === '') fail(selector, "found '', expected: identifier");
    const set = SET_EXPR.exec(part);
    if (set) {
      const key = checkKey(selector, set[1]!);
      const values = set[3]!
        .split(',')
        .map((v) => v.trim())
        .map((v) => checkValue(selector, v));
      if (set[2] === 'in' && values.every((v) => v === '') && values.length === 1) {
        fail(selector, "for 'in', 'notin' operators, values set can't be empty");
      }
      out.push({ op: set[2] === 'in' ? 'in' : 'notin', key, values });
      continue;
    }
    const ne = part.indexOf('!=');
    if (ne > 0) {
      out.push({
        op: 'notin',
        key: checkKey(selector, part.slice(0, ne).trim()),
        values: [checkValue(selector, part.slice(ne + 2).trim())],
      });
      continue;
    }
    const eq = part.indexOf('=');
    if (eq > 0) {
      const valueStart = part[eq + 1] === '=' ? eq + 2 : eq + 1;
      out.push({
        op: 'in',
        key: checkKey(selector, part.slice(0, eq).trim()),
        values: [checkValue(selector, part.slice(valueStart).trim())],
      });
      continue;
    }
    if (part.startsWith('!')) {
      out.push({ op: 'doesnotexist', key: checkKey(selector, part.slice(1).trim()) });
      continue;
    }
    if (/[\s()<>]/.test(part)) fail(selector, `unexpected expression "${part}"`);
    out.push({ op: 'exists', key: checkKey(selector, part) });
  }
  return out;
}

export function matchesLabels(
  requirements: readonly LabelRequirement[],
  labels: Labels | undefined,
): boolean {
  const l = labels ?? {};
  for (const r of requirements) {
    const has = Object.hasOwn(l, r.key);
    switch (r.op) {
      case 'exists':
        if (!has) return false;
        break;
      case 'doesnotexist':
        if (has) return false;
        break;
      case 'in':
        if (!has || !r.values.includes(l[r.key]!)) return false;
        break;
      case 'notin':
        if (has && r.values.includes(l[r.key]!)) return false;
        break;
    }
  }
  return true;
}

/** A `metav1.LabelSelector` (matchLabels + matchExpressions) as requirements. */
export interface LabelSelectorObject {
  readonly matchLabels?: Readonly<Record<string, string>>;
  readonly matchExpressions?: readonly {
    readonly key: string;
    readonly operator: string;
    readonly values?: readonly string[];
  }[];
}

export function requirementsOf(selector: LabelSelectorObject): LabelRequirement[] {
  const out: LabelRequirement[] = [];
  for (const [key, value] of Object.entries(selector.matchLabels ?? {}))
    out.push({ op: 'in', key, values: [value] });
  for (const e of selector.matchExpressions ?? []) {
    if (e.operator === 'In') out.push({ op: 'in', key: e.key, values: e.values ?? [] });
    else if (e.operator === 'NotIn') out.push({ op: 'notin', key: e.key, values: e.values ?? [] });
    else if (e.operator === 'Exists') out.push({ op: 'exists', key: e.key });
    else if (e.operator === 'DoesNotExist') out.push({ op: 'doesnotexist', key: e.key });
  }
  return out;
}

/** `app=web,tier in (a,b)`: the string form `kubectl` and Scale.status.selector use. */
export function formatRequirements(requirements: readonly LabelRequirement[]): string {
  return requirements
    .map((r) => {
      switch (r.op) {
        case 'exists':
          return r.key;
        case 'doesnotexist':
          return `!${r.key}`;
        case 'in':
          return r.values.length === 1
            ? `${r.key}=${r.values[0]}`
            : `${r.key} in (${[...r.values].sort().join(',')})`;
        case 'notin':
          return r.values.length === 1
            ? `${r.key}!=${r.values[0]}`
            : `${r.key} notin (${[...r.values].sort().join(',')})`;
      }
      return '';
    })
    .join(',');
}

export interface FieldRequirement {
  readonly field: string;
  readonly op: '=' | '!=';
  readonly value: string;
}

/** Parse a field selector; every field must be one the resource supports (400 otherwise). */
export function parseFieldSelector(selector: string, supported: ReadonlySet<string>): FieldRequirement[] {
  const text = selector.trim();
  if (text === '') return [];
  const out: FieldRequirement[] = [];
  for (const raw of text.split(',')) {
    const part = raw.trim();
    let op: '=' | '!=' = '=';
    let idx = part.indexOf('!=');
    let width = 2;
    if (idx < 0) {
      idx = part.indexOf('==');
      if (idx < 0) {
        idx = part.indexOf('=');
        width = 1;
      }
    } else {
      op = '!=';
    }
    if (idx <= 0) throw badRequest(`invalid selector: '${selector}'; can't understand '${part}'`);
    const field = part.slice(0, idx).trim();
    const value = part.slice(idx + width).trim();
    if (!supported.has(field)) throw badRequest(`field label not supported: ${field}`);
    out.push({ field, op, value });
  }
  return out;
}

export function matchesFields(
  requirements: readonly FieldRequirement[],
  fields: Readonly<Record<string, string>>,
): boolean {
  for (const r of requirements) {
    const actual = fields[r.field] ?? '';
    if (r.op === '=' ? actual !== r.value : actual === r.value) return false;
  }
  return true;
}
