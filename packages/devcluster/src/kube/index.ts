// Public surface of devcluster/kube; re-exported from the package root.
export {};
