// Public surface of core/placement; re-exported from the package root.
export {};
