import { BerthError } from '@berth/core';
import { suggestName } from '../suggest.ts';

export type ResourceType = 'nodes' | 'tasks' | 'services' | 'jobs' | 'snapshot';

const ALIASES: Readonly<Record<string, ResourceType>> = {
  node: 'nodes',
  nodes: 'nodes',
  no: 'nodes',
  task: 'tasks',
  tasks: 'tasks',
  service: 'services',
  services: 'services',
  svc: 'services',
  job: 'jobs',
  jobs: 'jobs',
  snapshot: 'snapshot',
};

/** Resolves `node`, `nodes`, `no`, `svc`… to a type the command accepts, with a suggestion otherwise. */
export function resourceType(input: string, allowed: readonly ResourceType[], verb: string): ResourceType {
  const t = ALIASES[input.toLowerCase()];
  if (t !== undefined && allowed.includes(t)) return t;
  const names = Object.keys(ALIASES).filter((k) => allowed.includes(ALIASES[k]!));
  const close = suggestName(input, names);
  throw new BerthError('SPEC_INVALID', `berth ${verb}: unknown type ${JSON.stringify(input)}`, {
    component: 'cli',
    hint: `${close === undefined ? '' : `Did you mean ${close}? `}berth ${verb} takes ${allowed.join(', ')}.`,
  });
}
