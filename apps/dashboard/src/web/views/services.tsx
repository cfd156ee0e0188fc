/** Services: replicas running vs desired, endpoints, scaling, and the replica history chart. */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { getRouteApi } from '@tanstack/react-router';
import { useId, useState } from 'react';
import { CartesianGrid, Legend, Line, LineChart, Tooltip, XAxis, YAxis } from 'recharts';
import type { ServiceHistoryPoint, ServiceView } from '../../shared/api.ts';
import { enc, getJson, postJson } from '../api.ts';
import { ContextSelect, ErrorNote, Loading, useCurrentContext } from '../common.tsx';
import { formatTime } from '../format.ts';
import { useLiveMessages } from '../live.tsx';

const route = getRouteApi('/services');

interface EndpointView {
  readonly taskId: string;
  readonly nodeId: string;
  readonly host: string;
  readonly ports: Readonly<Record<string, number>>;
}

function ServicePanel({ ctx, name }: { ctx: string; name: string }) {
  const queryClient = useQueryClient();
  const replicasId = useId();
  const history = useQuery({
    queryKey: ['history', ctx, name],
    queryFn: ({ signal }) =>
      getJson<ServiceHistoryPoint[]>(`/api/contexts/${enc(ctx)}/services/${enc(name)}/history`, signal),
    refetchInterval: 2_000,
  });
  const endpoints = useQuery({
    queryKey: ['endpoints', ctx, name],
    queryFn: ({ signal }) =>
      getJson<EndpointView[]>(`/api/contexts/${enc(ctx)}/services/${enc(name)}/endpoints`, signal),
    refetchInterval: 3_000,
  });
  const [replicas, setReplicas] = useState('');
  const scale = useMutation({
    mutationFn: () =>
      postJson(`/api/contexts/${enc(ctx)}/services/${enc(name)}/scale`, { replicas: Number(replicas) }),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['services', ctx] }),
  });
  const points = history.data ?? [];
  const series = points.length === 1 ? [...points, { ...points[0]!, at: Date.now() }] : points;
  return (
    <section className="card" aria-labelledby="svc-title">
      <h2 id="svc-title">Service {name}</h2>
      <form
        className="toolbar"
        onSubmit={(e) => {
          e.preventDefault();
          scale.mutate();
        }}
      >
        <span className="field">
          <label htmlFor={replicasId}>Replicas</label>
          <input
            id={replicasId}
            type="number"
            min={0}
            step={1}
            required
            value={replicas}
            onChange={(e) => setReplicas(e.target.value)}
          />
        </span>
        <button type="submit" disabled={scale.isPending}>
          Scale
        </button>
      </form>
      <ErrorNote error={scale.error} />
      <figure>
        <LineChart width={560} height={220} data={series} accessibilityLayer={false}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis dataKey="at" type="number" domain={['dataMin', 'dataMax']} tickFormatter={formatTime} />
          <YAxis allowDecimals={false} />
          <Tooltip labelFormatter={(v) => formatTime(Number(v))} />
          <Legend />
          <Line type="stepAfter" dataKey="desired" stroke="#1d4ed8" dot={false} isAnimationActive={false} />
          <Line type="stepAfter" dataKey="running" stroke="#b45309" dot={false} isAnimationActive={false} />
        </LineChart>
        <figcaption>
          Replicas over time: desired vs running
          {points.length > 0 &&
            ` (now ${points.at(-1)?.running} running of ${points.at(-1)?.desired} desired)`}
        </figcaption>
      </figure>
      <h3>Endpoints</h3>
      <ErrorNote error={endpoints.error} />
      {endpoints.data?.length === 0 && <p className="muted">No running replicas.</p>}
      {endpoints.data && endpoints.data.length > 0 && (
        <table className="compact">
          <caption className="sr-only">Endpoints of {name}</caption>
          <thead>
            <tr>
              <th scope="col">Task</th>
              <th scope="col">Host</th>
              <th scope="col">Ports</th>
            </tr>
          </thead>
          <tbody>
            {endpoints.data.map((e) => (
              <tr key={e.taskId}>
                <th scope="row">{e.taskId}</th>
                <td>{e.host}</td>
                <td>
                  {Object.entries(e.ports)
                    .map(([k, v]) => `${k}:${v}`)
                    .join(', ') || '—'}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

export function ServicesView() {
  const search = route.useSearch();
  const navigate = route.useNavigate();
  const ctx = useCurrentContext(search.ctx);
  const queryClient = useQueryClient();
  const services = useQuery({
    queryKey: ['services', ctx],
    queryFn: ({ signal }) => getJson<ServiceView[]>(`/api/contexts/${enc(ctx ?? '')}/services`, signal),
    enabled: ctx !== undefined,
  });
  useLiveMessages((m) => {
    if (m.type === 'task' && m.context === ctx && m.row[3] !== '') {
      void queryClient.invalidateQueries({ queryKey: ['services', ctx] });
    }
  });
  return (
    <>
      <h1>Services</h1>
      <div className="toolbar">
        <ContextSelect value={ctx} onChange={(c) => void navigate({ search: { ctx: c } })} />
      </div>
      <ErrorNote error={services.error} />
      {!services.data ? (
        <Loading what="services" />
      ) : services.data.length === 0 ? (
        <p>No services in {ctx}.</p>
      ) : (
        <table className="compact">
          <caption className="sr-only">Services of {ctx}</caption>
          <thead>
            <tr>
              <th scope="col">Service</th>
              <th scope="col">Running</th>
              <th scope="col">Desired</th>
              <th scope="col">Tasks seen</th>
            </tr>
          </thead>
          <tbody>
            {services.data.map((s) => (
              <tr key={s.name} aria-current={s.name === search.service ? 'true' : undefined}>
                <th scope="row">
                  <button
                    type="button"
                    className="link"
                    onClick={() => void navigate({ search: { ...search, service: s.name } })}
                  >
                    {s.name}
                  </button>
                </th>
                <td>{s.running}</td>
                <td>{s.desired}</td>
                <td>{s.tasks}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {ctx !== undefined && search.service !== undefined && <ServicePanel ctx={ctx} name={search.service} />}
    </>
  );
}
