export {
  type ApiGroupName,
  type ApiVersionChoice,
  chooseApiVersions,
  type DiscoveredGroup,
  requireApiVersion,
  SUPPORTED_GROUP_VERSIONS,
} from './api-versions.ts';
