// Public surface of core/discovery; re-exported from the package root.
export {};
