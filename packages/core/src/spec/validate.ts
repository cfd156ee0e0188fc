/**
 * Validation of Berth documents: the schema's issues become `SpecIssue`s with dotted paths and
 * messages that name the fix; every problem of every document is collected before one
 * `BerthError('SPEC_INVALID')` is thrown, so nothing is used half-validated.
 */
import type { z } from 'zod';
import { BerthError, type BerthErrorIssue } from '../cluster/errors.ts';
import { normalizeDocument } from './normalize.ts';
import { berthDocumentSchema, type ParsedDocument } from './schema.ts';
import { closestMatch, didYouMean } from './suggest.ts';
import type { BerthDocument } from './types.ts';

export const SPEC_COMPONENT = 'core/spec';

/** One problem in a document: its field path, what is wrong and the fix, and where it is. */
export interface SpecIssue extends BerthErrorIssue {
  /** 0-based index of the document in its input, when the input held several. */
  readonly document?: number;
  /** The file or stream the document came from, when known. */
  readonly source?: string;
  /** 1-based line and column in the YAML text, when parsed from text. */
  readonly line?: number;
  readonly column?: number;
}

export type PathSegment = string | number;

/** Where a field of a document is in its source text (1-based), or undefined. */
export type Locator = (
  document: number,
  path: readonly PathSegment[],
) => { line: number; column: number } | undefined;

export interface ValidateOptions {
  /** Name of the file or stream, used in messages. */
  readonly source?: string;
  /** Maps a document index and field path to a line and column (`parseDocuments` provides it). */
  readonly locate?: Locator;
  /** Original document numbers when the values are a subset (e.g. empty YAML documents skipped). */
  readonly documentIndices?: readonly number[];
}

/** `spec.ports[0].name`, `spec.resources.requests["nvidia.com/gpu"]`. */
export function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// messages

/** Field names people bring from Kubernetes and Marathon, and what Berth calls them. */
const FIELD_ALIASES: Readonly<Record<string, string>> = {
  cmd: 'command',
  instances: 'replicas',
  healthChecks: 'healthCheck',
  livenessProbe: 'healthCheck',
  terminationGracePeriodSeconds: 'killGracePeriodSeconds',
  taskKillGracePeriodSeconds: 'killGracePeriodSeconds',
  requiredDuringSchedulingIgnoredDuringExecution: 'required',
  preferredDuringSchedulingIgnoredDuringExecution: 'preferred',
  podAffinity: 'taskAffinity',
  podAntiAffinity: 'taskAntiAffinity',
  nodeSelectorTerms: 'matchExpressions',
  tenants: 'tenant',
  role: 'tenant',
  namespace: 'tenant',
  container: 'image',
  backoffFactor: 'backoffSeconds',
  maxLaunchDelaySeconds: 'maxBackoffSeconds',
};

/** Fields that belong somewhere else than where they were written. */
const MISPLACED: Readonly<Record<string, string>> = {
  tenant: 'set the tenant in metadata.tenant',
  role: 'set the tenant (Mesos role) in metadata.tenant',
  namespace: 'set the tenant (Kubernetes namespace) in metadata.tenant',
  name: 'the name is metadata.name',
  replicas: 'replicas belong to a Service spec, next to template',
  template: 'a template belongs to a Service or Job spec',
  cpu: 'put it under resources.requests',
  cpus: 'put it under resources.requests as cpu',
  memory: 'put it under resources.requests',
  mem: 'put it under resources.requests as memory',
  gpus: 'put it under resources.requests',
};

function unknownFieldMessage(key: string, known: readonly string[]): string {
  const alias = FIELD_ALIASES[key];
  if (alias !== undefined && known.includes(alias))
    return `unknown field ${JSON.stringify(key)} (did you mean ${JSON.stringify(alias)}?)`;
  const suggestion = closestMatch(key, known);
  if (suggestion !== undefined)
    return `unknown field ${JSON.stringify(key)} (did you mean ${JSON.stringify(suggestion)}?)`;
  const misplaced = MISPLACED[key] ?? (alias !== undefined ? MISPLACED[alias] : undefined);
  if (misplaced !== undefined) return `unknown field ${JSON.stringify(key)} here: ${misplaced}`;
  return `unknown field ${JSON.stringify(key)}: remove it (allowed here: ${known.join(', ')})`;
}

