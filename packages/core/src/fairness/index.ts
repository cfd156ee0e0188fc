// Public surface of core/fairness; re-exported from the package root.
export {};
