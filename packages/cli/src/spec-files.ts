/**
 * Reads `-f` spec files (or `-` for stdin) and validates every document of every file before
 * anything touches a cluster: one SPEC_INVALID lists the problems of all files at once.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import {
  type BerthDocument,
  BerthError,
  type BerthErrorIssue,
  isBerthError,
  parseDocuments,
} from '@berth/core';
import type { ResolvedIO } from './io.ts';

export interface LoadedSpecs {
  readonly documents: readonly BerthDocument[];
  readonly sources: readonly string[];
}

export async function readSpecFiles(
  files: readonly string[] | undefined,
  io: ResolvedIO,
): Promise<LoadedSpecs> {
  if (files === undefined || files.length === 0) {
    throw new BerthError('SPEC_INVALID', 'no spec file given: -f/--filename is required', {
      component: 'cli',
      hint: 'Pass -f spec.yaml (repeat -f for several files, or -f - to read standard input).',
    });
  }
  const documents: BerthDocument[] = [];
  const issues: BerthErrorIssue[] = [];
  const failed: string[] = [];
  for (const file of files) {
    const label = file === '-' ? '<stdin>' : file;
    let text: string;
    try {
      text = file === '-' ? await io.readStdin() : await readFile(resolve(io.cwd, file), 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why =
        code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (err as Error).message;
      issues.push({ path: '', message: `${label}: cannot read spec file: ${why}` });
      failed.push(label);
      continue;
    }
    try {
      documents.push(...parseDocuments(text, { source: label }));
    } catch (err) {
      if (!isBerthError(err, 'SPEC_INVALID')) throw err;
      failed.push(label);
      if (err.issues.length === 0) issues.push({ path: '', message: `${label}: ${err.message}` });
      else issues.push(...err.issues);
    }
  }
  if (issues.length > 0) {
    const count = issues.length === 1 ? '1 problem' : `${issues.length} problems`;
    throw new BerthError('SPEC_INVALID', `invalid spec in ${failed.join(', ')}: ${count}`, {
      component: 'cli',
      issues,
      hint: 'Fix every listed field; nothing was sent to the cluster. `berth schema` prints the JSON Schema for editors.',
      details: { files: failed },
    });
  }
  const names = new Map<string, string>();
  for (const d of documents) {
    const key = `${d.kind}/${d.metadata.name}`;
    if (names.has(key)) {
      throw new BerthError('SPEC_INVALID', `${key} is defined twice`, {
        component: 'cli',
        hint: 'Give every document of one run its own metadata.name.',
      });
    }
    names.set(key, key);
  }
  return { documents, sources: files.map((f) => (f === '-' ? '<stdin>' : f)) };
}
