/**
 * The clusters the browser tests look at. Today: two in-memory clusters named like devcluster's
 * contexts. When the Mesos and Kubernetes adapters land, swap this one line for devcluster's faces
 * (same `{ contexts, close }` shape) and every browser test runs against them unchanged.
 */
import { createDemoContexts, type DemoContexts } from '../../src/server/demo-contexts.ts';

export const createBrowserTestContexts = (): Promise<Pick<DemoContexts, 'contexts' | 'close'>> =>
  createDemoContexts({ nodes: 4 });
