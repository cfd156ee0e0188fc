import { readdirSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { isBerthError } from '../cluster/errors.ts';
import { parseDocuments } from './parse-documents.ts';
import { validateDocument } from './validate.ts';

// Valid documents to break: every document of every example.
const examplesDir = new URL('../../../../examples/', import.meta.url);
const bases: unknown[] = readdirSync(examplesDir)
  .filter((f) => f.endsWith('.yaml'))
  .flatMap((f) =>
    parseAllDocuments(readFileSync(new URL(f, examplesDir), 'utf8')).map((d) => d.toJS() as unknown),
  )
  .filter((v) => v !== null);

type Path = (string | number)[];

/** Every path to an object or array inside `value` (including the root). */
function containers(value: unknown, at: Path = [], out: Path[] = []): Path[] {
  if (typeof value !== 'object' || value === null) return out;
  out.push(at);
  for (const [k, v] of Object.entries(value))
    containers(v, [...at, Array.isArray(value) ? Number(k) : k], out);
  return out;
}

/** Every path to any value inside `value` (excluding the root). */
function leaves(value: unknown, at: Path = [], out: Path[] = []): Path[] {
  if (typeof value !== 'object' || value === null) return out;
  for (const [k, v] of Object.entries(value)) {
    const p = [...at, Array.isArray(value) ? Number(k) : k];
    out.push(p);
    leaves(v, p, out);
  }
  return out;
}

function get(root: unknown, path: Path): unknown {
  return path.reduce<unknown>((v, k) => (v as Record<string | number, unknown>)[k], root);
}

type Mutation =
  | { kind: 'junk'; pick: number; value: unknown }
  | { kind: 'delete'; pick: number }
  | { kind: 'retype'; pick: number };

function apply(doc: unknown, m: Mutation): unknown {
  const targets = leaves(doc);
  if (targets.length === 0) return m.kind === 'junk' ? m.value : doc;
  const path = targets[m.pick % targets.length]!;
  const parent = get(doc, path.slice(0, -1)) as Record<string | number, unknown>;
  const key = path.at(-1)!;
  if (m.kind === 'junk') parent[key] = m.value;
  else if (m.kind === 'delete') {
    if (Array.isArray(parent)) parent.splice(Number(key), 1);
    else delete parent[key];
  } else {
    const v = parent[key];
    parent[key] =
      typeof v === 'string' ? 42 : typeof v === 'number' ? String(v) : Array.isArray(v) ? 'a list' : [v];
  }
  return doc;
}

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('junk' as const), pick: fc.nat(), value: fc.anything() }),
  fc.record({ kind: fc.constant('delete' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('retype' as const), pick: fc.nat() }),
);

/**
 * A malformed document: a valid example with random junk, deletions and type changes, plus one
 * field no schema position accepts (strict objects reject unknown fields; label, env and
 * resource maps reject the key's characters), so the result is invalid by construction.
 */
const malformed = fc
  .record({
    base: fc.constantFrom(...bases),
    mutations: fc.array(mutation, { maxLength: 4 }),
    at: fc.nat(),
    key: fc.string({ maxLength: 8 }).map((s) => `§${s}`),
    value: fc.anything(),
  })
  .map(({ base, mutations, at, key, value }) => {
    let doc = structuredClone(base);
    for (const m of mutations) doc = apply(doc, m);
    const objects = containers(doc).filter((p) => {
      const v = get(doc, p);
      return !Array.isArray(v);
    });
    if (objects.length > 0) {
      const target = get(doc, objects[at % objects.length]!) as Record<string, unknown>;
      target[key] = value;
    }
    return doc;
  });

function expectSpecInvalid(run: () => unknown): readonly { path: string; message: string }[] {
  try {
    run();
  } catch (err) {
    if (!isBerthError(err, 'SPEC_INVALID')) throw err;
    expect(err.issues.length).toBeGreaterThanOrEqual(1);
    for (const issue of err.issues) {
      expect(typeof issue.path).toBe('string');
      expect(issue.message.length).toBeGreaterThan(0);
    }
    return err.issues;
  }
  throw new Error('a malformed document was accepted');
}

describe('fuzzing validation', () => {
  it('rejects 1,000 random malformed documents with SPEC_INVALID and field paths, never anything else', () => {
    expect(bases.length).toBeGreaterThanOrEqual(5);
    fc.assert(
      fc.property(malformed, (doc) => {
        const issues = expectSpecInvalid(() => validateDocument(doc));
        if (typeof doc === 'object' && doc !== null && !Array.isArray(doc))
          expect(issues.some((i) => i.path !== '')).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });

  it('rejects arbitrary values as documents with SPEC_INVALID', () => {
    fc.assert(
      fc.property(fc.anything(), (value) => {
        expectSpecInvalid(() => validateDocument(value));
      }),
      { numRuns: 300 },
    );
  });

  it('either parses random YAML-ish text or rejects it with SPEC_INVALID', () => {
    const yamlish = fc
      .array(
        fc.oneof(
          fc.constantFrom(
            'apiVersion: berth.dev/v1\n',
            'kind: Task\n',
            'metadata:\n',
            '  name: a\n',
            'spec:\n',
          ),
          fc.constantFrom(
            '  command: x\n',
            '---\n',
            '- ',
            ': ',
            '[',
            ']',
            '{',
            '}',
            '&a ',
            '*a',
            '\t',
            '"',
            "'",
            '#',
          ),
          fc.string({ maxLength: 6 }),
        ),
        { maxLength: 20 },
      )
      .map((parts) => parts.join(''));
    fc.assert(
      fc.property(yamlish, (text) => {
        try {
          parseDocuments(text);
        } catch (err) {
          if (!isBerthError(err, 'SPEC_INVALID')) throw err;
          expect(err.issues.length).toBeGreaterThanOrEqual(1);
        }
      }),
      { numRuns: 300 },
    );
  });
});
