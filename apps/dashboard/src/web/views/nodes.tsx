/**
 * A canvas heat map of every node by utilization (one cell per node; 5,000 nodes draw in one pass
 * without 5,000 DOM elements), keyboard-navigable with the arrow keys, and the selected node's
 * detail: free resources and the tasks on it.
 */
import { useQuery } from '@tanstack/react-query';
import { getRouteApi, Link } from '@tanstack/react-router';
import { useEffect, useId, useMemo, useRef, useState } from 'react';
import { type NodeDetail, type NodePage, type NodeRow, RESOURCE_NAMES } from '../../shared/api.ts';
import { enc, getJson } from '../api.ts';
import { ContextSelect, ErrorNote, Loading, StateBadge, useCurrentContext } from '../common.tsx';
import { formatAmount, percent } from '../format.ts';

const route = getRouteApi('/nodes');
const CELL = 14;
const GAP = 2;

/** Utilization of a node row: the larger of cpu and memory use, 0–1. */
export function utilization(r: NodeRow): number {
  const cpu = r[4] > 0 ? r[5] / r[4] : 0;
  const mem = r[6] > 0 ? r[7] / r[6] : 0;
  return Math.min(1, Math.max(cpu, mem));
}

/** Light green (idle) to dark red (full). */
function color(u: number, ready: boolean): string {
  if (!ready) return '#6b7280';
  const hue = 130 - 130 * u;
  const light = 80 - 45 * u;
  return `hsl(${hue} 70% ${light}%)`;
}

function HeatMap({
  rows,
  selected,
  onSelect,
  label,
}: {
  rows: readonly NodeRow[];
  selected: number;
  onSelect: (index: number) => void;
  label: string;
}) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const [width, setWidth] = useState(800);
  const wrap = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = wrap.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setWidth(Math.max(200, el.clientWidth)));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  const columns = Math.max(1, Math.floor(width / (CELL + GAP)));
  const height = Math.ceil(rows.length / columns) * (CELL + GAP);
  useEffect(() => {
    const c = canvas.current;
    const g = c?.getContext('2d');
    if (!c || !g) return;
    const dpr = window.devicePixelRatio || 1;
    c.width = columns * (CELL + GAP) * dpr;
    c.height = Math.max(height, CELL) * dpr;
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, c.width, c.height);
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]!;
      g.fillStyle = color(utilization(r), r[2] === 1);
      g.fillRect((i % columns) * (CELL + GAP), Math.floor(i / columns) * (CELL + GAP), CELL, CELL);
    }
    if (selected >= 0 && selected < rows.length) {
      g.strokeStyle = '#111827';
      g.lineWidth = 2;
      g.strokeRect(
        (selected % columns) * (CELL + GAP) - 1,
        Math.floor(selected / columns) * (CELL + GAP) - 1,
        CELL + 2,
        CELL + 2,
      );
    }
  }, [rows, columns, height, selected]);

  const onKey = (e: React.KeyboardEvent) => {
    const step: Record<string, number> = {
      ArrowRight: 1,
      ArrowLeft: -1,
      ArrowDown: columns,
      ArrowUp: -columns,
    };
    if (e.key in step) {
      e.preventDefault();
      const next = Math.min(rows.length - 1, Math.max(0, (selected < 0 ? 0 : selected) + step[e.key]!));
      onSelect(next);
    } else if (e.key === 'Home') {
      e.preventDefault();
      onSelect(0);
    } else if (e.key === 'End') {
      e.preventDefault();
      onSelect(rows.length - 1);
    }
  };
  const onClick = (e: React.MouseEvent<HTMLCanvasElement>) => {
    const rect = e.currentTarget.getBoundingClientRect();
    const col = Math.floor((e.clientX - rect.left) / (CELL + GAP));
    const row = Math.floor((e.clientY - rect.top) / (CELL + GAP));
    const i = row * columns + col;
    if (col < columns && i >= 0 && i < rows.length) onSelect(i);
  };
  return (
    <div ref={wrap} className="heatmap">
      {/* biome-ignore lint/a11y/noInteractiveElementToNoninteractiveRole: the canvas is one keyboard-driven widget; `application` hands it the arrow keys. */}
      <canvas
        ref={canvas}
        style={{ width: columns * (CELL + GAP), height: Math.max(height, CELL) }}
        tabIndex={0}
        role="application"
        aria-roledescription="heat map"
        aria-label={label}
        aria-describedby="heatmap-help"
        onKeyDown={onKey}
        onClick={onClick}
      />
      <p id="heatmap-help" className="muted">
        Colour shows the larger of cpu and memory use (green idle, red full, grey not ready). Focus the map
        and use the arrow keys, Home and End to move between nodes.
      </p>
    </div>
  );
}

