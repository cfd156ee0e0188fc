// Public surface of core/resources; re-exported from the package root.
export {
  type FromMesosOptions,
  fromMesosResources,
  type MesosReservation,
  type MesosResource,
  type MesosValueType,
  mesosReservationRole,
  mesosResourcesByRole,
  mesosResourceUsableBy,
  type ToMesosOptions,
  toMesosResources,
} from './mesos.ts';
export { MAX_PORT, type PortRange, PortRanges } from './port-ranges.ts';
export {
  parseQuantity,
  Quantity,
  type QuantityFormat,
  type QuantityParseProblem,
  type QuantityScale,
} from './quantity.ts';
export {
  GPU_RESOURCE_NAME,
  type ResourceList,
  type ResourceQuantities,
  Resources,
  type ResourcesInit,
  type SubtractMode,
} from './resources.ts';
