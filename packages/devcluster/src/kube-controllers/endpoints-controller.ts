/**
 * Service endpoints: for every Service with a selector, the EndpointSlice controller's slices
 * (`kubernetes.io/service-name`, managed by `endpointslice-controller.k8s.io`, one slice per set of
 * resolved ports) and the core/v1 Endpoints object. Pods count once they have an IP; each endpoint
 * carries conditions ready (Ready and not terminating), serving (Ready) and terminating. Named
 * target ports resolve against each pod's container ports.
 */
import type { Controller, ControllerContext } from './controller.ts';
import {
  canonical,
  controllerRefTo,
  isDeleting,
  isPodReady,
  isTerminal,
  type Json,
  type JsonObject,
  labelsOf,
  mapSelectorMatches,
  nameOf,
  namespaceOf,
  nodeNameOf,
  num,
  obj,
  objs,
  str,
  uidOf,
} from './objects.ts';
import { WorkQueue } from './runtime.ts';

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
export const MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
export const MANAGED_BY = 'endpointslice-controller.k8s.io';
const SLICES = 'endpointslices.discovery.k8s.io';
const SERVICE_KIND = { apiVersion: 'v1', kind: 'Service' } as const;

interface ResolvedPort {
  readonly name: string;
  readonly port: number;
  readonly protocol: string;
  readonly appProtocol?: string;
}

/** The service's ports as this pod serves them (a named targetPort the pod lacks drops the port). */
export function resolvePorts(service: JsonObject, pod: JsonObject): ResolvedPort[] {
  const containerPorts = objs(obj(pod.spec).containers).flatMap((c) => objs(c.ports));
  const out: ResolvedPort[] = [];
  for (const p of objs(obj(service.spec).ports)) {
    const protocol = str(p.protocol) || 'TCP';
    const target: Json | undefined = p.targetPort ?? p.port;
    let port: number | undefined;
    if (typeof target === 'number') port = target;
    else if (typeof target === 'string' && /^\d+$/.test(target)) port = Number(target);
    else if (typeof target === 'string') {
      const found = containerPorts.find(
        (cp) => cp.name === target && (str(cp.protocol) || 'TCP') === protocol,
      );
      port = found === undefined ? undefined : num(found.containerPort);
    }
    if (port === undefined) continue;
    out.push({
      name: str(p.name),
      port,
      protocol,
      ...(typeof p.appProtocol === 'string' ? { appProtocol: p.appProtocol } : {}),
    });
  }
  return out;
}

