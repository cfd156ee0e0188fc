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
 * Why `request` does not fit into `capacity − allocated`, ignoring ports (the engine checks those
 * one by one), or undefined when it fits: "insufficient cpu: requested 2000m, free 1500m".
 * Allocation-free when it fits.
 */
export function shortfall(request: Resources, capacity: Resources, allocated: Resources): string | undefined {
  const freeCpu = capacity.cpu - allocated.cpu;
  const freeMemory = capacity.memory - allocated.memory;
  const freeDisk = capacity.disk - allocated.disk;
  const freeGpus = capacity.gpus - allocated.gpus;
  const problems: string[] = [];
  const add = (p: string) => {
    problems.push(p);
  };
  if (request.cpu > freeCpu) add(`insufficient cpu: requested ${request.cpu}m, free ${freeCpu}m`);
  if (request.memory > freeMemory)
    add(`insufficient memory: requested ${gib(request.memory)}, free ${gib(freeMemory)}`);
  if (request.disk > freeDisk)
    add(`insufficient disk: requested ${gib(request.disk)}, free ${gib(freeDisk)}`);
  if (request.gpus > freeGpus) add(`insufficient gpus: requested ${request.gpus}, free ${freeGpus}`);
  if (request.extended.size > 0) {
    for (const [name, amount] of request.extended) {
      const have = capacity.extendedAmount(name) - allocated.extendedAmount(name);
      if (amount > have) add(`insufficient ${name}: requested ${amount}, free ${have}`);
    }
  }
  return problems.length === 0 ? undefined : problems.join('; ');
}
