// Public surface of core/spec; re-exported from the package root.
export * from './defaults.ts';
export { BERTH_SCHEMA_ID, berthJsonSchema, type JsonSchema } from './json-schema.ts';
export { type ParseOptions, parseDocuments } from './parse-documents.ts';
export {
  type BerthDocumentInput,
  KNOWN_RESOURCE_NAMES,
  MAX_REPLICAS,
  MAX_SECONDS,
  MAX_USER_PRIORITY,
  RESERVED_LABEL_PREFIX,
} from './schema.ts';
export * from './types.ts';
export {
  formatPath,
  type Locator,
  type PathSegment,
  SPEC_COMPONENT,
  type SpecIssue,
  type ValidateOptions,
  validateDocument,
  validateDocuments,
} from './validate.ts';
