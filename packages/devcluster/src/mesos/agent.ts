/**
 * What a virtual agent serves over HTTP, as a real Mesos agent does: the agent operator API
 * (`POST /api/v1`: GET_HEALTH, GET_VERSION, GET_CONTAINERS with resource statistics from the
 * engine) and the sandbox file API (`/files/browse`, `/files/read`, `/files/download`) under the
 * virtual path `/frameworks/<framework>/executors/<executor>/runs/latest`.
 */
import { open, readdir, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join, normalize } from 'node:path';
import { isTerminal } from '@berth/core';
import type { Agent, MesosCluster, TaskRec } from './cluster.ts';
import { accepts, readBody, sendEmpty, sendJson, sendText } from './http.ts';
import { isObject, type JsonObject, MESOS_VERSION, parseJsonBody } from './wire.ts';

/** A real agent caps one read at 16 pages. */
const MAX_READ = 16 * 4096;

export async function handleAgentRequest(
  cluster: MesosCluster,
  agent: Agent,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  query: URLSearchParams,
): Promise<void> {
  switch (path) {
    case '/api/v1':
    case '/slave(1)/api/v1':
      return agentApi(cluster, agent, req, res);
    case '/files/browse':
    case '/files/browse.json':
      return browse(cluster, agent, res, query);
    case '/files/read':
    case '/files/read.json':
      return read(cluster, agent, res, query);
    case '/files/download':
    case '/files/download.json':
      return download(cluster, agent, res, query);
    case '/health':
    case '/slave(1)/health':
      return sendEmpty(res, 200);
    default:
      return sendText(res, 404, '');
  }
}

async function agentApi(
  cluster: MesosCluster,
  agent: Agent,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  if (req.method !== 'POST') {
    return sendText(
      res,
      405,
      `405 Method Not Allowed. Expecting one of { 'POST' }, but received '${req.method}'.`,
      {
        Allow: 'POST',
      },
    );
  }
  const text = await readBody(req);
  const ct = req.headers['content-type'];
  if (ct === undefined) return sendText(res, 400, "Expecting 'Content-Type' to be present");
  if (ct !== 'application/json') {
    return sendText(res, 415, "Expecting 'Content-Type' of application/json or application/x-protobuf");
  }
  if (!accepts(req.headers.accept, 'application/json')) {
    return sendText(
      res,
      406,
      "Expecting 'Accept' to allow 'application/json' (devcluster answers only JSON here)",
    );
  }
  const parsed = parseJsonBody(text);
  if (!parsed.ok) return sendText(res, 400, `Failed to parse body into JSON: ${parsed.error}`);
  const call = parsed.value;
  if (!isObject(call) || typeof call.type !== 'string') {
    return sendText(res, 400, "Failed to validate agent::Call: Expecting 'type' to be present");
  }
  switch (call.type) {
    case 'GET_HEALTH':
      return sendJson(res, 200, { type: 'GET_HEALTH', get_health: { healthy: true } });
    case 'GET_VERSION':
      return sendJson(res, 200, {
        type: 'GET_VERSION',
        get_version: { version_info: { version: MESOS_VERSION, build_user: '' } },
      });
    case 'GET_CONTAINERS':
      return sendJson(res, 200, { type: 'GET_CONTAINERS', get_containers: await containers(cluster, agent) });
    default:
      return sendText(res, 501, `devcluster's Mesos agent does not implement ${call.type}`);
  }
}

function liveTasks(cluster: MesosCluster, agent: Agent): TaskRec[] {
  const out: TaskRec[] = [];
  for (const fw of cluster.frameworks.values()) {
    for (const t of fw.tasks.values()) {
      if (t.agentId !== agent.id) continue;
      const et = cluster.engine.task(t.taskId);
      if (et !== undefined && !isTerminal(et.state)) out.push(t);
    }
  }
  return out;
}

async function containers(cluster: MesosCluster, agent: Agent): Promise<JsonObject> {
  const list: JsonObject[] = [];
  for (const t of liveTasks(cluster, agent)) {
    let stats: JsonObject | undefined;
    try {
      const s = await cluster.engine.stats(t.taskId);
      stats = {
        timestamp: s.timestamp,
        ...(s.processes === undefined ? {} : { processes: s.processes }),
        ...(s.threads === undefined ? {} : { threads: s.threads }),
        ...(s.cpusUserTimeSecs === undefined ? {} : { cpus_user_time_secs: s.cpusUserTimeSecs }),
        ...(s.cpusSystemTimeSecs === undefined ? {} : { cpus_system_time_secs: s.cpusSystemTimeSecs }),
        cpus_limit: s.cpusLimit,
        ...(s.memRssBytes === undefined ? {} : { mem_rss_bytes: s.memRssBytes }),
        mem_limit_bytes: s.memLimitBytes,
      };
    } catch {
      stats = undefined; // the task ended while we asked
    }
    const pid = cluster.engine.task(t.taskId)?.pid;
    list.push({
      framework_id: { value: t.frameworkId },
      executor_id: { value: t.executorId },
      executor_name: t.executorId === t.taskId ? `Command Executor (Task: ${t.taskId})` : 'Default Executor',
      container_id: { value: t.containerId },
      container_status: {
        container_id: { value: t.containerId },
        ...(pid === undefined ? {} : { executor_pid: pid }),
      },
      ...(stats === undefined ? {} : { resource_statistics: stats }),
    });
  }
  return { containers: list };
}

