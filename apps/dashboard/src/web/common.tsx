/** Small pieces every view uses: the context picker, error notes, state badges, queries. */
import { useQuery } from '@tanstack/react-query';
import { useId } from 'react';
import type { ContextInfo, TaskStateName } from '../shared/api.ts';
import { ApiRequestError, getJson } from './api.ts';

export function useContexts() {
  return useQuery({
    queryKey: ['contexts'],
    queryFn: ({ signal }) => getJson<ContextInfo[]>('/api/contexts', signal),
  });
}

/** The context named in the URL, or the first configured one. */
export function useCurrentContext(requested: string | undefined): string | undefined {
  const { data } = useContexts();
  if (requested !== undefined && data?.some((c) => c.name === requested)) return requested;
  return data?.[0]?.name;
}

export function ContextSelect({
  value,
  onChange,
}: {
  value: string | undefined;
  onChange: (name: string) => void;
}) {
  const id = useId();
  const { data } = useContexts();
  return (
    <span className="field">
      <label htmlFor={id}>Context</label>
      <select id={id} value={value ?? ''} onChange={(e) => onChange(e.target.value)}>
        {(data ?? []).map((c) => (
          <option key={c.name} value={c.name}>
            {c.name} ({c.backend})
          </option>
        ))}
      </select>
    </span>
  );
}

export function ErrorNote({ error }: { error: unknown }) {
  if (error === null || error === undefined) return null;
  const e = error instanceof ApiRequestError ? error : undefined;
  return (
    <div role="alert" className="error">
      <p>
        <strong>{e?.body.code ?? 'ERROR'}</strong> {e ? e.message : String(error)}
      </p>
      {e?.status === 401 && (
        <p>Open the dashboard link that carries its token (…/?token=…) once in this browser.</p>
      )}
      {e?.body.hint && <p className="hint">{e.body.hint}</p>}
      {e?.body.issues && (
        <ul>
          {e.body.issues.map((i) => (
            <li key={`${i.path}:${i.line ?? ''}:${i.message}`}>
              <code>{i.path || '(document)'}</code>
              {i.line !== undefined && ` (line ${i.line})`}: {i.message}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function StateBadge({ state }: { state: TaskStateName | string }) {
  return <span className={`state state-${state.toLowerCase()}`}>{state}</span>;
}

export function Loading({ what }: { what: string }) {
  return (
    <p role="status" className="muted">
      Loading {what}…
    </p>
  );
}
