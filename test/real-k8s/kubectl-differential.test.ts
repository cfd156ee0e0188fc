/**
 * The same kubectl (1.32) scenarios against devcluster's Kubernetes face and the real v1.20.2
 * apiserver, each with three virtual-kubelet nodes joined (the same child process for both), and
 * the outcomes compared after normalising names, ages, versions and ids. A difference fails the
 * test unless the scenario's normaliser documents it — each such entry is also in the devcluster
 * README's "Known differences" list of the Kubernetes face.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createKubeletLogProxy, type KubeApiServer, startKubeApiServer } from '@berth/devcluster';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type JoinedCluster, newPoolName, POOL_LABEL, startJoinedCluster } from './support/joined-cluster.ts';
import { type KubectlOptions, type KubectlResult, kubectl } from './support/kubectl.ts';
import { HOW_TO_ENABLE, realK8sEnabled, requireRealKubeconfig } from './support/real-k8s-env.ts';

describe.skipIf(!realK8sEnabled)('kubectl differential: devcluster face vs real apiserver', () => {
  it(HOW_TO_ENABLE, () => {
    expect(requireRealKubeconfig()).not.toBe('');
  });
});

/** One Kubernetes server with virtual-kubelet nodes, as the scenarios see it. */
interface Target {
  readonly name: 'face' | 'real';
  readonly kubeconfig: string;
  readonly namespace: string;
  readonly pool: string;
  readonly nodes: readonly string[];
  kubectl(args: readonly string[], options?: KubectlOptions): Promise<KubectlResult>;
  /** Target-specific strings (namespace, pool, node names) replaced by placeholders. */
  normalize(text: string): string;
}

type Outcome = Record<string, unknown>;

interface Scenario {
  readonly name: string;
  /** Runs on the real apiserver only, because devcluster lacks what it needs (the reason). */
  readonly faceLacks?: string;
  run(t: Target): Promise<Outcome>;
  /** What the real apiserver's outcome must show, so a scenario failing alike on both cannot pass. */
  check(real: Outcome): void;
}

const POD = 'diff-web';
const WATCHED = 'diff-watch';
const DEPLOYMENT = 'diff-deploy';

/** The header row and the rows (split on runs of spaces) of a kubectl table. */
function table(stdout: string): { header: string[]; rows: string[][] } {
  const [head = '', ...rest] = stdout.trimEnd().split('\n');
  return { header: head.trim().split(/\s{2,}/), rows: rest.map((l) => l.trim().split(/\s{2,}/)) };
}

/** Rows of a kubectl table cut at the header's column starts, so empty cells stay in place. */
function columns(stdout: string): Record<string, string>[] {
  const [head = '', ...rest] = stdout.trimEnd().split('\n');
  const starts = [...head.matchAll(/(?:^|\s{2,})(\S)/g)].map((m) => (m.index ?? 0) + m[0].length - 1);
  const names = starts.map((start, i) => head.slice(start, starts[i + 1]).trim());
  return rest.map((line) =>
    Object.fromEntries(names.map((name, i) => [name, line.slice(starts[i], starts[i + 1]).trim()])),
  );
}

/** A kubectl AGE value ("5s", "3m2s", "<unknown>") becomes AGE. */
const age = (s: string) => s.replace(/^(\d+[smhd])+$|^<unknown>$/, 'AGE');

function podManifest(t: Target, name: string): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: t.namespace, labels: { app: 'diff' } },
    spec: {
      nodeName: t.nodes[0],
      terminationGracePeriodSeconds: 2,
      restartPolicy: 'Never',
      containers: [
        {
          name: 'main',
          image: 'busybox:1.36',
          command: ['/bin/sh', '-c', 'echo hello from berth; echo second line; exec sleep 3600'],
          resources: { requests: { cpu: '50m', memory: '16Mi' } },
        },
      ],
    },
  });
}

function deploymentManifest(t: Target): string {
  return JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: DEPLOYMENT, namespace: t.namespace },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: DEPLOYMENT } },
      template: {
        metadata: { labels: { app: DEPLOYMENT } },
        spec: {
          nodeSelector: { [POOL_LABEL]: t.pool },
          terminationGracePeriodSeconds: 1,
          containers: [
            { name: 'main', image: 'busybox:1.36', command: ['/bin/sh', '-c', 'exec sleep 3600'] },
          ],
        },
      },
    },
  });
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, seconds = 30): Promise<T> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${seconds} s waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function podPhase(t: Target, name: string): Promise<string> {
  const r = await t.kubectl(['get', 'pod', name, '-n', t.namespace, '-o', 'jsonpath={.status.phase}']);
  return r.stdout;
}

