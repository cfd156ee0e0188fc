/** The views and their URLs. The context of a view travels as `?ctx=`, so links can be shared. */
import {
  createRootRoute,
  createRoute,
  createRouter,
  Link,
  lazyRouteComponent,
  Outlet,
} from '@tanstack/react-router';
import { useLive } from './live.tsx';
import { EventsView } from './views/events.tsx';
import { NodesView } from './views/nodes.tsx';
import { OverviewView } from './views/overview.tsx';
import { ServicesView } from './views/services.tsx';
import { TaskDetailView } from './views/task-detail.tsx';
import { TasksView } from './views/tasks.tsx';

function Layout() {
  const { connected } = useLive();
  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <span className="brand">Berth</span>
        <nav aria-label="Views">
          <ul>
            <li>
              <Link to="/" activeOptions={{ exact: true }}>
                Overview
              </Link>
            </li>
            <li>
              <Link to="/nodes">Nodes</Link>
            </li>
            <li>
              <Link to="/tasks">Tasks</Link>
            </li>
            <li>
              <Link to="/submit">Submit</Link>
            </li>
            <li>
              <Link to="/services">Services</Link>
            </li>
            <li>
              <Link to="/events">Events</Link>
            </li>
          </ul>
        </nav>
        <span className={connected ? 'live on' : 'live off'} role="status">
          {connected ? 'Live' : 'Reconnecting…'}
        </span>
      </header>
      <main id="main" tabIndex={-1}>
        <Outlet />
      </main>
    </>
  );
}

/** The non-empty string values of `keys` in a parsed query string. */
function pick<K extends string>(s: Record<string, unknown>, ...keys: K[]): { [P in K]?: string } {
  const out: { [P in K]?: string } = {};
  for (const k of keys) {
    const v = s[k];
    if (typeof v === 'string' && v !== '') out[k] = v;
  }
  return out;
}

const rootRoute = createRootRoute({ component: Layout });

const overviewRoute = createRoute({ getParentRoute: () => rootRoute, path: '/', component: OverviewView });

export const nodesRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/nodes',
  validateSearch: (s: Record<string, unknown>) => pick(s, 'ctx', 'node'),
  component: NodesView,
});

export const tasksRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/tasks',
  validateSearch: (s: Record<string, unknown>) => pick(s, 'ctx', 'state', 'q'),
  component: TasksView,
});

export const taskDetailRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/tasks/$ctx/$taskId',
  component: TaskDetailView,
});

export const submitRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/submit',
  validateSearch: (s: Record<string, unknown>) => pick(s, 'ctx'),
  // The editor (CodeMirror, schema tooling) loads only when the Submit view opens.
  component: lazyRouteComponent(() => import('./views/submit.tsx'), 'SubmitView'),
});

export const servicesRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/services',
  validateSearch: (s: Record<string, unknown>) => pick(s, 'ctx', 'service'),
  component: ServicesView,
});

const eventsRoute = createRoute({ getParentRoute: () => rootRoute, path: '/events', component: EventsView });

const routeTree = rootRoute.addChildren([
  overviewRoute,
  nodesRoute,
  tasksRoute,
  taskDetailRoute,
  submitRoute,
  servicesRoute,
  eventsRoute,
]);

export const router = createRouter({ routeTree, defaultPreload: false });

declare module '@tanstack/react-router' {
  interface Register {
    router: typeof router;
  }
}
