/**
 * A YAML editor checked against Berth's JSON Schema as you type (CodeMirror 6 with
 * codemirror-json-schema, bundled: works offline), a plan preview from the placement engine on the
 * live snapshot, then submit and follow each task's state live.
 */
import { EditorState } from '@codemirror/state';
import { useMutation, useQuery } from '@tanstack/react-query';
import { getRouteApi, Link } from '@tanstack/react-router';
import { basicSetup, EditorView } from 'codemirror';
import { yamlSchema } from 'codemirror-json-schema/yaml';
import { useEffect, useRef, useState } from 'react';
import type { PlanView, SubmitView as SubmitResult, TaskStateName } from '../../shared/api.ts';
import { enc, getJson, postJson } from '../api.ts';
import { ContextSelect, ErrorNote, StateBadge, useCurrentContext } from '../common.tsx';
import { useLiveMessages } from '../live.tsx';

const route = getRouteApi('/submit');

export const EXAMPLE_SPEC = `apiVersion: berth.dev/v1
kind: Task
metadata:
  name: hello
  tenant: default
spec:
  command: echo hello from berth; sleep 3600
  resources:
    requests: { cpu: 250m, memory: 64Mi }
`;

function Editor({
  schema,
  value,
  onChange,
}: {
  schema: unknown;
  value: string;
  onChange: (v: string) => void;
}) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | undefined>(undefined);
  const changed = useRef(onChange);
  changed.current = onChange;
  // biome-ignore lint/correctness/useExhaustiveDependencies: the editor owns its text after creation.
  useEffect(() => {
    if (!host.current) return;
    const v = new EditorView({
      parent: host.current,
      state: EditorState.create({
        doc: value,
        extensions: [
          basicSetup,
          ...yamlSchema(schema as Parameters<typeof yamlSchema>[0]),
          EditorView.contentAttributes.of({
            'aria-label': 'Berth YAML spec',
            'aria-describedby': 'editor-help',
          }),
          EditorView.updateListener.of((u) => {
            if (u.docChanged) changed.current(u.state.doc.toString());
          }),
        ],
      }),
    });
    view.current = v;
    return () => v.destroy();
  }, [schema]);
  return <div ref={host} className="editor" />;
}

function PlanTable({ plan }: { plan: PlanView }) {
  return (
    <section className="card" aria-labelledby="plan-title">
      <h2 id="plan-title">Plan preview</h2>
      <p>
        {plan.placements.length} of {plan.tasks} tasks placed on {plan.nodes} nodes (profile {plan.profile}).
      </p>
      <table className="compact">
        <caption className="sr-only">Where each task would land</caption>
        <thead>
          <tr>
            <th scope="col">Task</th>
            <th scope="col">Node</th>
            <th scope="col">Explanation</th>
          </tr>
        </thead>
        <tbody>
          {plan.placements.map((p) => (
            <tr key={p.taskId}>
              <th scope="row">{p.taskId}</th>
              <td>{p.nodeId}</td>
              <td>{p.message}</td>
            </tr>
          ))}
          {plan.unplaceable.map((u) => (
            <tr key={u.taskId} className="unplaceable">
              <th scope="row">{u.taskId}</th>
              <td>unplaceable</td>
              <td>{u.message}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

export function SubmitView() {
  const search = route.useSearch();
  const navigate = route.useNavigate();
  const ctx = useCurrentContext(search.ctx);
  const schema = useQuery({
    queryKey: ['schema'],
    queryFn: ({ signal }) => getJson<unknown>('/api/schema', signal),
    staleTime: Number.POSITIVE_INFINITY,
  });
  const [yaml, setYaml] = useState(EXAMPLE_SPEC);
  /** States streamed for the submitted context since Submit was pressed (they may beat the response). */
  const [states, setStates] = useState<Record<string, TaskStateName>>({});
  const plan = useMutation({
    mutationFn: () => postJson<PlanView>(`/api/contexts/${enc(ctx ?? '')}/plan`, { yaml }),
  });
  const submit = useMutation({
    mutationFn: () => postJson<SubmitResult>(`/api/contexts/${enc(ctx ?? '')}/submit`, { yaml }),
  });
  const submittedCtx = useRef<string | undefined>(undefined);
  useLiveMessages((m) => {
    if (m.type !== 'task' || m.context !== submittedCtx.current) return;
    setStates((s) => ({ ...s, [m.row[0]]: m.row[1] }));
  });
  return (
    <>
      <h1>Submit</h1>
      <div className="toolbar">
        <ContextSelect value={ctx} onChange={(c) => void navigate({ search: { ctx: c } })} />
      </div>
      <p id="editor-help" className="muted">
        Tasks, Services and Jobs in Berth YAML; several documents separated by <code>---</code>. Problems are
        underlined as you type (checked against Berth's JSON Schema); hover them for details. Press Escape
        then Tab to leave the editor.
      </p>
      {schema.data === undefined ? (
        <ErrorNote error={schema.error} />
      ) : (
        <Editor schema={schema.data} value={yaml} onChange={setYaml} />
      )}
      <div className="toolbar">
        <button type="button" onClick={() => plan.mutate()} disabled={ctx === undefined || plan.isPending}>
          Preview plan
        </button>
        <button
          type="button"
          className="primary"
          onClick={() => {
            submittedCtx.current = ctx;
            setStates({});
            submit.mutate();
          }}
          disabled={ctx === undefined || submit.isPending}
        >
          Submit to {ctx}
        </button>
      </div>
      <ErrorNote error={plan.error ?? submit.error} />
      {plan.data && !submit.data && <PlanTable plan={plan.data} />}
      {submit.data && (
        <>
          <PlanTable plan={submit.data.plan} />
          <section className="card" aria-labelledby="progress-title">
            <h2 id="progress-title">Progress</h2>
            <ul aria-live="polite">
              {submit.data.results.map((r) => (
                <li key={r.taskId} data-task={r.taskId}>
                  <Link
                    to="/tasks/$ctx/$taskId"
                    params={{ ctx: submittedCtx.current ?? '', taskId: r.taskId }}
                  >
                    {r.taskId}
                  </Link>{' '}
                  ({r.document}, {r.outcome}): <StateBadge state={states[r.taskId] ?? r.state} />
                </li>
              ))}
            </ul>
          </section>
        </>
      )}
    </>
  );
}
