/** One task: its status, where it was placed and why (or why not), its events, log tail and Kill. */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { getRouteApi, Link } from '@tanstack/react-router';
import type { TaskDetail } from '../../shared/api.ts';
import { enc, getJson, postJson } from '../api.ts';
import { ErrorNote, Loading, StateBadge } from '../common.tsx';
import { formatTime } from '../format.ts';
import { useLiveMessages } from '../live.tsx';

const route = getRouteApi('/tasks/$ctx/$taskId');
const TERMINAL = new Set(['FINISHED', 'FAILED', 'KILLED', 'LOST', 'ERROR']);

function Explanation({ d }: { d: TaskDetail }) {
  const e = d.explanation;
  if (e.kind === 'placed') {
    return (
      <>
        <p>
          Placed on <strong>{e.nodeId}</strong> with score {e.score} ({e.feasibleNodes} of {e.totalNodes}{' '}
          nodes feasible).
        </p>
        <table className="compact">
          <caption>Score of the chosen node by plugin</caption>
          <thead>
            <tr>
              <th scope="col">Plugin</th>
              <th scope="col">Score</th>
              <th scope="col">Weight</th>
            </tr>
          </thead>
          <tbody>
            {e.scores.map((s) => (
              <tr key={s.plugin}>
                <th scope="row">{s.plugin}</th>
                <td>{s.score}</td>
                <td>{s.weight}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <h3>Alternatives</h3>
        {e.alternatives.length === 0 ? (
          <p className="muted">No other feasible node.</p>
        ) : (
          <ol>
            {e.alternatives.map((a) => (
              <li key={a.nodeId}>
                {a.nodeId} (score {a.score})
              </li>
            ))}
          </ol>
        )}
      </>
    );
  }
  if (e.kind === 'unplaceable') {
    return (
      <>
        <p className="warning">{e.message}</p>
        <h3>Why it is pending</h3>
        <ul aria-label="Reasons">
          {e.reasons.map((r) => (
            <li key={r.reason}>
              {r.count} of {e.totalNodes} nodes: {r.reason}
            </li>
          ))}
        </ul>
      </>
    );
  }
  return (
    <p>
      {d.status.state === 'PENDING' ? 'Pending: ' : ''}
      {e.reason ?? ''}
      {e.reason && e.message ? ' — ' : ''}
      {e.message ??
        (d.status.nodeId ? `Running on ${d.status.nodeId}.` : 'No explanation reported by the backend.')}
    </p>
  );
}

export function TaskDetailView() {
  const { ctx, taskId } = route.useParams();
  const queryClient = useQueryClient();
  const key = ['task', ctx, taskId];
  const q = useQuery({
    queryKey: key,
    queryFn: ({ signal }) => getJson<TaskDetail>(`/api/contexts/${enc(ctx)}/tasks/${enc(taskId)}`, signal),
  });
  useLiveMessages((m) => {
    if (m.context === ctx && m.type === 'task' && m.row[0] === taskId)
      void queryClient.invalidateQueries({ queryKey: key });
  });
  const kill = useMutation({
    mutationFn: () => postJson(`/api/contexts/${enc(ctx)}/tasks/${enc(taskId)}/kill`, {}),
    onSettled: () => queryClient.invalidateQueries({ queryKey: key }),
  });
  const d = q.data;
  return (
    <>
      <p>
        <Link to="/tasks" search={{ ctx }}>
          ← All tasks of {ctx}
        </Link>
      </p>
      <h1>Task {taskId}</h1>
      <ErrorNote error={q.error} />
      {!d ? (
        <Loading what={`task ${taskId}`} />
      ) : (
        <>
          <section className="card" aria-labelledby="status-title">
            <h2 id="status-title">Status</h2>
            <p>
              State: <StateBadge state={d.status.state} />{' '}
              <span className="muted">
                ({d.status.rawState}
                {d.status.reason ? `, ${d.status.reason}` : ''})
              </span>
            </p>
            {d.status.message && <p>{d.status.message}</p>}
            <dl className="facts">
              <dt>Node</dt>
              <dd>
                {d.status.nodeId ? (
                  <Link to="/nodes" search={{ ctx, node: d.status.nodeId }}>
                    {d.status.nodeId}
                  </Link>
                ) : (
                  'none'
                )}
              </dd>
              <dt>Service</dt>
              <dd>{d.status.service ?? 'none'}</dd>
              <dt>Ports</dt>
              <dd>
                {Object.entries(d.status.ports)
                  .map(([k, v]) => `${k}=${v}`)
                  .join(', ') || 'none'}
              </dd>
              {d.status.exitCode !== undefined && (
                <>
                  <dt>Exit code</dt>
                  <dd>{d.status.exitCode}</dd>
                </>
              )}
            </dl>
            <button
              type="button"
              className="danger"
              disabled={TERMINAL.has(d.status.state) || kill.isPending}
              onClick={() => {
                if (window.confirm(`Kill task ${taskId}?`)) kill.mutate();
              }}
            >
              Kill task
            </button>
            <ErrorNote error={kill.error} />
          </section>
          <section className="card" aria-labelledby="placement-title">
            <h2 id="placement-title">Placement</h2>
            <Explanation d={d} />
          </section>
          <section className="card" aria-labelledby="events-title">
            <h2 id="events-title">Events</h2>
            {d.events.length === 0 ? (
              <p className="muted">No events recorded since the dashboard started.</p>
            ) : (
              <ol className="events">
                {d.events.map((e) => (
                  <li key={e.seq} className={e.level}>
                    <time>{formatTime(e.at)}</time> <strong>{e.kind}</strong> {e.message}
                  </li>
                ))}
              </ol>
            )}
          </section>
          <section className="card" aria-labelledby="logs-title">
            <h2 id="logs-title">Log tail</h2>
            {d.logs.length === 0 ? (
              <p className="muted">No output.</p>
            ) : (
              <section
                className="logs"
                aria-label={`Output of ${taskId}`}
                // biome-ignore lint/a11y/noNoninteractiveTabindex: the log scrolls, so it must take focus for the keyboard.
                tabIndex={0}
              >
                <pre>{d.logs.map((l) => `${l.stream === 'stderr' ? '! ' : ''}${l.line}`).join('\n')}</pre>
              </section>
            )}
          </section>
        </>
      )}
    </>
  );
}
