export * from './autoscale/index.ts';
export * from './cluster/index.ts';
export * from './discovery/index.ts';
export * from './fairness/index.ts';
export * from './placement/index.ts';
export * from './resources/index.ts';
export * from './spec/index.ts';