/** The `kind`-level fields of a pod that are not timing, ids or placement. */
// biome-ignore lint/suspicious/noExplicitAny: kubectl's JSON, read field by field into a plain shape
type Json = any;

function without(keys: readonly string[], drop: readonly string[]): string[] {
  return keys.filter((k) => !drop.includes(k)).sort();
}

function podShape(pod: Json): Outcome {
  const spec = pod.spec ?? {};
  const container = spec.containers?.[0] ?? {};
  const status = pod.status ?? {};
  const cs = status.containerStatuses?.[0] ?? {};
  return {
    apiVersion: pod.apiVersion,
    kind: pod.kind,
    metadataKeys: Object.keys(pod.metadata ?? {}).sort(),
    // Known difference: the face has no ServiceAccount token volumes (no secrets, no token
    // controller), so `volumes` and `volumeMounts` are left out.
    specKeys: without(Object.keys(spec), ['volumes']),
    containerKeys: without(Object.keys(container), ['volumeMounts']),
    // status.hostIPs (Kubernetes 1.28+) is written by the virtual kubelet; the 1.20 apiserver
    // drops fields it does not know, the face keeps it: a version difference, not an emulation one.
    statusKeys: without(Object.keys(status), ['hostIPs']),
    containerStatusKeys: Object.keys(cs).sort(),
    serviceAccountName: spec.serviceAccountName,
    labels: pod.metadata?.labels,
    spec: {
      restartPolicy: spec.restartPolicy,
      dnsPolicy: spec.dnsPolicy,
      schedulerName: spec.schedulerName,
      terminationGracePeriodSeconds: spec.terminationGracePeriodSeconds,
      securityContext: spec.securityContext,
      enableServiceLinks: spec.enableServiceLinks,
      priority: spec.priority,
      preemptionPolicy: spec.preemptionPolicy,
      tolerations: spec.tolerations,
    },
    container: {
      imagePullPolicy: container.imagePullPolicy,
      terminationMessagePath: container.terminationMessagePath,
      terminationMessagePolicy: container.terminationMessagePolicy,
      resources: container.resources,
    },
    status: {
      phase: status.phase,
      qosClass: status.qosClass,
      conditions: (status.conditions ?? [])
        .map((c: { type: string; status: string }) => `${c.type}=${c.status}`)
        .sort(),
      hostIP: status.hostIP,
      podIP: status.podIP,
      podIPs: status.podIPs,
      container: {
        name: cs.name,
        ready: cs.ready,
        started: cs.started,
        restartCount: cs.restartCount,
        state: Object.keys(cs.state ?? {}),
        image: cs.image,
      },
    },
  };
}

