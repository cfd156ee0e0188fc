/**
 * The JSON Schema of Berth documents, generated from the same zod schema that validates them, for
 * editors: a first line `# yaml-language-server: $schema=<url or path>` gives completion,
 * descriptions and checks while typing. Cross-field rules (limits ≥ requests, unique ports...)
 * are not expressible in JSON Schema; `parseDocuments` still checks them.
 */
import { z } from 'zod';
import { berthDocumentSchema, taskSpecSchema } from './schema.ts';

/** Where the published schema lives; also its `$id`. */
export const BERTH_SCHEMA_ID = 'https://berth.dev/schema/v1/berth.schema.json';

export type JsonSchema = { [key: string]: unknown };

const OPTIONS = { target: 'draft-2020-12', io: 'input', unrepresentable: 'any' } as const;

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Replaces every copy of `shared` inside `node` by a reference to it. */
function replaceCopies(node: unknown, shared: unknown, ref: string): unknown {
  if (sameJson(node, shared)) return { $ref: ref };
  if (Array.isArray(node)) return node.map((n) => replaceCopies(n, shared, ref));
  if (typeof node === 'object' && node !== null)
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, replaceCopies(v, shared, ref)]));
  return node;
}

/** The draft 2020-12 JSON Schema of one Berth document (Task, Service or Job). */
export function berthJsonSchema(): JsonSchema {
  const { $schema, ...document } = z.toJSONSchema(berthDocumentSchema, OPTIONS) as JsonSchema;
  const { $schema: _ignored, ...taskSpec } = z.toJSONSchema(taskSpecSchema, OPTIONS) as JsonSchema;
  // A Task's spec and the Service and Job templates are one definition, written once.
  const body = replaceCopies(document, taskSpec, '#/$defs/TaskSpec') as JsonSchema;
  return { $schema, $id: BERTH_SCHEMA_ID, title: 'Berth document', ...body, $defs: { TaskSpec: taskSpec } };
}
