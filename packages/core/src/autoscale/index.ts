// Public surface of core/autoscale; re-exported from the package root.
export {};