function NodePanel({ ctx, id }: { ctx: string; id: string }) {
  const q = useQuery({
    queryKey: ['node', ctx, id],
    queryFn: ({ signal }) => getJson<NodeDetail>(`/api/contexts/${enc(ctx)}/nodes/${enc(id)}`, signal),
    refetchInterval: 3_000,
  });
  const n = q.data;
  return (
    <section className="card" aria-labelledby="node-title">
      <h2 id="node-title">Node {id}</h2>
      <ErrorNote error={q.error} />
      {!n ? (
        <Loading what={`node ${id}`} />
      ) : (
        <>
          <p>
            {n.hostname} · {n.ready ? 'ready' : 'not ready'}
            {n.unschedulable ? ' · cordoned' : ''}
          </p>
          <table className="compact">
            <caption>Resources of {id}</caption>
            <thead>
              <tr>
                <th scope="col">Resource</th>
                <th scope="col">Allocatable</th>
                <th scope="col">Allocated</th>
                <th scope="col">Free</th>
              </tr>
            </thead>
            <tbody>
              {RESOURCE_NAMES.filter((r) => n.allocatable[r] > 0).map((r) => (
                <tr key={r}>
                  <th scope="row">{r}</th>
                  <td>{formatAmount(r, n.allocatable[r])}</td>
                  <td>
                    {formatAmount(r, n.allocated[r])} ({percent(n.allocated[r], n.allocatable[r])}%)
                  </td>
                  <td>{formatAmount(r, n.free[r])}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <h3>Tasks on {id}</h3>
          {n.tasks.length === 0 ? (
            <p className="muted">No tasks.</p>
          ) : (
            <ul>
              {n.tasks.map((t) => (
                <li key={t.taskId}>
                  <Link to="/tasks/$ctx/$taskId" params={{ ctx, taskId: t.taskId }}>
                    {t.taskId}
                  </Link>{' '}
                  {t.state && <StateBadge state={t.state} />} {t.tenant} ·{' '}
                  {formatAmount('cpu', t.resources.cpu)}, {formatAmount('memory', t.resources.memory)}
                </li>
              ))}
            </ul>
          )}
          {Object.keys(n.labels).length > 0 && (
            <>
              <h3>Labels</h3>
              <ul className="labels">
                {Object.entries(n.labels).map(([k, v]) => (
                  <li key={k}>
                    <code>
                      {k}={v}
                    </code>
                  </li>
                ))}
              </ul>
            </>
          )}
        </>
      )}
    </section>
  );
}

export function NodesView() {
  const search = route.useSearch();
  const navigate = route.useNavigate();
  const ctx = useCurrentContext(search.ctx);
  const findId = useId();
  const nodes = useQuery({
    queryKey: ['nodes', ctx],
    queryFn: ({ signal }) => getJson<NodePage>(`/api/contexts/${enc(ctx ?? '')}/nodes`, signal),
    enabled: ctx !== undefined,
    refetchInterval: 5_000,
  });
  const rows = nodes.data?.rows ?? [];
  const index = useMemo(() => new Map(rows.map((r, i) => [r[0], i])), [rows]);
  const selected = search.node === undefined ? -1 : (index.get(search.node) ?? -1);
  const select = (node: string | undefined) =>
    void navigate({ search: { ...search, ...(node === undefined ? {} : { node }) }, replace: true });
  const busiest = useMemo(() => rows.filter((r) => utilization(r) >= 0.9).length, [rows]);
  return (
    <>
      <h1>Nodes</h1>
      <div className="toolbar">
        <ContextSelect value={ctx} onChange={(c) => void navigate({ search: { ctx: c } })} />
        <span className="field">
          <label htmlFor={findId}>Find node</label>
          <input
            id={findId}
            list={`${findId}-list`}
            placeholder="node id"
            onChange={(e) => index.has(e.target.value) && select(e.target.value)}
          />
          <datalist id={`${findId}-list`}>
            {rows.slice(0, 5_000).map((r) => (
              <option key={r[0]} value={r[0]} />
            ))}
          </datalist>
        </span>
      </div>
      <ErrorNote error={nodes.error} />
      {!nodes.data ? (
        <Loading what="nodes" />
      ) : (
        <>
          <p>
            {nodes.data.total} nodes · {busiest} at 90% or more
          </p>
          <div className="split">
            <HeatMap
              rows={rows}
              selected={selected}
              onSelect={(i) => select(rows[i]?.[0])}
              label={`Utilization of ${rows.length} nodes in ${ctx}`}
            />
            <p className="sr-only" aria-live="polite">
              {selected >= 0 && rows[selected]
                ? `${rows[selected][0]}: ${Math.round(utilization(rows[selected]) * 100)}% used`
                : ''}
            </p>
            {ctx !== undefined && search.node !== undefined && <NodePanel ctx={ctx} id={search.node} />}
          </div>
        </>
      )}
    </>
  );
}