export function startEndpointsController(ctx: ControllerContext): Controller {
  const { api, clock } = ctx;
  const services = ctx.informers.get('services');
  const pods = ctx.informers.get('pods');
  const slices = ctx.informers.get(SLICES);

  const sync = (key: string) => {
    const [ns, name] = key.split('/') as [string, string];
    const svc = services.get(ns, name);
    const ownSlices = slices
      .list(ns)
      .filter(
        (s) => labelsOf(s)[SERVICE_NAME_LABEL] === name && labelsOf(s)[MANAGED_BY_LABEL] === MANAGED_BY,
      );
    const selector = svc === undefined ? undefined : obj(svc.spec).selector;
    if (svc === undefined || isDeleting(svc) || Object.keys(obj(selector)).length === 0) {
      // No selector: endpoints are the user's; a deleted service's go with it (ownerReferences).
      if (svc === undefined) for (const s of ownSlices) api.delete(SLICES, ns, nameOf(s));
      return;
    }
    const publishNotReady = obj(svc.spec).publishNotReadyAddresses === true;
    const groups = new Map<string, { ports: ResolvedPort[]; endpoints: JsonObject[] }>();
    const ready: JsonObject[] = [];
    const notReady: JsonObject[] = [];
    const subsetPorts = new Map<string, ResolvedPort[]>();
    const selected = pods
      .list(ns)
      .filter((p) => mapSelectorMatches(selector, labelsOf(p)) && !isTerminal(p))
      .sort((a, b) => (nameOf(a) < nameOf(b) ? -1 : 1));
    for (const pod of selected) {
      const ip = str(obj(pod.status).podIP);
      if (ip === '') continue;
      const ports = resolvePorts(svc, pod);
      const sig = canonical(ports as unknown as Json);
      let g = groups.get(sig);
      if (g === undefined) {
        g = { ports, endpoints: [] };
        groups.set(sig, g);
      }
      const terminating = isDeleting(pod);
      const serving = isPodReady(pod) || publishNotReady;
      const targetRef = { kind: 'Pod', namespace: ns, name: nameOf(pod), uid: uidOf(pod) };
      g.endpoints.push({
        addresses: [ip],
        conditions: { ready: serving && !terminating, serving, terminating },
        targetRef,
        ...(nodeNameOf(pod) === '' ? {} : { nodeName: nodeNameOf(pod) }),
      });
      subsetPorts.set(sig, ports);
      if (!terminating || publishNotReady) {
        const address = { ip, ...(nodeNameOf(pod) === '' ? {} : { nodeName: nodeNameOf(pod) }), targetRef };
        (serving ? ready : notReady).push(address);
      }
    }
    // EndpointSlices: one per port set, reusing existing slices.
    const unused = [...ownSlices];
    const labels: Record<string, string> = {
      ...labelsOf(svc),
      [SERVICE_NAME_LABEL]: name,
      [MANAGED_BY_LABEL]: MANAGED_BY,
    };
    delete labels['service.kubernetes.io/headless'];
    const wanted = [...groups.values()];
    if (wanted.length === 0) wanted.push({ ports: [], endpoints: [] });
    for (const g of wanted) {
      const body = {
        addressType: 'IPv4',
        endpoints: g.endpoints,
        ports: g.ports.map((p) => ({ ...p })),
      };
      const match = unused.findIndex(
        (s) => canonical(obj({ p: s.ports ?? [] }).p) === canonical(body.ports as unknown as Json),
      );
      const existing = match >= 0 ? unused.splice(match, 1)[0] : unused.shift();
      if (existing === undefined) {
        api.create(SLICES, ns, {
          metadata: {
            generateName: `${name}-`,
            namespace: ns,
            labels,
            ownerReferences: [controllerRefTo(svc, SERVICE_KIND.apiVersion, SERVICE_KIND.kind)],
          },
          ...body,
        });
      } else if (
        canonical(body.endpoints as unknown as Json) !== canonical(existing.endpoints ?? []) ||
        canonical(body.ports as unknown as Json) !== canonical(existing.ports ?? []) ||
        canonical(labels) !== canonical(labelsOf(existing))
      ) {
        api.update(SLICES, ns, nameOf(existing), {
          ...existing,
          metadata: { ...obj(existing.metadata), labels },
          ...body,
        });
      }
    }
    for (const s of unused) api.delete(SLICES, ns, nameOf(s));

    // core/v1 Endpoints.
    const subsets: JsonObject[] = [];
    if (ready.length > 0 || notReady.length > 0) {
      const ports = [...subsetPorts.values()][0] ?? [];
      subsets.push({
        ...(ready.length > 0 ? { addresses: ready } : {}),
        ...(notReady.length > 0 ? { notReadyAddresses: notReady } : {}),
        ...(ports.length > 0 ? { ports: ports.map((p) => ({ ...p })) } : {}),
      });
    }
    let current: JsonObject | undefined;
    try {
      current = api.get('endpoints', ns, name);
    } catch {
      current = undefined;
    }
    const epLabels = { ...labelsOf(svc) };
    if (current === undefined) {
      api.create('endpoints', ns, { metadata: { name, namespace: ns, labels: epLabels }, subsets });
    } else if (canonical(current.subsets ?? []) !== canonical(subsets)) {
      api.update('endpoints', ns, name, { ...current, subsets });
    }
  };

  const queue = new WorkQueue(sync, { clock, onError: ctx.onError });
  const forPod = (pod: JsonObject) => {
    for (const svc of services.list(namespaceOf(pod)))
      if (mapSelectorMatches(obj(svc.spec).selector, labelsOf(pod)))
        queue.add(`${namespaceOf(svc)}/${nameOf(svc)}`);
  };
  const offSvc = services.on((_type, svc) => queue.add(`${namespaceOf(svc)}/${nameOf(svc)}`));
  const offPods = pods.on((_type, pod, previous) => {
    forPod(pod);
    if (previous !== undefined && canonical(labelsOf(previous)) !== canonical(labelsOf(pod)))
      forPod(previous);
  });
  const offSlices = slices.on((_type, s) => {
    const svc = labelsOf(s)[SERVICE_NAME_LABEL];
    if (svc !== undefined && labelsOf(s)[MANAGED_BY_LABEL] === MANAGED_BY)
      queue.add(`${namespaceOf(s)}/${svc}`);
  });
  for (const svc of services.list()) queue.add(`${namespaceOf(svc)}/${nameOf(svc)}`);

  return {
    name: 'endpoints',
    idle: () => queue.idle(),
    stop: () => {
      offSvc();
      offPods();
      offSlices();
      queue.close();
    },
  };
}
