export * from '../shared/api.ts';
export {
  createDashboardApp,
  type DashboardApp,
  type DashboardContext,
  type DashboardOptions,
} from './app.ts';
export { createDemoContexts, type DemoContexts, type DemoOptions } from './demo-contexts.ts';
export { HTTP_STATUS_BY_CODE } from './http-error.ts';
export { LiveHub, type LiveHubOptions, type Sequenced } from './live-hub.ts';
export { isLoopbackHost, TOKEN_COOKIE } from './security.ts';
export {
  DEFAULT_STATIC_DIR,
  type RunningDashboard,
  type StartDashboardOptions,
  startDashboard,
} from './start-dashboard.ts';
