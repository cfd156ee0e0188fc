/**
 * Reading Berth documents from YAML text: one or more documents separated by `---`, all
 * validated as a whole before any is returned. Syntax errors and field problems carry their
 * line and column.
 */
import { type Document, isNode, LineCounter, type Node, parseAllDocuments } from 'yaml';
import { BerthError } from '../cluster/errors.ts';
import type { BerthDocument } from './types.ts';
import { type PathSegment, SPEC_COMPONENT, type SpecIssue, validateDocuments } from './validate.ts';

export interface ParseOptions {
  /** File name or stream label for messages, e.g. `web.yaml`. */
  readonly source?: string;
}

/** Anchors/aliases expanding beyond this many nodes are rejected ("billion laughs"). */
const MAX_ALIAS_COUNT = 100;

function nodeAt(doc: Document, path: readonly PathSegment[]): Node | undefined {
  // The deepest node that exists along the path: a missing field points at its parent.
  for (let n = path.length; n >= 0; n--) {
    const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
    if (isNode(node) && node.range) return node;
  }
  return undefined;
}

/**
 * Parses and validates every document of a YAML stream. Empty documents are skipped. Throws one
 * `BerthError('SPEC_INVALID')` listing YAML syntax errors, or else every field problem of every
 * document, each with its path, line and column.
 */
export function parseDocuments(yamlText: string, options: ParseOptions = {}): BerthDocument[] {
  const lineCounter = new LineCounter();
  // YAML 1.2 (so `yes`/`no` stay strings), unique keys, and `<<` merge keys for shared blocks.
  const docs = parseAllDocuments(yamlText, {
    lineCounter,
    prettyErrors: false,
    uniqueKeys: true,
    merge: true,
  });
  const list: Document[] = Array.isArray(docs) ? docs : [];
  const source = options.source;
  const syntax: SpecIssue[] = [];
  list.forEach((doc, i) => {
    for (const err of doc.errors) {
      const pos = err.linePos?.[0] ?? lineCounter.linePos(err.pos[0]);
      syntax.push({
        path: '',
        message: `YAML syntax error: ${err.message.split('\n')[0]}`,
        ...(list.length > 1 ? { document: i } : {}),
        ...(source === undefined ? {} : { source }),
        line: pos.line,
        column: pos.col,
      });
    }
  });

  const values: unknown[] = [];
  const indices: number[] = [];
  if (syntax.length === 0) {
    list.forEach((doc, i) => {
      if (doc.contents === null) return;
      try {
        const value: unknown = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
        if (value === null || value === undefined) return; // a document of only comments
        values.push(value);
        indices.push(i);
      } catch (err) {
        const range = doc.contents.range;
        const pos = range === undefined || range === null ? undefined : lineCounter.linePos(range[0]);
        syntax.push({
          path: '',
          message: `YAML document cannot be read: ${err instanceof Error ? err.message : String(err)}`,
          ...(list.length > 1 ? { document: i } : {}),
          ...(source === undefined ? {} : { source }),
          ...(pos === undefined ? {} : { line: pos.line, column: pos.col }),
        });
      }
    });
  }
  if (syntax.length > 0) {
    const lines = syntax.map(
      (s) => `  ${s.source ?? '<input>'}:${s.line ?? '?'}:${s.column ?? '?'}: ${s.message}`,
    );
    throw new BerthError(
      'SPEC_INVALID',
      `invalid YAML${source === undefined ? '' : ` in ${source}`}:\n${lines.join('\n')}`,
      {
        component: SPEC_COMPONENT,
        hint: 'Fix the YAML at the line and column shown; documents are separated by a line "---".',
        issues: syntax,
      },
    );
  }
  if (values.length === 0)
    throw new BerthError('SPEC_INVALID', `no documents${source === undefined ? '' : ` in ${source}`}`, {
      component: SPEC_COMPONENT,
      hint: 'Write at least one document: apiVersion: berth.dev/v1, kind, metadata and spec.',
      issues: [{ path: '', message: 'no documents found: write at least one Task, Service or Job' }],
    });

  return validateDocuments(values, {
    ...(source === undefined ? {} : { source }),
    documentIndices: indices,
    locate: (document, path) => {
      const doc = list[document];
      const node = doc === undefined ? undefined : nodeAt(doc, path);
      if (node?.range === undefined || node.range === null) return undefined;
      const pos = lineCounter.linePos(node.range[0]);
      return { line: pos.line, column: pos.col };
    },
  });
}
