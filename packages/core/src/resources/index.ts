// Public surface of core/resources; re-exported from the package root.
export {};
