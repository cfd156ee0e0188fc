// Public surface of core/discovery; re-exported from the package root.
export {
  type EndpointEvent,
  EndpointRegistry,
  type EndpointRegistryOptions,
  type EndpointWatchOptions,
} from './endpoint-registry.ts';
export {
  type DiscoveryTaskStatus,
  diffEndpoints,
  type EndpointChange,
  type EndpointHealth,
  type EndpointOptions,
  type EndpointResult,
  endpointChanged,
  endpointFromStatus,
  type ServiceEndpoint,
  type WithdrawalReason,
} from './endpoints.ts';
