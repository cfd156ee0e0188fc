import { BerthError, type PortRanges, Resources, type ResourcesInit } from '@berth/core';

/**
 * A node's capacity as `Resources`: a given vector keeps its own ports when it has any, otherwise
 * gets `ports`; plain base-unit integers go through `Resources.of` (errors name the node).
 */
export function capacityResources(
  input: Resources | ResourcesInit,
  ports: PortRanges,
  what: string,
): Resources {
  let r: Resources;
  try {
    r = input instanceof Resources ? input : Resources.of(input);
  } catch (cause) {
    throw new BerthError('SPEC_INVALID', `${what}: invalid capacity: ${(cause as Error).message}`, {
      component: 'devcluster',
      hint: 'Capacity is in base units: cpu in millicpu (4000 = 4 cpus), memory and disk in bytes.',
      cause,
    });
  }
  return r.ports.isEmpty ? r.withPorts(ports) : r;
}

function gib(bytes: number): string {
  return `${bytes} bytes (${(bytes / 1024 ** 3).toFixed(2)} GiB)`;
}

/**
 * Why `request` does not fit into `free`, ignoring ports (the engine checks those one by one), or
 * undefined when it fits: "insufficient cpu: requested 2000m, free 1500m".
 */
export function shortfall(request: Resources, free: Resources): string | undefined {
  const problems: string[] = [];
  if (request.cpu > free.cpu) problems.push(`insufficient cpu: requested ${request.cpu}m, free ${free.cpu}m`);
  if (request.memory > free.memory) {
    problems.push(`insufficient memory: requested ${gib(request.memory)}, free ${gib(free.memory)}`);
  }
  if (request.disk > free.disk)
    problems.push(`insufficient disk: requested ${gib(request.disk)}, free ${gib(free.disk)}`);
  if (request.gpus > free.gpus)
    problems.push(`insufficient gpus: requested ${request.gpus}, free ${free.gpus}`);
  for (const [name, amount] of request.extended) {
    const have = free.extendedAmount(name);
    if (amount > have) problems.push(`insufficient ${name}: requested ${amount}, free ${have}`);
  }
  return problems.length === 0 ? undefined : problems.join('; ');
}