const scenarios: readonly Scenario[] = [
  {
    name: 'version -o json: the server answers with the same fields',
    async run(t) {
      const r = await t.kubectl(['version', '-o', 'json']);
      const v = JSON.parse(r.stdout) as { serverVersion?: Record<string, string> };
      return { code: r.code, serverVersionKeys: Object.keys(v.serverVersion ?? {}).sort() };
    },
    check(real) {
      expect(real.code).toBe(0);
      expect(real.serverVersionKeys).toContain('gitVersion');
    },
  },
  {
    name: 'api-resources: the face serves its resources with the real names, short names, kinds and scope',
    async run(t) {
      const r = await t.kubectl(['api-resources', '-o', 'wide']);
      const { header } = table(r.stdout);
      // Resources the face serves (its README's list); the real apiserver serves many more.
      const wanted = new Set([
        'namespaces',
        'nodes',
        'pods',
        'events',
        'services',
        'endpoints',
        'endpointslices',
        'deployments',
        'replicasets',
        'jobs',
        'leases',
        'priorityclasses',
        'horizontalpodautoscalers',
      ]);
      const found = columns(r.stdout)
        .filter((row) => wanted.has(row.NAME ?? ''))
        // metrics.k8s.io is served by metrics-server through aggregation, which this control plane
        // lacks; events.k8s.io/v1 is a known difference (the face serves core/v1 events only).
        .filter((row) => !/^(metrics|events)\.k8s\.io\//.test(row.APIVERSION ?? ''))
        .map((row) => {
          // Known difference: the face serves current versions (discovery.k8s.io/v1, autoscaling/v2),
          // the 1.20 apiserver v1beta1 and v2beta2 as preferred: compare the group only.
          const group = (row.APIVERSION ?? '').split('/').slice(0, -1).join('/') || 'core';
          // Services gained deletecollection after 1.20 (1.23's storage rewrite); the face has it.
          const verbs =
            row.NAME === 'services' ? (row.VERBS ?? '').replace('deletecollection,', '') : row.VERBS;
          return [row.NAME, row.SHORTNAMES, group, row.NAMESPACED, row.KIND, verbs, row.CATEGORIES].join(' ');
        })
        .sort();
      return { code: r.code, header, resources: [...new Set(found)] };
    },
    check(real) {
      expect(real.code).toBe(0);
      expect(real.resources).toContain(
        'pods po core true Pod create,delete,deletecollection,get,list,patch,update,watch all',
      );
    },
  },
  {
    name: 'get nodes: the joined nodes are Ready with the same columns',
    async run(t) {
      const r = await t.kubectl(['get', 'nodes', '-l', `${POOL_LABEL}=${t.pool}`]);
      const { header, rows } = table(r.stdout);
      return {
        code: r.code,
        header,
        rows: rows.map((row) => t.normalize([row[0], row[1], row[2], age(row[3] ?? '')].join(' '))).sort(),
      };
    },
    check(real) {
      expect(real.code).toBe(0);
      expect(real.rows).toEqual([
        'NODE-1 Ready <none> AGE',
        'NODE-2 Ready <none> AGE',
        'NODE-3 Ready <none> AGE',
      ]);
    },
  },
  {
    name: 'create -f: a pod manifest from stdin is created',
    async run(t) {
      const r = await t.kubectl(['create', '-f', '-'], { input: podManifest(t, POD) });
      return { code: r.code, stdout: r.stdout, stderr: r.stderr };
    },
    check(real) {
      expect(real).toEqual({ code: 0, stdout: `pod/${POD} created\n`, stderr: '' });
    },
  },
  {
    name: 'create -f of an existing pod: AlreadyExists',
    async run(t) {
      const r = await t.kubectl(['create', '-f', '-'], { input: podManifest(t, POD) });
      return { code: r.code, stdout: r.stdout, stderr: t.normalize(r.stderr) };
    },
    check(real) {
      expect(real).toEqual({
        code: 1,
        stdout: '',
        stderr: `Error from server (AlreadyExists): error when creating "STDIN": pods "${POD}" already exists\n`,
      });
    },
  },
  {
    name: 'get nodes -o wide: addresses, OS, kernel and runtime columns',
    async run(t) {
      const r = await t.kubectl(['get', 'nodes', '-o', 'wide', '-l', `${POOL_LABEL}=${t.pool}`]);
      const { header, rows } = table(r.stdout);
      return {
        code: r.code,
        header,
        rows: rows
          .map((row) => t.normalize(row.map((cell, i) => (header[i] === 'AGE' ? age(cell) : cell)).join(' ')))
          .sort(),
      };
    },
    check(real) {
      expect(real.code).toBe(0);
      expect(real.header).toContain('INTERNAL-IP');
      expect((real.rows as string[])[0]).toContain('127.0.0.1');
    },
  },
  {
    name: 'get pods -A -o wide: the running pod with node and IP',
    async run(t) {
      await until(`${POD} to run on ${t.name}`, async () =>
        (await podPhase(t, POD)) === 'Running' ? true : undefined,
      );
      const r = await t.kubectl(['get', 'pods', '-A', '-o', 'wide']);
      const { header, rows } = table(r.stdout);
      const mine = rows.filter((row) => row[0] === t.namespace);
      return {
        code: r.code,
        header,
        rows: mine.map((row) =>
          t.normalize(row.map((cell, i) => (header[i] === 'AGE' ? age(cell) : cell)).join(' ')),
        ),
      };
    },
    check(real) {
      expect(real.code).toBe(0);
      expect(real.rows).toEqual([`NS ${POD} 1/1 Running 0 AGE 127.0.0.1 NODE-1 <none> <none>`]);
    },
  },
  {
    name: 'get pod -o json: defaults, status and metadata fields',
    async run(t) {
      const r = await t.kubectl(['get', 'pod', POD, '-n', t.namespace, '-o', 'json']);
      return { code: r.code, pod: JSON.parse(t.normalize(JSON.stringify(podShape(JSON.parse(r.stdout))))) };
    },
    check(real) {
      expect(real.code).toBe(0);
      expect(real.pod).toMatchObject({ kind: 'Pod', status: { phase: 'Running', qosClass: 'Burstable' } });
    },
  },
  {
    name: 'describe pod: the same sections and key lines',
    async run(t) {
      const r = await t.kubectl(['describe', 'pod', POD, '-n', t.namespace]);
      const lines = r.stdout.split('\n');
      // Top-level field names, in order, and the values that are not timing or ids.
      const fields = lines.filter((l) => /^[A-Z][A-Za-z ]*:/.test(l)).map((l) => l.split(':')[0]);
      const value = (field: string) =>
        t.normalize(
          lines
            .find((l) => l.startsWith(`${field}:`))
            ?.slice(field.length + 1)
            .trim() ?? '',
        );
      return {
        code: r.code,
        fields,
        values: {
          Name: value('Name'),
          Namespace: value('Namespace'),
          Node: value('Node'),
          Status: value('Status'),
          IP: value('IP'),
          'QoS Class': value('QoS Class'),
        },
      };
    },
    check(real) {
      expect(real.code).toBe(0);
      expect(real.values).toMatchObject({ Name: POD, Status: 'Running', Node: 'NODE-1/127.0.0.1' });
    },
  },
  {
    name: 'logs: the container output through the apiserver and the kubelet API',
    async run(t) {
      const r = await t.kubectl(['logs', POD, '-n', t.namespace]);
      const tail = await t.kubectl(['logs', POD, '-n', t.namespace, '--tail=1']);
      return { code: r.code, stdout: r.stdout, tail: tail.stdout };
    },
    check(real) {
      expect(real).toEqual({ code: 0, stdout: 'hello from berth\nsecond line\n', tail: 'second line\n' });
    },
  },
  {
    name: 'label, annotate, patch --type=merge: the messages and the stored result',
    async run(t) {
      const label = await t.kubectl(['label', 'pod', POD, '-n', t.namespace, 'tier=web']);
      const annotate = await t.kubectl(['annotate', 'pod', POD, '-n', t.namespace, 'berth.dev/note=hello']);
      const patch = await t.kubectl([
        'patch',
        'pod',
        POD,
        '-n',
        t.namespace,
        '--type=merge',
        '-p',
        '{"metadata":{"labels":{"tier":"api","gone":null}}}',
      ]);
      const relabel = await t.kubectl(['label', 'pod', POD, '-n', t.namespace, 'tier=db']);
      const got = await t.kubectl(['get', 'pod', POD, '-n', t.namespace, '-o', 'json']);
      const meta = (JSON.parse(got.stdout) as { metadata: { labels: object; annotations: object } }).metadata;
      return {
        label: [label.code, label.stdout],
        annotate: [annotate.code, annotate.stdout],
        patch: [patch.code, patch.stdout],
        relabel: [relabel.code, relabel.stderr.trim()],
        labels: meta.labels,
        annotations: meta.annotations,
      };
    },
    check(real) {
      expect(real).toMatchObject({
        label: [0, `pod/${POD} labeled\n`],
        annotate: [0, `pod/${POD} annotated\n`],
        patch: [0, `pod/${POD} patched\n`],
        labels: { app: 'diff', tier: 'api' },
      });
    },
  },
  {
    name: 'patch of an immutable pod field: 422 Invalid with the same message',
    async run(t) {
      const r = await t.kubectl([
        'patch',
        'pod',
        POD,
        '-n',
        t.namespace,
        '--type=merge',
        '-p',
        '{"spec":{"restartPolicy":"Always"}}',
      ]);
      const firstLine = r.stderr.split('\n')[0] ?? '';
      // Known difference: the face lists the mutable fields of current Kubernetes (1.21+ adds
      // terminationGracePeriodSeconds); compare up to the list.
      return {
        code: r.code,
        error: t.normalize(firstLine).replace(/fields other than .*/, 'fields other than …'),
      };
    },
    check(real) {
      expect(real.code).toBe(1);
      expect(real.error).toContain('is invalid');
    },
  },
  {
    name: 'get events: the kubelet events of the pod in the same columns',
    async run(t) {
      const r = await t.kubectl([
        'get',
        'events',
        '-n',
        t.namespace,
        '--field-selector',
        `involvedObject.name=${POD}`,
      ]);
      const { header, rows } = table(r.stdout);
      const typeAt = header.indexOf('TYPE');
      const reasonAt = header.indexOf('REASON');
      const objectAt = header.indexOf('OBJECT');
      return {
        code: r.code,
        header,
        events: [...new Set(rows.map((row) => `${row[typeAt]} ${row[reasonAt]} ${row[objectAt]}`))].sort(),
      };
    },
    check(real) {
      expect(real.code).toBe(0);
      expect(real.events).toContain(`Normal Started pod/${POD}`);
    },
  },
  {
    name: 'delete pod missing and get namespace missing: NotFound',
    async run(t) {
      const pod = await t.kubectl(['delete', 'pod', 'missing', '-n', t.namespace]);
      const ns = await t.kubectl(['get', 'namespace', 'berth-diff-missing']);
      return { pod: [pod.code, t.normalize(pod.stderr)], ns: [ns.code, ns.stderr] };
    },
    check(real) {
      expect(real).toEqual({
        pod: [1, 'Error from server (NotFound): pods "missing" not found\n'],
        ns: [1, 'Error from server (NotFound): namespaces "berth-diff-missing" not found\n'],
      });
    },
  },
  {
    name: 'selectors, wait, raw health endpoints and explain',
    async run(t) {
      const selected = await t.kubectl([
        'get',
        'pods',
        '-n',
        t.namespace,
        '-l',
        'app in (diff),tier!=db',
        '--field-selector',
        'status.phase=Running,spec.nodeName!=nowhere',
        '-o',
        'name',
      ]);
      const wait = await t.kubectl([
        'wait',
        '--for=condition=Ready',
        `pod/${POD}`,
        '-n',
        t.namespace,
        '--timeout=20s',
      ]);
      const healthz = await t.kubectl(['get', '--raw', '/healthz']);
      const readyz = await t.kubectl(['get', '--raw', '/readyz']);
      const explain = await t.kubectl(['explain', 'pod.spec.restartPolicy']);
      const nsAgain = await t.kubectl(['create', 'namespace', t.namespace]);
      return {
        selected: [selected.code, selected.stdout],
        wait: [wait.code, wait.stdout],
        healthz: [healthz.code, healthz.stdout],
        readyz: [readyz.code, readyz.stdout],
        // kubectl formats explain from OpenAPI v3 (the face; 1.20 has none) or v2 (1.20; the face has
        // none) with different spacing: compare the field lines with spaces collapsed.
        explain: [
          explain.code,
          explain.stdout
            .split('\n')
            .filter((l) => /^(KIND|VERSION|FIELD):/.test(l))
            .map((l) => l.replace(/\s+/g, ' ')),
        ],
        nsAgain: [nsAgain.code, t.normalize(nsAgain.stderr)],
      };
    },
    check(real) {
      expect(real).toMatchObject({
        selected: [0, `pod/${POD}\n`],
        wait: [0, `pod/${POD} condition met\n`],
        healthz: [0, 'ok'],
        explain: [0, ['KIND: Pod', 'VERSION: v1', 'FIELD: restartPolicy <string>']],
        nsAgain: [1, 'Error from server (AlreadyExists): namespaces "NS" already exists\n'],
      });
    },
  },
  {
    name: 'get pod missing: NotFound',
    async run(t) {
      const r = await t.kubectl(['get', 'pod', 'missing', '-n', t.namespace]);
      return { code: r.code, stdout: r.stdout, stderr: t.normalize(r.stderr) };
    },
    check(real) {
      expect(real).toEqual({
        code: 1,
        stdout: '',
        stderr: 'Error from server (NotFound): pods "missing" not found\n',
      });
    },
  },
  {
    name: 'a bad token: Unauthorized, "must be logged in"',
    async run(t) {
      const r = await t.kubectl(['get', 'pods', '-n', t.namespace], { token: 'berth-not-a-valid-token' });
      return {
        code: r.code,
        stdout: r.stdout,
        stderr: r.stderr.split('\n').filter((l) => l.startsWith('error')),
      };
    },
    check(real) {
      expect(real).toEqual({
        code: 1,
        stdout: '',
        stderr: ['error: You must be logged in to the server (Unauthorized)'],
      });
    },
  },
  {
    name: 'get pods -w --output-watch-events: ADDED, MODIFIED, DELETED',
    async run(t) {
      const watch = spawn(
        'kubectl',
        [
          '--kubeconfig',
          t.kubeconfig,
          'get',
          'pods',
          '-n',
          t.namespace,
          '-l',
          `app=${WATCHED}`,
          '-w',
          '--output-watch-events',
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let out = '';
      watch.stdout.on('data', (d: Buffer) => {
        out += d.toString();
      });
      try {
        // An empty watch prints nothing; a pod created before the watch opens is listed as ADDED too.
        await new Promise((resolve) => setTimeout(resolve, 1000));
        const manifest = JSON.parse(podManifest(t, WATCHED)) as {
          metadata: { labels: Record<string, string> };
        };
        manifest.metadata.labels = { app: WATCHED };
        await t.kubectl(['create', '-f', '-'], { input: JSON.stringify(manifest) });
        await until(`${WATCHED} to run`, async () =>
          (await podPhase(t, WATCHED)) === 'Running' ? true : undefined,
        );
        const del = await t.kubectl(['delete', 'pod', WATCHED, '-n', t.namespace]);
        await until('the DELETED event', async () => (out.includes('DELETED') ? true : undefined), 15);
        // EVENT NAME READY STATUS RESTARTS AGE
        const { header, rows } = table(out);
        const kinds = rows.map((r) => r[0] ?? '').filter((k, i, all) => k !== all[i - 1]);
        const first = rows[0] ?? [];
        const last = rows.at(-1) ?? [];
        return {
          delete: [del.code, del.stdout],
          header,
          kinds,
          first: [first[0], first[1], first[3]],
          last: [last[0], last[1], last[3]],
          sawRunning: rows.some((r) => r[3] === 'Running'),
        };
      } finally {
        await stop(watch);
      }
    },
    check(real) {
      expect(real).toMatchObject({
        delete: [0, `pod "${WATCHED}" deleted\n`],
        kinds: ['ADDED', 'MODIFIED', 'DELETED'],
        first: ['ADDED', WATCHED, 'Pending'],
        last: ['DELETED', WATCHED, 'Terminating'],
        sawRunning: true,
      });
    },
  },
  {
    name: 'delete pod: graceful deletion through the kubelet',
    async run(t) {
      const r = await t.kubectl(['delete', 'pod', POD, '-n', t.namespace]);
      const gone = await t.kubectl(['get', 'pod', POD, '-n', t.namespace]);
      return { code: r.code, stdout: r.stdout, after: gone.stderr.includes('NotFound') };
    },
    check(real) {
      expect(real).toEqual({ code: 0, stdout: `pod "${POD}" deleted\n`, after: true });
    },
  },
  {
    name: 'create and scale deployment: the messages and the stored replicas',
    async run(t) {
      const create = await t.kubectl(['create', '-f', '-'], { input: deploymentManifest(t) });
      const scale = await t.kubectl(['scale', 'deployment', DEPLOYMENT, '-n', t.namespace, '--replicas=3']);
      const replicas = await t.kubectl([
        'get',
        'deployment',
        DEPLOYMENT,
        '-n',
        t.namespace,
        '-o',
        'jsonpath={.spec.replicas}',
      ]);
      return {
        create: [create.code, create.stdout],
        scale: [scale.code, scale.stdout],
        replicas: replicas.stdout,
      };
    },
    check(real) {
      expect(real).toEqual({
        create: [0, `deployment.apps/${DEPLOYMENT} created\n`],
        scale: [0, `deployment.apps/${DEPLOYMENT} scaled\n`],
        replicas: '3',
      });
    },
  },
  {
    name: 'scale deployment: the replicas run and kubectl rollout status returns',
    faceLacks: 'devcluster has no Deployment controller yet (issue 12): no ReplicaSet or pods are created',
    async run(t) {
      const rollout = await t.kubectl(
        ['rollout', 'status', `deployment/${DEPLOYMENT}`, '-n', t.namespace, '--timeout=60s'],
        {
          timeoutMs: 70_000,
        },
      );
      const pods = await t.kubectl([
        'get',
        'pods',
        '-n',
        t.namespace,
        '-l',
        `app=${DEPLOYMENT}`,
        '--no-headers',
      ]);
      const running = pods.stdout.split('\n').filter((l) => l.includes('Running')).length;
      return { rollout: [rollout.code, rollout.stdout.trim().split('\n').at(-1)], running };
    },
    check(real) {
      expect(real).toEqual({
        rollout: [0, `deployment "${DEPLOYMENT}" successfully rolled out`],
        running: 3,
      });
    },
  },
];

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

function makeTarget(
  name: Target['name'],
  kubeconfig: string,
  namespace: string,
  joined: JoinedCluster,
): Target {
  const nodes = [...joined.nodeNames].sort();
  return {
    name,
    kubeconfig,
    namespace,
    pool: joined.pool,
    nodes,
    kubectl: (args, options) => kubectl(kubeconfig, args, options),
    normalize(text) {
      let out = text.split(namespace).join('NS');
      nodes.forEach((node, i) => {
        out = out.split(node).join(`NODE-${i + 1}`);
      });
      return out.split(joined.pool).join('POOL');
    },
  };
}

if (realK8sEnabled) {
  describe('kubectl differential: devcluster Kubernetes face vs the real apiserver v1.20.2', () => {
    const suffix = Date.now().toString(36);
    const targets: Partial<Record<Target['name'], Target>> = {};
    const joined: JoinedCluster[] = [];
    let face: KubeApiServer | undefined;

    beforeAll(async () => {
      const realKubeconfig = requireRealKubeconfig();
      face = await startKubeApiServer({
        podTerminationMs: null,
        podLogs: (req) => {
          if (face === undefined) throw new Error('the face is not up');
          const server = face;
          return createKubeletLogProxy({ node: (n) => server.store.get('nodes', '', n) })(req);
        },
      });
      const [realNodes, faceNodes] = await Promise.all([
        startJoinedCluster({ kubeconfigPath: realKubeconfig, pool: newPoolName() }),
        startJoinedCluster({ kubeconfigPath: face.kubeconfigPath, pool: newPoolName() }),
      ]);
      joined.push(realNodes, faceNodes);
      const real = makeTarget('real', realKubeconfig, `berth-diff-${suffix}`, realNodes);
      const emulated = makeTarget('face', face.kubeconfigPath, `berth-diff-${suffix}`, faceNodes);
      for (const t of [real, emulated]) {
        const ns = await t.kubectl(['create', 'namespace', t.namespace]);
        if (ns.code !== 0) throw new Error(`create namespace on ${t.name}: ${ns.stderr}`);
      }
      // The real apiserver admits pods once the controller-manager made the default service account.
      await until('the default service account', async () =>
        (await real.kubectl(['get', 'serviceaccount', 'default', '-n', real.namespace])).code === 0
          ? true
          : undefined,
      );
      targets.real = real;
      targets.face = emulated;
    }, 120_000);

    afterAll(async () => {
      // Waits until the namespace's pods are gone, while the kubelet still confirms their deletion.
      await targets.real?.kubectl(['delete', 'namespace', targets.real.namespace, '--timeout=40s'], {
        timeoutMs: 50_000,
      });
      await Promise.all(joined.map((j) => j.close()));
      await face?.close();
    }, 90_000);

    for (const scenario of scenarios) {
      if (scenario.faceLacks !== undefined) {
        it(`${scenario.name} (real apiserver only: ${scenario.faceLacks})`, async () => {
          if (targets.real === undefined) throw new Error('targets are not up');
          scenario.check(await scenario.run(targets.real));
        });
        continue;
      }
      it(scenario.name, async () => {
        if (targets.real === undefined || targets.face === undefined) throw new Error('targets are not up');
        const real = await scenario.run(targets.real);
        scenario.check(real);
        const emulated = await scenario.run(targets.face);
        expect(emulated, 'devcluster face (expected) vs real apiserver').toEqual(real);
      });
    }
  });
}
