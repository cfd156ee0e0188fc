export { createDashboardApp, type DashboardOptions } from './app.ts';
