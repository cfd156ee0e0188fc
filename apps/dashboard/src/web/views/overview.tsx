/** Every context side by side: capacity vs allocated, tasks by state, tenants' dominant shares. */
import { useQuery } from '@tanstack/react-query';
import { Link } from '@tanstack/react-router';
import { Bar, BarChart, CartesianGrid, Legend, Tooltip, XAxis, YAxis } from 'recharts';
import { type ContextOverview, type NodePage, RESOURCE_NAMES, TASK_STATE_NAMES } from '../../shared/api.ts';
import { enc, getJson } from '../api.ts';
import { ErrorNote, Loading, useContexts } from '../common.tsx';
import { formatAmount, percent } from '../format.ts';

const CHART = { width: 340, height: 190 };
/** Colours with at least 4.5:1 contrast on white, so labels drawn in them stay readable. */
const BLUE = '#1d4ed8';
const GREY = '#4b5563';
const TEAL = '#0f766e';

function ContextCard({ name }: { name: string }) {
  const overview = useQuery({
    queryKey: ['overview', name],
    queryFn: ({ signal }) => getJson<ContextOverview>(`/api/contexts/${enc(name)}/overview`, signal),
    refetchInterval: 3_000,
  });
  const nodes = useQuery({
    queryKey: ['nodes', name],
    queryFn: ({ signal }) => getJson<NodePage>(`/api/contexts/${enc(name)}/nodes`, signal),
    refetchInterval: 5_000,
  });
  const o = overview.data;
  const headingId = `ctx-${name}`;
  return (
    <section className="card context" aria-labelledby={headingId}>
      <h2 id={headingId}>
        {name} <span className="muted">{o?.backend}</span>
      </h2>
      <ErrorNote error={overview.error} />
      {!o ? (
        <Loading what={`${name} overview`} />
      ) : (
        <>
          <p>
            {o.nodes.total} nodes ({o.nodes.ready} ready, {o.nodes.unschedulable} cordoned) ·{' '}
            {Object.values(o.tasksByState).reduce((a, b) => a + b, 0)} tasks
          </p>
          <h3>Capacity vs allocated</h3>
          <table className="compact">
            <caption className="sr-only">Capacity and allocation per resource in {name}</caption>
            <thead>
              <tr>
                <th scope="col">Resource</th>
                <th scope="col">Allocated</th>
                <th scope="col">Capacity</th>
                <th scope="col">Used</th>
              </tr>
            </thead>
            <tbody>
              {RESOURCE_NAMES.filter((r) => o.capacity[r] > 0).map((r) => (
                <tr key={r}>
                  <th scope="row">{r}</th>
                  <td>{formatAmount(r, o.allocated[r])}</td>
                  <td>{formatAmount(r, o.capacity[r])}</td>
                  <td>{percent(o.allocated[r], o.capacity[r])}%</td>
                </tr>
              ))}
            </tbody>
          </table>
          <figure>
            <BarChart
              {...CHART}
              data={RESOURCE_NAMES.filter((r) => o.capacity[r] > 0).map((r) => ({
                resource: r,
                allocated: percent(o.allocated[r], o.capacity[r]),
                free: Math.max(0, 100 - percent(o.allocated[r], o.capacity[r])),
              }))}
              accessibilityLayer={false}
            >
              <CartesianGrid strokeDasharray="3 3" />
              <XAxis dataKey="resource" />
              <YAxis unit="%" domain={[0, 100]} />
              <Tooltip />
              <Legend />
              <Bar dataKey="allocated" stackId="a" fill={BLUE} name="allocated %" isAnimationActive={false} />
              <Bar dataKey="free" stackId="a" fill="#cbd5e1" name="free %" isAnimationActive={false} />
            </BarChart>
            <figcaption>Allocated share of each resource in {name}</figcaption>
          </figure>
          <h3>Tasks by state</h3>
          <figure>
            <BarChart
              {...CHART}
              data={TASK_STATE_NAMES.filter((s) => o.tasksByState[s] > 0).map((s) => ({
                state: s,
                tasks: o.tasksByState[s],
              }))}
              accessibilityLayer={false}
            >
              <CartesianGrid strokeDasharray="3 3" />
              <XAxis dataKey="state" />
              <YAxis allowDecimals={false} />
              <Tooltip />
              <Bar dataKey="tasks" fill={GREY} isAnimationActive={false} />
            </BarChart>
            <figcaption>
              {TASK_STATE_NAMES.filter((s) => o.tasksByState[s] > 0)
                .map((s) => `${o.tasksByState[s]} ${s}`)
                .join(', ') || 'No tasks'}
            </figcaption>
          </figure>
          <h3>Tenants' dominant shares</h3>
          {o.tenants.length === 0 ? (
            <p className="muted">No tenant holds resources.</p>
          ) : (
            <figure>
              <BarChart
                {...CHART}
                layout="vertical"
                data={o.tenants.map((t) => ({
                  tenant: t.tenant,
                  share: Math.round(t.dominantShare * 1000) / 10,
                }))}
                accessibilityLayer={false}
              >
                <CartesianGrid strokeDasharray="3 3" />
                <XAxis type="number" unit="%" domain={[0, 100]} />
                <YAxis type="category" dataKey="tenant" width={90} />
                <Tooltip />
                <Bar dataKey="share" fill={TEAL} name="dominant share %" isAnimationActive={false} />
              </BarChart>
              <figcaption>
                {o.tenants
                  .map(
                    (t) =>
                      `${t.tenant} ${Math.round(t.dominantShare * 1000) / 10}% (${t.dominantResource || '-'})`,
                  )
                  .join(', ')}
              </figcaption>
            </figure>
          )}
          <h3>Nodes</h3>
          {nodes.data && (
            <ul className="node-chips" aria-label={`Nodes of ${name}`}>
              {nodes.data.rows.slice(0, 60).map((r) => (
                <li key={r[0]}>
                  <Link to="/nodes" search={{ ctx: name, node: r[0] }}>
                    {/* Mesos agent ids are opaque: an operator knows the node by its hostname. */}
                    {r[1] || r[0]} <span className="muted">{percent(r[5], r[4])}% cpu</span>
                  </Link>
                </li>
              ))}
              {nodes.data.total > 60 && (
                <li>
                  <Link to="/nodes" search={{ ctx: name }}>
                    and {nodes.data.total - 60} more…
                  </Link>
                </li>
              )}
            </ul>
          )}
        </>
      )}
    </section>
  );
}

export function OverviewView() {
  const contexts = useContexts();
  return (
    <>
      <h1>Overview</h1>
      <ErrorNote error={contexts.error} />
      {contexts.data?.length === 0 && <p>No contexts are configured.</p>}
      <div className="contexts">
        {(contexts.data ?? []).map((c) => (
          <ContextCard key={c.name} name={c.name} />
        ))}
      </div>
    </>
  );
}