function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? `${v.slice(0, 57)}...` : v);
  if (typeof v === 'number' || typeof v === 'boolean' || v === null) return String(v);
  if (typeof v === 'bigint') return `${v}`;
  if (v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  return 'a mapping';
}

const TYPE_WORDS: Readonly<Record<string, string>> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  object: 'a mapping (key: value)',
  array: 'a list',
  tuple: 'a list',
  record: 'a mapping (key: value)',
  bigint: 'a whole number',
};

function bound(iss: { minimum?: unknown; maximum?: unknown; inclusive?: boolean }, below: boolean): string {
  const n = below ? iss.minimum : iss.maximum;
  return `${below ? (iss.inclusive === false ? '>' : '≥') : iss.inclusive === false ? '<' : '≤'} ${String(n)}`;
}

type RawIssue = z.core.$ZodRawIssue;

/** Messages for zod's built-in checks (schemas with their own message override these). */
function makeErrorMap(unknownFields: Map<string, string>): z.core.$ZodErrorMap {
  return (iss: RawIssue) => {
    const input: unknown = iss.input;
    switch (iss.code) {
      case 'invalid_type': {
        if (input === undefined) return 'is required';
        const want = TYPE_WORDS[iss.expected] ?? iss.expected;
        if (iss.expected === 'int' && typeof input === 'number')
          return `must be a whole number (got ${show(input)})`;
        if (iss.expected === 'string' && (typeof input === 'number' || typeof input === 'boolean'))
          return `must be a string (got ${show(input)}): quote it, "${String(input)}"`;
        return `must be ${want} (got ${show(input)})`;
      }
      case 'too_small':
        if (iss.origin === 'string' && Number(iss.minimum) === 1) return 'must not be empty';
        if (iss.origin === 'array' || iss.origin === 'set')
          return `needs at least ${String(iss.minimum)} item${Number(iss.minimum) === 1 ? '' : 's'}`;
        if (iss.origin === 'string') return `must be at least ${String(iss.minimum)} characters`;
        return `must be ${bound(iss, true)} (got ${show(input)})`;
      case 'too_big':
        if (iss.origin === 'array' || iss.origin === 'set')
          return `has more than ${String(iss.maximum)} items`;
        if (iss.origin === 'string') return `must be at most ${String(iss.maximum)} characters`;
        return `must be ${bound(iss, false)} (got ${show(input)})`;
      case 'invalid_value': {
        const values = iss.values.map((v) => (typeof v === 'string' ? v : String(v)));
        const hint = typeof input === 'string' ? didYouMean(input, values) : '';
        if (values.length === 1)
          return `must be ${JSON.stringify(iss.values[0])} (got ${show(input)})${hint}`;
        return `must be one of ${values.join(', ')} (got ${show(input)})${hint}`;
      }
      case 'unrecognized_keys': {
        const inst = iss.inst as { _zod?: { def?: { shape?: Record<string, unknown> } } } | undefined;
        const known = Object.keys(inst?._zod?.def?.shape ?? {});
        for (const key of iss.keys) {
          unknownFields.set(JSON.stringify([...(iss.path ?? []), key]), unknownFieldMessage(key, known));
        }
        return `unknown fields ${iss.keys.join(', ')}`;
      }
      case 'invalid_union': {
        const options = (iss as { options?: unknown[] }).options;
        if (Array.isArray(options) && options.length > 0) {
          const names = options.map(String);
          const got = isRecordValue(input) ? undefined : input;
          return `must be one of ${names.join(', ')} (got ${show(got)})${typeof got === 'string' ? didYouMean(got, names) : ''}`;
        }
        return `${show(input)} is not valid here`;
      }
      case 'invalid_format':
        return `${show(input)} has the wrong format`;
      case 'not_multiple_of':
        return `must be a multiple of ${String(iss.divisor)} (got ${show(input)})`;
      default:
        return undefined;
    }
  };
}