/** Maps a virtual sandbox path to a directory and file on disk, or undefined. */
function resolve(
  cluster: MesosCluster,
  agent: Agent,
  virtual: string,
): { dir: string; rel: string; base: string } | undefined {
  const m =
    /^\/?frameworks\/([^/]+)\/executors\/([^/]+)\/runs\/(?:latest|[^/]+)(?:\/tasks\/([^/]+))?(\/.*)?$/.exec(
      virtual,
    );
  if (m === null) return undefined;
  const [, fwId, execId, taskId, rest = ''] = m;
  const fw = cluster.frameworks.get(fwId!) ?? cluster.completedFrameworks.find((f) => f.id === fwId);
  if (fw === undefined) return undefined;
  const all = [...fw.tasks.values(), ...fw.completed].filter(
    (t) => t.agentId === agent.id && t.executorId === execId && (taskId === undefined || t.taskId === taskId),
  );
  const task = all[all.length - 1];
  if (task === undefined) return undefined;
  const sandbox = cluster.engine.task(task.taskId)?.sandbox;
  if (sandbox === undefined) return undefined;
  const rel = normalize(rest === '' ? '.' : rest.slice(1));
  if (rel.startsWith('..')) return undefined;
  const base = virtual.slice(0, virtual.length - rest.length);
  return { dir: sandbox, rel, base };
}

async function browse(
  cluster: MesosCluster,
  agent: Agent,
  res: ServerResponse,
  q: URLSearchParams,
): Promise<void> {
  const path = q.get('path');
  if (path === null) return sendText(res, 400, "Expecting 'path=value' in query.\n");
  const r = resolve(cluster, agent, path);
  if (r === undefined) return sendText(res, 404, '');
  const dir = join(r.dir, r.rel);
  try {
    const names = await readdir(dir);
    const out: JsonObject[] = [];
    for (const name of names.sort()) {
      const s = await stat(join(dir, name));
      out.push({
        gid: String(s.gid),
        mode: modeString(s.mode, s.isDirectory()),
        mtime: Math.floor(s.mtimeMs / 1000),
        nlink: s.nlink,
        path: `${path.replace(/\/+$/, '')}/${name}`,
        size: s.size,
        uid: String(s.uid),
      });
    }
    sendJson(res, 200, out);
  } catch {
    sendText(res, 404, '');
  }
}

async function read(
  cluster: MesosCluster,
  agent: Agent,
  res: ServerResponse,
  q: URLSearchParams,
): Promise<void> {
  const path = q.get('path');
  if (path === null) return sendText(res, 400, "Expecting 'path=value' in query.\n");
  const offsetText = q.get('offset');
  if (offsetText === null) return sendText(res, 400, "Expecting 'offset=value' in query.\n");
  const offset = Number(offsetText);
  if (!Number.isInteger(offset) || offset < -1) {
    return sendText(res, 400, `Failed to parse offset: Failed to convert '${offsetText}' to number.\n`);
  }
  const lengthText = q.get('length');
  const length = lengthText === null ? MAX_READ : Number(lengthText);
  if (!Number.isInteger(length) || length < -1) {
    return sendText(res, 400, `Failed to parse length: Failed to convert '${lengthText}' to number.\n`);
  }
  const r = resolve(cluster, agent, path);
  if (r === undefined) return sendText(res, 404, '');
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(join(r.dir, r.rel), 'r');
    const size = (await handle.stat()).size;
    if (offset === -1) return sendLatin1Json(res, '', size);
    const start = Math.min(offset, size);
    const want = Math.min(length === -1 ? MAX_READ : length, MAX_READ, size - start);
    const buf = Buffer.alloc(Math.max(0, want));
    const { bytesRead } = want > 0 ? await handle.read(buf, 0, want, start) : { bytesRead: 0 };
    sendLatin1Json(res, buf.subarray(0, bytesRead).toString('latin1'), start);
  } catch {
    sendText(res, 404, '');
  } finally {
    await handle?.close();
  }
}

/** The agent writes file bytes into the JSON string as they are; one char per byte keeps that. */
function sendLatin1Json(res: ServerResponse, data: string, offset: number): void {
  const body = Buffer.from(JSON.stringify({ data, offset }), 'latin1');
  res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': body.length });
  res.end(body);
}

async function download(
  cluster: MesosCluster,
  agent: Agent,
  res: ServerResponse,
  q: URLSearchParams,
): Promise<void> {
  const path = q.get('path');
  if (path === null) return sendText(res, 400, "Expecting 'path=value' in query.\n");
  const r = resolve(cluster, agent, path);
  if (r === undefined) return sendText(res, 404, '');
  try {
    const handle = await open(join(r.dir, r.rel), 'r');
    try {
      const data = await handle.readFile();
      res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': data.length });
      res.end(data);
    } finally {
      await handle.close();
    }
  } catch {
    sendText(res, 404, '');
  }
}

function modeString(mode: number, dir: boolean): string {
  const bits = 'rwxrwxrwx';
  let s = dir ? 'd' : '-';
  for (let i = 0; i < 9; i++) s += mode & (1 << (8 - i)) ? bits[i] : '-';
  return s;
}
