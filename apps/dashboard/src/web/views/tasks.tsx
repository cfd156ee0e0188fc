/**
 * Every task of a context in a virtualized table (only the visible rows exist in the DOM, so
 * 50,000 rows scroll smoothly), filtered by state and text, and patched live from the event
 * stream without reloading.
 */
import { useQuery } from '@tanstack/react-query';
import { getRouteApi, Link } from '@tanstack/react-router';
import { useVirtualizer } from '@tanstack/react-virtual';
import { useEffect, useId, useMemo, useRef, useState } from 'react';
import { TASK_STATE_NAMES, type TaskPage, type TaskRow } from '../../shared/api.ts';
import { enc, getJson } from '../api.ts';
import { ContextSelect, ErrorNote, Loading, StateBadge, useCurrentContext } from '../common.tsx';
import { formatTime } from '../format.ts';
import { useLiveMessages } from '../live.tsx';

const route = getRouteApi('/tasks');
const ROW_HEIGHT = 34;

/** The context's tasks by id: the fetched page, then every streamed change (newest wins). */
export function useLiveTasks(ctx: string | undefined): { rows: TaskRow[] | undefined; error: unknown } {
  const q = useQuery({
    queryKey: ['tasks', ctx],
    queryFn: ({ signal }) => getJson<TaskPage>(`/api/contexts/${enc(ctx ?? '')}/tasks`, signal),
    enabled: ctx !== undefined,
    // Fresh on every visit (the stream patches it only while the view is open), never refetched while open.
    staleTime: Number.POSITIVE_INFINITY,
    gcTime: 0,
  });
  const byId = useRef(new Map<string, TaskRow>());
  const [version, setVersion] = useState(0);
  const pending = useRef<number | undefined>(undefined);
  useEffect(() => {
    const m = new Map<string, TaskRow>();
    for (const r of q.data?.rows ?? []) m.set(r[0], r);
    // Changes streamed before the page arrived are newer than it when their timestamp says so.
    for (const [id, r] of byId.current) {
      const had = m.get(id);
      if (had === undefined || had[6] <= r[6]) m.set(id, r);
    }
    byId.current = m;
    setVersion((v) => v + 1);
  }, [q.data]);
  useEffect(() => () => window.clearTimeout(pending.current), []);
  useLiveMessages((m) => {
    if (m.type !== 'task' || m.context !== ctx) return;
    const old = byId.current.get(m.row[0]);
    if (old !== undefined && old[6] > m.row[6]) return;
    byId.current.set(m.row[0], m.row);
    // Many changes per second coalesce into one render.
    pending.current ??= window.setTimeout(() => {
      pending.current = undefined;
      setVersion((v) => v + 1);
    }, 100);
  });
  // biome-ignore lint/correctness/useExhaustiveDependencies: `version` marks a change of the mutable map.
  const rows = useMemo(
    () =>
      q.data === undefined
        ? undefined
        : [...byId.current.values()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)),
    [version, q.data],
  );
  return { rows, error: q.error };
}

export function TasksView() {
  const search = route.useSearch();
  const navigate = route.useNavigate();
  const ctx = useCurrentContext(search.ctx);
  const { rows, error } = useLiveTasks(ctx);
  const stateId = useId();
  const textId = useId();
  const state = search.state ?? '';
  const text = (search.q ?? '').toLowerCase();
  const visible = useMemo(
    () =>
      (rows ?? []).filter(
        (r) =>
          (state === '' || r[1] === state) &&
          (text === '' ||
            r[0].toLowerCase().includes(text) ||
            r[2].toLowerCase().includes(text) ||
            r[3].toLowerCase().includes(text) ||
            r[5].toLowerCase().includes(text)),
      ),
    [rows, state, text],
  );
  const scroller = useRef<HTMLElement>(null);
  const virtual = useVirtualizer({
    count: visible.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 12,
  });
  const setSearch = (patch: { state?: string; q?: string }) => {
    const next = { ...search, ...patch };
    void navigate({
      search: {
        ...(next.ctx ? { ctx: next.ctx } : {}),
        ...(next.state ? { state: next.state } : {}),
        ...(next.q ? { q: next.q } : {}),
      },
      replace: true,
    });
  };
  return (
    <>
      <h1>Tasks</h1>
      <div className="toolbar">
        <ContextSelect value={ctx} onChange={(c) => void navigate({ search: { ctx: c } })} />
        <span className="field">
          <label htmlFor={stateId}>State</label>
          <select id={stateId} value={state} onChange={(e) => setSearch({ state: e.target.value })}>
            <option value="">any</option>
            {TASK_STATE_NAMES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </span>
        <span className="field">
          <label htmlFor={textId}>Filter</label>
          <input
            id={textId}
            type="search"
            placeholder="id, node, service or message"
            defaultValue={search.q ?? ''}
            onChange={(e) => setSearch({ q: e.target.value })}
          />
        </span>
      </div>
      <ErrorNote error={error} />
      {rows === undefined ? (
        <Loading what="tasks" />
      ) : (
        <>
          <p role="status">
            {visible.length} of {rows.length} tasks
          </p>
          <section
            ref={scroller}
            className="vscroll"
            // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling region must take focus so the keyboard can scroll it.
            tabIndex={0}
            aria-label={`Tasks in ${ctx} (scroll with the arrow keys)`}
          >
            <table className="vtable" aria-rowcount={visible.length + 1}>
              <thead>
                <tr className="vrow vhead" aria-rowindex={1}>
                  <th scope="col">Task</th>
                  <th scope="col">State</th>
                  <th scope="col">Node</th>
                  <th scope="col">Service</th>
                  <th scope="col">Reason / message</th>
                  <th scope="col">Updated</th>
                </tr>
              </thead>
              <tbody style={{ height: virtual.getTotalSize() }}>
                {virtual.getVirtualItems().map((item) => {
                  const r = visible[item.index]!;
                  return (
                    <tr
                      key={r[0]}
                      aria-rowindex={item.index + 2}
                      className="vrow"
                      data-task={r[0]}
                      style={{ transform: `translateY(${item.start}px)` }}
                    >
                      <td>
                        <Link to="/tasks/$ctx/$taskId" params={{ ctx: ctx ?? '', taskId: r[0] }}>
                          {r[0]}
                        </Link>
                      </td>
                      <td>
                        <StateBadge state={r[1]} />
                      </td>
                      <td>{r[2]}</td>
                      <td>{r[3]}</td>
                      <td className="ellipsis" title={r[5]}>
                        {r[4]}
                        {r[4] && r[5] ? ': ' : ''}
                        {r[5]}
                      </td>
                      <td>{formatTime(r[6])}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </section>
        </>
      )}
    </>
  );
}
