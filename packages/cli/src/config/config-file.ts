/**
 * The CLI's contexts, kept in `$XDG_CONFIG_HOME/berth/config.yaml` (default
 * `~/.config/berth/config.yaml`; `BERTH_CONFIG` names another file). The file holds only
 * references to secrets (a file path or an environment variable), never the secrets.
 */
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { BerthError, type BerthErrorIssue } from '@berth/core';
import { parse, stringify } from 'yaml';

export const BACKENDS = ['mesos', 'kubernetes'] as const;
export type Backend = (typeof BACKENDS)[number];

export const KUBERNETES_MODES = ['delegate', 'berth'] as const;
export type KubernetesMode = (typeof KUBERNETES_MODES)[number];

/** Where a secret comes from: the contents of a file, or an environment variable. */
export type SecretRef = { readonly file: string } | { readonly env: string };

export interface MesosContext {
  readonly backend: 'mesos';
  /** Master URLs (`http://host:5050`); the adapter follows the leader among them. */
  readonly masters: readonly string[];
  /** The framework's role (default `*` on the Mesos side when absent). */
  readonly role?: string;
  readonly principal?: string;
  readonly secret?: SecretRef;
}

export interface KubernetesContext {
  readonly backend: 'kubernetes';
  /** Path of the kubeconfig (default: `KUBECONFIG`, then `~/.kube/config`). */
  readonly kubeconfig?: string;
  /** Context name inside the kubeconfig (default: its current-context). */
  readonly context?: string;
  readonly namespace?: string;
  /** `delegate`: the kube-scheduler places pods; `berth`: Berth's engine binds them. */
  readonly mode: KubernetesMode;
}

export type ContextConfig = MesosContext | KubernetesContext;

export interface BerthConfig {
  readonly contexts: Readonly<Record<string, ContextConfig>>;
  readonly currentContext?: string;
}

const COMPONENT = 'cli';
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
const ENV_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function isValidContextName(name: string): boolean {
  return NAME_RE.test(name);
}

/** The config file path: `BERTH_CONFIG`, else `$XDG_CONFIG_HOME/berth/config.yaml`, else `~/.config/…`. */
export function configPath(env: Readonly<Record<string, string | undefined>>, cwd: string): string {
  const explicit = env.BERTH_CONFIG;
  if (explicit !== undefined && explicit !== '') return resolve(cwd, explicit);
  const xdg = env.XDG_CONFIG_HOME;
  const base =
    xdg !== undefined && xdg !== '' && isAbsolute(xdg) ? xdg : join(env.HOME ?? homedir(), '.config');
  return join(base, 'berth', 'config.yaml');
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkUnknown(
  obj: Record<string, unknown>,
  allowed: readonly string[],
  path: string,
  issues: BerthErrorIssue[],
): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key))
      issues.push({ path: `${path}.${key}`, message: `unknown field; allowed: ${allowed.join(', ')}` });
  }
}

function optionalString(
  obj: Record<string, unknown>,
  key: string,
  path: string,
  issues: BerthErrorIssue[],
): string | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || v === '') {
    issues.push({ path: `${path}.${key}`, message: 'must be a non-empty string' });
    return undefined;
  }
  return v;
}

function validSecret(v: unknown, path: string, issues: BerthErrorIssue[]): SecretRef | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isRecord(v)) {
    issues.push({ path, message: 'must be { file: PATH } or { env: VARIABLE }' });
    return undefined;
  }
  if ('value' in v || 'password' in v) {
    issues.push({
      path,
      message: 'secrets are never stored in the config file: use { file: PATH } or { env: VARIABLE }',
    });
    return undefined;
  }
  checkUnknown(v, ['file', 'env'], path, issues);
  const hasFile = v.file !== undefined;
  const hasEnv = v.env !== undefined;
  if (hasFile === hasEnv) {
    issues.push({ path, message: 'set exactly one of file or env' });
    return undefined;
  }
  if (hasFile) {
    if (typeof v.file !== 'string' || v.file === '') {
      issues.push({ path: `${path}.file`, message: 'must be a file path' });
      return undefined;
    }
    return { file: v.file };
  }
  if (typeof v.env !== 'string' || !ENV_RE.test(v.env)) {
    issues.push({ path: `${path}.env`, message: 'must be an environment variable name like MESOS_SECRET' });
    return undefined;
  }
  return { env: v.env };
}

function validMasterUrl(v: unknown): boolean {
  if (typeof v !== 'string') return false;
  try {
    const u = new URL(v);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '';
  } catch {
    return false;
  }
}

