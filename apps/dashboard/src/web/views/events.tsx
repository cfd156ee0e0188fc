/** What happened in every context, newest first, live, with filters. */
import { useQueries } from '@tanstack/react-query';
import { Link } from '@tanstack/react-router';
import { useId, useMemo, useState } from 'react';
import type { EventView } from '../../shared/api.ts';
import { enc, getJson } from '../api.ts';
import { ErrorNote, useContexts } from '../common.tsx';
import { formatTime } from '../format.ts';
import { useLiveMessages } from '../live.tsx';

const KEEP = 2_000;
const SHOW = 500;

export function EventsView() {
  const contexts = useContexts();
  const names = (contexts.data ?? []).map((c) => c.name);
  const initial = useQueries({
    queries: names.map((n) => ({
      queryKey: ['events', n],
      queryFn: ({ signal }: { signal: AbortSignal }) =>
        getJson<EventView[]>(`/api/contexts/${enc(n)}/events`, signal),
      staleTime: Number.POSITIVE_INFINITY,
    })),
  });
  const [live, setLive] = useState<EventView[]>([]);
  useLiveMessages((m) => {
    if (m.type === 'event')
      setLive((l) => (l.length >= KEEP ? [...l.slice(-KEEP + 1), m.event] : [...l, m.event]));
  });
  const [ctx, setCtx] = useState('');
  const [level, setLevel] = useState('');
  const [text, setText] = useState('');
  const ids = { ctx: useId(), level: useId(), text: useId() };
  const all = useMemo(() => {
    const seen = new Set<string>();
    const out: EventView[] = [];
    for (const e of [...initial.flatMap((q) => q.data ?? []), ...live]) {
      const key = `${e.context}#${e.seq}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(e);
    }
    return out.sort((a, b) => b.at - a.at || b.seq - a.seq);
  }, [initial, live]);
  const t = text.toLowerCase();
  const shown = all.filter(
    (e) =>
      (ctx === '' || e.context === ctx) &&
      (level === '' || e.level === level) &&
      (t === '' || `${e.kind} ${e.message} ${e.taskId ?? ''} ${e.nodeId ?? ''}`.toLowerCase().includes(t)),
  );
  return (
    <>
      <h1>Events</h1>
      <div className="toolbar">
        <span className="field">
          <label htmlFor={ids.ctx}>Context</label>
          <select id={ids.ctx} value={ctx} onChange={(e) => setCtx(e.target.value)}>
            <option value="">all</option>
            {names.map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
          </select>
        </span>
        <span className="field">
          <label htmlFor={ids.level}>Level</label>
          <select id={ids.level} value={level} onChange={(e) => setLevel(e.target.value)}>
            <option value="">all</option>
            <option value="info">info</option>
            <option value="warning">warning</option>
          </select>
        </span>
        <span className="field">
          <label htmlFor={ids.text}>Filter</label>
          <input
            id={ids.text}
            type="search"
            value={text}
            placeholder="kind, message, task or node"
            onChange={(e) => setText(e.target.value)}
          />
        </span>
      </div>
      <ErrorNote error={contexts.error ?? initial.find((q) => q.error)?.error} />
      <p role="status">
        {shown.length} events{shown.length > SHOW ? ` (newest ${SHOW} shown)` : ''}
      </p>
      <ol className="events" aria-label="Events, newest first">
        {shown.slice(0, SHOW).map((e) => (
          <li key={`${e.context}#${e.seq}`} className={e.level}>
            <time>{formatTime(e.at)}</time> <span className="muted">{e.context}</span>{' '}
            <strong>{e.kind}</strong>{' '}
            {e.taskId ? (
              <Link to="/tasks/$ctx/$taskId" params={{ ctx: e.context, taskId: e.taskId }}>
                {e.taskId}
              </Link>
            ) : null}{' '}
            {e.message}
          </li>
        ))}
      </ol>
    </>
  );
}
