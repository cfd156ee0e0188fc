// Public surface of core/spec; re-exported from the package root.
export * from './defaults.ts';
export * from './types.ts';