/** Checks one context; pushes problems (paths under `path`) and returns it when valid. */
export function validateContext(
  raw: unknown,
  path: string,
  issues: BerthErrorIssue[],
): ContextConfig | undefined {
  const before = issues.length;
  if (!isRecord(raw)) {
    issues.push({ path, message: 'must be a mapping with a backend field' });
    return undefined;
  }
  const backend = raw.backend;
  if (backend === 'mesos') {
    checkUnknown(raw, ['backend', 'masters', 'role', 'principal', 'secret'], path, issues);
    const masters = raw.masters;
    const list: string[] = [];
    if (!Array.isArray(masters) || masters.length === 0) {
      issues.push({
        path: `${path}.masters`,
        message: 'needs at least one master URL, e.g. http://127.0.0.1:5050',
      });
    } else {
      masters.forEach((m, i) => {
        if (validMasterUrl(m)) list.push(m as string);
        else
          issues.push({
            path: `${path}.masters[${i}]`,
            message: `must be an http:// or https:// URL, got ${JSON.stringify(m)}`,
          });
      });
    }
    const role = optionalString(raw, 'role', path, issues);
    const principal = optionalString(raw, 'principal', path, issues);
    const secret = validSecret(raw.secret, `${path}.secret`, issues);
    if (secret !== undefined && principal === undefined)
      issues.push({ path: `${path}.principal`, message: 'a secret needs the principal it authenticates' });
    if (issues.length > before) return undefined;
    return {
      backend: 'mesos',
      masters: list,
      ...(role === undefined ? {} : { role }),
      ...(principal === undefined ? {} : { principal }),
      ...(secret === undefined ? {} : { secret }),
    };
  }
  if (backend === 'kubernetes') {
    checkUnknown(raw, ['backend', 'kubeconfig', 'context', 'namespace', 'mode'], path, issues);
    const kubeconfig = optionalString(raw, 'kubeconfig', path, issues);
    const context = optionalString(raw, 'context', path, issues);
    const namespace = optionalString(raw, 'namespace', path, issues);
    const mode = raw.mode ?? 'delegate';
    if (!KUBERNETES_MODES.includes(mode as KubernetesMode))
      issues.push({
        path: `${path}.mode`,
        message: `must be one of ${KUBERNETES_MODES.join(', ')}, got ${JSON.stringify(mode)}`,
      });
    if (issues.length > before) return undefined;
    return {
      backend: 'kubernetes',
      ...(kubeconfig === undefined ? {} : { kubeconfig }),
      ...(context === undefined ? {} : { context }),
      ...(namespace === undefined ? {} : { namespace }),
      mode: mode as KubernetesMode,
    };
  }
  issues.push({
    path: `${path}.backend`,
    message: `must be one of ${BACKENDS.join(', ')}, got ${JSON.stringify(backend)}`,
  });
  return undefined;
}

/** Validates a parsed config document; throws one SPEC_INVALID listing every problem. */
export function validateConfig(raw: unknown, source: string): BerthConfig {
  if (raw === null || raw === undefined) return { contexts: {} };
  const issues: BerthErrorIssue[] = [];
  if (!isRecord(raw)) {
    issues.push({ path: '', message: 'must be a mapping with contexts and current-context' });
  } else {
    checkUnknown(raw, ['contexts', 'current-context', 'apiVersion', 'kind'], '', issues);
  }
  const obj = isRecord(raw) ? raw : {};
  const contexts: Record<string, ContextConfig> = {};
  const rawContexts = obj.contexts ?? {};
  if (!isRecord(rawContexts)) {
    issues.push({ path: 'contexts', message: 'must be a mapping of context name to context' });
  } else {
    for (const [name, value] of Object.entries(rawContexts)) {
      const path = `contexts.${name}`;
      if (!isValidContextName(name)) {
        issues.push({ path, message: 'a context name uses letters, digits, ".", "_" and "-" (at most 63)' });
        continue;
      }
      const ctx = validateContext(value, path, issues);
      if (ctx !== undefined) contexts[name] = ctx;
    }
  }
  const current = obj['current-context'];
  if (current !== undefined && current !== null && typeof current !== 'string')
    issues.push({ path: 'current-context', message: 'must be a context name' });
  else if (
    typeof current === 'string' &&
    current !== '' &&
    isRecord(rawContexts) &&
    !(current in rawContexts)
  )
    issues.push({
      path: 'current-context',
      message: `names ${JSON.stringify(current)}, which is not in contexts`,
    });
  if (issues.length > 0) {
    throw new BerthError('SPEC_INVALID', `invalid config file ${source}`, {
      component: COMPONENT,
      issues: issues.map((i) => ({ ...i, path: i.path.replace(/^\./, '') })),
      hint: 'Fix the listed fields, or rewrite them with berth config set-context.',
      details: { path: source },
    });
  }
  return {
    contexts,
    ...(typeof current === 'string' && current !== '' ? { currentContext: current } : {}),
  };
}

/** Reads the config file; a missing file is an empty config. */
export async function loadConfig(path: string): Promise<BerthConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { contexts: {} };
    throw new BerthError('SPEC_INVALID', `cannot read config file ${path}: ${(err as Error).message}`, {
      component: COMPONENT,
      cause: err,
      hint: 'Check the file permissions, or point BERTH_CONFIG at another file.',
    });
  }
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (err) {
    throw new BerthError('SPEC_INVALID', `config file ${path} is not valid YAML: ${(err as Error).message}`, {
      component: COMPONENT,
      cause: err,
      hint: 'Fix the YAML syntax at the line shown.',
    });
  }
  return validateConfig(raw, path);
}

/** The YAML document the file holds (also what `berth config view` prints). */
export function configDocument(config: BerthConfig): Record<string, unknown> {
  const contexts: Record<string, unknown> = {};
  for (const name of Object.keys(config.contexts).sort()) contexts[name] = { ...config.contexts[name] };
  return {
    ...(config.currentContext === undefined ? {} : { 'current-context': config.currentContext }),
    contexts,
  };
}

/** Writes the config atomically (temp file + rename), readable only by its owner. */
export async function saveConfig(path: string, config: BerthConfig): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, stringify(configDocument(config)), { mode: 0o600 });
  await chmod(tmp, 0o600);
  await rename(tmp, path);
}
