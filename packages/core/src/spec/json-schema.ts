/**
 * The JSON Schema of Berth documents, generated from the same zod schema that validates them, for
 * editors: a first line `# yaml-language-server: $schema=<url or path>` gives completion,
 * descriptions and checks while typing. Cross-field rules (limits ≥ requests, unique ports...)
 * are not expressible in JSON Schema; `parseDocuments` still checks them.
 */
import { z } from 'zod';
import { berthDocumentSchema } from './schema.ts';

/** Where the published schema lives; also its `$id`. */
export const BERTH_SCHEMA_ID = 'https://berth.dev/schema/v1/berth.schema.json';

export type JsonSchema = Record<string, unknown>;

/** The draft 2020-12 JSON Schema of one Berth document (Task, Service or Job). */
export function berthJsonSchema(): JsonSchema {
  const generated = z.toJSONSchema(berthDocumentSchema, {
    target: 'draft-2020-12',
    io: 'input',
    unrepresentable: 'any',
  }) as JsonSchema;
  const { $schema, ...rest } = generated;
  return {
    $schema,
    $id: BERTH_SCHEMA_ID,
    title: 'Berth document',
    ...rest,
  };
}
