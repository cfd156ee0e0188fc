// Public surface of devcluster/engine; re-exported from the package root.
export {};