function isRecordValue(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// ---------------------------------------------------------------------------------------------
// zod issues → SpecIssues

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v = root;
  for (const seg of path) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<PropertyKey, unknown>)[seg];
  }
  return v;
}

/** A union branch that failed because the value is of another type (so its details are noise). */
function isWrongTypeBranch(branch: readonly z.core.$ZodIssue[], value: unknown): boolean {
  return branch.some((i) => {
    if (i.path.length !== 0) return false;
    if (i.code === 'invalid_type') return true;
    if (i.code === 'invalid_value') return i.values.every((v) => typeof v !== typeof value);
    return false;
  });
}

function segments(path: readonly PropertyKey[]): PathSegment[] {
  return path.map((p) => (typeof p === 'number' ? p : String(p)));
}

function flatten(
  issues: readonly z.core.$ZodIssue[],
  base: readonly PathSegment[],
  root: unknown,
  unknownFields: ReadonlyMap<string, string>,
  out: { path: PathSegment[]; message: string }[],
): void {
  for (const iss of issues) {
    const path = [...base, ...segments(iss.path)];
    switch (iss.code) {
      case 'unrecognized_keys':
        for (const key of iss.keys)
          out.push({
            path: [...path, key],
            message:
              unknownFields.get(JSON.stringify([...path, key])) ?? `unknown field ${JSON.stringify(key)}`,
          });
        break;
      case 'invalid_union': {
        const value = valueAt(root, path);
        const candidates = iss.errors.filter((b) => !isWrongTypeBranch(b, value));
        const only = candidates.length === 1 ? candidates[0]! : undefined;
        // A value of the right type that is not one of an enum's options is better described by
        // the union's own message, which names every alternative (`an integer or one of ...`).
        const enumMiss =
          only?.length === 1 && only[0]!.path.length === 0 && only[0]!.code === 'invalid_value';
        if (only !== undefined && !enumMiss) flatten(only, path, root, unknownFields, out);
        else out.push({ path, message: iss.message });
        break;
      }
      case 'invalid_key': {
        const first = iss.issues.find((i) => i.message !== '') ?? iss.issues[0];
        out.push({ path, message: first?.message ?? `invalid key ${JSON.stringify(path.at(-1))}` });
        break;
      }
      case 'invalid_element':
        flatten(iss.issues, path, root, unknownFields, out);
        break;
      default:
        out.push({ path, message: iss.message });
    }
  }
}

/** The raw problems of one value against the schema, or its parsed form. */
function check(
  value: unknown,
): { ok: true; doc: ParsedDocument } | { ok: false; issues: { path: PathSegment[]; message: string }[] } {
  const unknownFields = new Map<string, string>();
  const result = berthDocumentSchema.safeParse(value, { error: makeErrorMap(unknownFields) });
  if (result.success) return { ok: true, doc: result.data };
  const issues: { path: PathSegment[]; message: string }[] = [];
  flatten(result.error.issues, [], value, unknownFields, issues);
  const seen = new Set<string>();
  return {
    ok: false,
    issues: issues.filter((i) => {
      const key = JSON.stringify(i);
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    }),
  };
}

function describeDoc(value: unknown): string {
  if (!isRecordValue(value)) return '';
  const kind = typeof value.kind === 'string' ? value.kind : undefined;
  const name =
    isRecordValue(value.metadata) && typeof value.metadata.name === 'string'
      ? value.metadata.name
      : undefined;
  if (kind === undefined && name === undefined) return '';
  return ` (${[kind, name].filter((x) => x !== undefined).join(' ')})`;
}

function specError(
  issues: readonly SpecIssue[],
  options: ValidateOptions,
  describe: (document: number) => string,
  multi: boolean,
): BerthError {
  const lines = issues.map((i) => {
    const where: string[] = [];
    if (i.source !== undefined || i.line !== undefined)
      where.push(`${i.source ?? '<input>'}${i.line === undefined ? '' : `:${i.line}:${i.column}`}`);
    if (multi && i.document !== undefined) where.push(`document ${i.document + 1}${describe(i.document)}`);
    const prefix = where.length === 0 ? '' : `${where.join(' ')}: `;
    return `  ${prefix}${i.path === '' ? '(document)' : i.path}: ${i.message}`;
  });
  const count = issues.length === 1 ? '1 problem' : `${issues.length} problems`;
  const from = options.source === undefined ? '' : ` in ${options.source}`;
  return new BerthError('SPEC_INVALID', `invalid spec${from}: ${count}\n${lines.join('\n')}`, {
    component: SPEC_COMPONENT,
    hint: 'Each line names the field and how to fix it. Point your editor at the Berth JSON Schema (a "# yaml-language-server: $schema=..." first line) to catch these while typing.',
    issues: [...issues],
  });
}

