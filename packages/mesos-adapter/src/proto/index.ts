export * from './agent.ts';
export * from './common.ts';
export * from './master.ts';
export * from './parse.ts';
export * from './scheduler.ts';
