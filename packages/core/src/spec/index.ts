// Public surface of core/spec; re-exported from the package root.
export {};