function toSpecIssue(
  raw: { path: PathSegment[]; message: string },
  document: number,
  multi: boolean,
  options: ValidateOptions,
): SpecIssue {
  const pos = options.locate?.(document, raw.path);
  return {
    path: formatPath(raw.path),
    message: raw.message,
    ...(multi ? { document } : {}),
    ...(options.source === undefined ? {} : { source: options.source }),
    ...(pos === undefined ? {} : { line: pos.line, column: pos.column }),
  };
}

/** Rules across documents: one name per kind and tenant, one discovery name per tenant. */
function crossDocumentIssues(
  docs: readonly { index: number; doc: BerthDocument }[],
): { index: number; path: PathSegment[]; message: string }[] {
  const out: { index: number; path: PathSegment[]; message: string }[] = [];
  const names = new Map<string, number>();
  const discovery = new Map<string, number>();
  for (const { index: i, doc: d } of docs) {
    const key = `${d.kind}/${d.metadata.tenant}/${d.metadata.name}`;
    const first = names.get(key);
    if (first !== undefined)
      out.push({
        index: i,
        path: ['metadata', 'name'],
        message: `${d.kind} ${JSON.stringify(d.metadata.name)} in tenant ${JSON.stringify(d.metadata.tenant)} is already defined by document ${first + 1}: rename one`,
      });
    else names.set(key, i);
    if (d.kind === 'Service' && d.spec.discovery !== undefined) {
      const dkey = `${d.metadata.tenant}/${d.spec.discovery.name}`;
      const firstD = discovery.get(dkey);
      if (firstD !== undefined)
        out.push({
          index: i,
          path: ['spec', 'discovery', 'name'],
          message: `discovery name ${JSON.stringify(d.spec.discovery.name)} is already used in tenant ${JSON.stringify(d.metadata.tenant)} by document ${firstD + 1}: pick another`,
        });
      else discovery.set(dkey, i);
    }
  }
  return out;
}

/**
 * Validates several documents as a whole: either all are valid and returned normalised, or one
 * `BerthError('SPEC_INVALID')` lists every problem of every document (`error.issues`).
 */
export function validateDocuments(
  values: readonly unknown[],
  options: ValidateOptions = {},
): BerthDocument[] {
  const multi = values.length > 1;
  const indexOf = (i: number) => options.documentIndices?.[i] ?? i;
  const issues: SpecIssue[] = [];
  const docs: { index: number; doc: BerthDocument }[] = [];
  values.forEach((value, i) => {
    const result = check(value);
    if (result.ok) docs.push({ index: i, doc: normalizeDocument(result.doc) });
    else for (const raw of result.issues) issues.push(toSpecIssue(raw, indexOf(i), multi, options));
  });
  for (const c of crossDocumentIssues(docs)) issues.push(toSpecIssue(c, indexOf(c.index), multi, options));
  if (issues.length > 0) {
    issues.sort(
      (a, b) =>
        (a.document ?? 0) - (b.document ?? 0) ||
        (a.line ?? 0) - (b.line ?? 0) ||
        (a.column ?? 0) - (b.column ?? 0),
    );
    throw specError(
      issues,
      options,
      (doc) => describeDoc(values[values.findIndex((_, i) => indexOf(i) === doc)]),
      multi,
    );
  }
  return docs.map((d) => d.doc);
}

/** Validates one document; throws `BerthError('SPEC_INVALID')` listing every problem. */
export function validateDocument(value: unknown, options: ValidateOptions = {}): BerthDocument {
  return validateDocuments([value], options)[0]!;
}
