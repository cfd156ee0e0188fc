/**
 * The framework's durable memory, in one SQLite file (Node's built-in `node:sqlite`): the framework
 * id, the tasks Berth wants (by Berth task id, with the spec's hash), where each task's launch stands,
 * its last known status, and the status updates not yet acknowledged.
 *
 * Every method is one transaction. The launch protocol is write-ahead: `claimForLaunch` moves a task
 * from `pending` to `launching` *before* the ACCEPT is sent, and only a `pending` task can be
 * claimed, so a retry, a duplicate offer or a restarted process never launches a task twice; after
 * a restart, `launching` tasks are reconciled and `releaseLaunch`ed only if the master does not know
 * them. A status update and the acknowledgement it needs are recorded together, before the ACK is
 * sent, so a crash in between re-sends the ACK instead of losing the update.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { BerthError, type BerthErrorIssue } from '@berth/core';
import type { TaskStatus } from './proto/common.ts';

const COMPONENT = 'mesos-adapter';
const SCHEMA_VERSION = 1;

/** Where a desired task's launch stands. */
export type LaunchPhase = 'pending' | 'launching' | 'launched';
/** What Berth wants for the task. */
export type DesiredGoal = 'run' | 'kill';

export interface DesiredTask {
  /** Berth task id (also the Mesos task_id). */
  readonly taskId: string;
  /** Hash of the task's spec: a changed hash means the task must be replaced. */
  readonly specHash: string;
  /** The spec itself (any JSON), so a restarted process can launch without the caller. */
  readonly spec: unknown;
  /** When the task was first desired (ms since the epoch); default: the store's clock. */
  readonly createdAt?: number;
}

export interface StoredTask extends DesiredTask {
  /**
   * The Mesos task id of the current incarnation: the Berth task id itself, or `<id>.<n>` for a
   * replacement launched while an earlier incarnation may still be alive (on a partitioned agent).
   */
  readonly mesosTaskId: string;
  readonly goal: DesiredGoal;
  readonly phase: LaunchPhase;
  readonly offerId: string | undefined;
  readonly agentId: string | undefined;
  readonly launchAttempts: number;
  /** Last known Mesos state (`TASK_RUNNING`…), undefined before the first update. */
  readonly state: string | undefined;
  readonly lastStatus: TaskStatus | undefined;
  /** When the task was first desired (ms since the epoch, the store's clock). */
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface PendingAck {
  readonly taskId: string;
  readonly agentId: string;
  readonly uuid: string;
}

export interface UpsertResult {
  readonly added: readonly string[];
  readonly changed: readonly string[];
  readonly unchanged: readonly string[];
}

export interface RecordStatusResult {
  /** False when the update is older than the one already stored (it is not applied). */
  readonly applied: boolean;
  /** The update carries a uuid: acknowledge it (after this call returned), then `completeAck`. */
  readonly ackRequired: boolean;
}

export interface MesosStateStoreOptions {
  /** Clock for timestamps (epoch ms; default Date.now). */
  readonly now?: () => number;
  /**
   * `full` (default) syncs every commit to disk: an update is acknowledged only once it would
   * survive a power loss. `normal` survives a crash of the process, not of the machine, and is faster.
   */
  readonly durability?: 'full' | 'normal';
}

/** A Service or Job as submitted, so a restarted process can scale it and count its tasks. */
export interface StoredWorkload {
  readonly name: string;
  readonly kind: string;
  readonly document: unknown;
}

/** One task of a batch claim: the task and the offer/agent it is launched on. */
export interface LaunchClaim {
  readonly taskId: string;
  readonly offerId: string;
  readonly agentId: string;
}

interface TaskRow {
  task_id: string;
  mesos_task_id: string | null;
  spec_hash: string;
  spec: string;
  goal: DesiredGoal;
  phase: LaunchPhase;
  offer_id: string | null;
  agent_id: string | null;
  launch_attempts: number;
  state: string | null;
  status: string | null;
  created_at: number;
  updated_at: number;
}

export class MesosStateStore {
  readonly #db: DatabaseSync;
  readonly #now: () => number;
  readonly path: string;

  /** Open (creating if needed) the store at `path`; `:memory:` for a throwaway one. */
  constructor(path: string, options: MesosStateStoreOptions = {}) {
    this.path = path;
    this.#now = options.now ?? Date.now;
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    try {
      this.#db = new DatabaseSync(path);
      const sync = options.durability === 'normal' ? 'NORMAL' : 'FULL';
      this.#db.exec(`PRAGMA journal_mode = WAL; PRAGMA synchronous = ${sync}; PRAGMA busy_timeout = 5000;`);
      this.#migrate();
    } catch (cause) {
      throw new BerthError('INTERNAL', `cannot open the Mesos state store at ${path}`, {
        component: COMPONENT,
        hint: 'Check that the directory is writable and that the file is a Berth state store (SQLite).',
        cause,
      });
    }
  }

  close(): void {
    if (this.#db.isOpen) this.#db.close();
  }

  // --- framework id ------------------------------------------------------------------------------

  get frameworkId(): string | undefined {
    const row = this.#db.prepare("SELECT value FROM meta WHERE key = 'framework_id'").get() as
      | { value: string }
      | undefined;
    return row?.value;
  }

  /** Remember the id the master assigned (SUBSCRIBED), so a restart re-subscribes as this framework. */
  setFrameworkId(id: string): void {
    if (id === '') throw invalid([{ path: 'frameworkId', message: 'must not be empty' }]);
    this.#db
      .prepare(
        "INSERT INTO meta (key, value) VALUES ('framework_id', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
      )
      .run(id);
  }

  /** Forget the framework (after TEARDOWN, or when the master removed it): the next run registers anew. */
  clearFrameworkId(): void {
    this.#db.prepare("DELETE FROM meta WHERE key = 'framework_id'").run();
  }

  // --- desired tasks -----------------------------------------------------------------------------

  /**
   * Add or update desired tasks, all or nothing. A task whose hash changed keeps its launch phase
   * and is reported in `changed`: replacing a launched task is the caller's decision.
   */
  upsertDesired(tasks: readonly DesiredTask[]): UpsertResult {
    const issues: BerthErrorIssue[] = [];
    const seen = new Set<string>();
    tasks.forEach((t, i) => {
      if (typeof t.taskId !== 'string' || t.taskId === '')
        issues.push({ path: `[${i}].taskId`, message: 'required' });
      else if (seen.has(t.taskId))
        issues.push({ path: `[${i}].taskId`, message: `duplicate task id '${t.taskId}'` });
      else seen.add(t.taskId);
      if (typeof t.specHash !== 'string' || t.specHash === '')
        issues.push({ path: `[${i}].specHash`, message: 'required' });
      if (t.spec === undefined) issues.push({ path: `[${i}].spec`, message: 'required (any JSON value)' });
    });
    if (issues.length > 0) throw invalid(issues);
    return this.#tx(() => {
      const added: string[] = [];
      const changed: string[] = [];
      const unchanged: string[] = [];
      const now = this.#now();
      for (const t of tasks) {
        const row = this.#row(t.taskId);
        if (!row) {
          this.#db
            .prepare(
              `INSERT INTO tasks (task_id, spec_hash, spec, goal, phase, launch_attempts, created_at, updated_at)
               VALUES (?, ?, ?, 'run', 'pending', 0, ?, ?)`,
            )
            .run(t.taskId, t.specHash, JSON.stringify(t.spec), t.createdAt ?? now, now);
          added.push(t.taskId);
        } else if (row.spec_hash === t.specHash && row.goal === 'run') {
          unchanged.push(t.taskId);
        } else {
          this.#db
            .prepare(
              `UPDATE tasks SET spec_hash = ?, spec = ?, goal = 'run', updated_at = ? WHERE task_id = ?`,
            )
            .run(t.specHash, JSON.stringify(t.spec), now, t.taskId);
          changed.push(t.taskId);
        }
      }
      return { added, changed, unchanged };
    });
  }

  /** Berth wants the task gone (KILL it; `forget` once it is terminal). */
  requestKill(taskId: string): void {
    const n = this.#db
      .prepare("UPDATE tasks SET goal = 'kill', updated_at = ? WHERE task_id = ?")
      .run(this.#now(), taskId);
    if (n.changes === 0) throw notFound(taskId);
  }

  /** Drop a task and its pending acknowledgements (it is terminal and no longer wanted). */
  forget(taskId: string): void {
    this.#tx(() => {
      this.#db.prepare('DELETE FROM pending_acks WHERE task_id = ?').run(taskId);
      this.#db.prepare('DELETE FROM tasks WHERE task_id = ?').run(taskId);
    });
  }

  task(taskId: string): StoredTask | undefined {
    const row = this.#row(taskId);
    return row ? toStored(row) : undefined;
  }

  tasks(filter: { phase?: LaunchPhase; goal?: DesiredGoal } = {}): StoredTask[] {
    const rows = this.#db
      .prepare(
        `SELECT * FROM tasks WHERE ($phase IS NULL OR phase = $phase) AND ($goal IS NULL OR goal = $goal) ORDER BY created_at, task_id`,
      )
      .all({ $phase: filter.phase ?? null, $goal: filter.goal ?? null }) as unknown as TaskRow[];
    return rows.map(toStored);
  }

  // --- the launch protocol -----------------------------------------------------------------------

  /**
   * Claim tasks for one ACCEPT on `offerId`: each still-`pending` task wanted running becomes
   * `launching` and is returned; any other is left alone and not returned. Send the ACCEPT only for
   * the returned ids.
   */
  claimForLaunch(taskIds: readonly string[], placement: { offerId: string; agentId: string }): string[] {
    return this.#tx(() => {
      const claimed: string[] = [];
      // Prepared once per store: every OFFERS round claims through the same statement.
      this.#claim ??= this.#db.prepare(
        `UPDATE tasks SET phase = 'launching', offer_id = ?, agent_id = ?, launch_attempts = launch_attempts + 1, updated_at = ?
         WHERE task_id = ? AND phase = 'pending' AND goal = 'run'`,
      );
      const stmt = this.#claim;
      const now = this.#now();
      for (const id of new Set(taskIds)) {
        if (stmt.run(placement.offerId, placement.agentId, now, id).changes === 1) claimed.push(id);
      }
      return claimed;
    });
  }

  /**
   * {@link claimForLaunch} for a whole offer cycle in one transaction (one disk sync): each claim
   * names its own offer and agent. Returns the claims that were granted, in the order given.
   */
  #claim: StatementSync | undefined;
  #claimMany: StatementSync | undefined;
  claimMany(claims: readonly LaunchClaim[]): LaunchClaim[] {
    return this.#tx(() => {
      // One statement for the whole round (prepared once per store): the claims travel as one
      // JSON array, and the rows it changed come back.
      this.#claimMany ??= this.#db.prepare(
        `UPDATE tasks SET phase = 'launching', offer_id = c.value ->> 1, agent_id = c.value ->> 2,
           launch_attempts = launch_attempts + 1, updated_at = ?
         FROM json_each(?) AS c
         WHERE tasks.task_id = c.value ->> 0 AND tasks.phase = 'pending' AND tasks.goal = 'run'
         RETURNING tasks.task_id AS task_id`,
      );
      const first = new Map<string, LaunchClaim>();
      for (const c of claims) if (!first.has(c.taskId)) first.set(c.taskId, c);
      const rows = [...first.values()].map((c) => [c.taskId, c.offerId, c.agentId]);
      const changed = new Set(
        (this.#claimMany.all(this.#now(), JSON.stringify(rows)) as { task_id: string }[]).map(
          (r) => r.task_id,
        ),
      );
      return [...first.values()].filter((c) => changed.has(c.taskId));
    });
  }

  /**
   * Start a new incarnation of a task under another Mesos task id (`<id>.<n>`): the previous one
   * is left to the master (it may still run on a partitioned agent) and the task is `pending` again.
   * Status updates of older incarnations are then only acknowledged, never applied.
   */
  newIncarnation(taskId: string, mesosTaskId: string): void {
    if (mesosTaskId === '' || /[\s/]/.test(mesosTaskId)) {
      throw invalid([{ path: 'mesosTaskId', message: 'must be non-empty without whitespace or "/"' }]);
    }
    const n = this.#db
      .prepare(
        `UPDATE tasks SET mesos_task_id = ?, phase = 'pending', offer_id = NULL, agent_id = NULL, state = NULL, status = NULL, updated_at = ?
         WHERE task_id = ?`,
      )
      .run(mesosTaskId, this.#now(), taskId);
    if (n.changes === 0) throw notFound(taskId);
  }

  // --- services and jobs -------------------------------------------------------------------------

  /** Remember a Service or Job document (replacing an earlier one of the same name). */
  putWorkload(w: StoredWorkload): void {
    if (w.name === '') throw invalid([{ path: 'name', message: 'must not be empty' }]);
    this.#db
      .prepare(
        'INSERT INTO workloads (name, kind, document) VALUES (?, ?, ?) ON CONFLICT(name) DO UPDATE SET kind = excluded.kind, document = excluded.document',
      )
      .run(w.name, w.kind, JSON.stringify(w.document));
  }

  /** Forget a Service or Job document; returns whether one was stored. */
  deleteWorkload(name: string): boolean {
    return this.#db.prepare('DELETE FROM workloads WHERE name = ?').run(name).changes > 0;
  }

  workloads(): StoredWorkload[] {
    const rows = this.#db
      .prepare('SELECT name, kind, document FROM workloads ORDER BY name')
      .all() as unknown as {
      name: string;
      kind: string;
      document: string;
    }[];
    return rows.map((r) => ({ name: r.name, kind: r.kind, document: JSON.parse(r.document) as unknown }));
  }

  /**
   * Put a `launching` task back to `pending`: the ACCEPT failed before reaching the master, or
   * reconciliation showed the master never saw the task (TASK_UNKNOWN/TASK_DROPPED). Also used to
   * relaunch a task that ended, when the restart policy says so.
   */
  releaseLaunch(taskId: string): boolean {
    return (
      this.#db
        .prepare(
          `UPDATE tasks SET phase = 'pending', offer_id = NULL, agent_id = NULL, updated_at = ? WHERE task_id = ? AND phase <> 'pending'`,
        )
        .run(this.#now(), taskId).changes === 1
    );
  }

  // --- status updates and acknowledgements -------------------------------------------------------

  /**
   * Record a status update and, when it carries a uuid, its pending acknowledgement — together.
   * Updates older than the stored one (by `timestamp`) are not applied but still need their ACK.
   * Updates for tasks Berth does not know (another run's leftovers) are stored for acknowledgement only.
   */
  recordStatus(status: TaskStatus): RecordStatusResult {
    return this.recordStatuses([status])[0]!;
  }

  /**
   * {@link recordStatus} for several updates in one transaction (one disk sync), applied in the
   * order given; all or none are recorded. Returns one result per update, in the same order.
   */
  recordStatuses(statuses: readonly TaskStatus[]): RecordStatusResult[] {
    if (statuses.length === 0) return [];
    const s = this.#statusStatements();
    return this.#tx(() =>
      statuses.map((status) => {
        const taskId = status.task_id.value;
        const uuid = status.uuid;
        const agentId = status.agent_id?.value;
        const row = s.find.get(taskId) as unknown as { task_id: string; status: string | null } | undefined;
        let applied = false;
        if (row) {
          const previous = row.status ? (JSON.parse(row.status) as TaskStatus) : undefined;
          const older =
            previous?.timestamp !== undefined &&
            status.timestamp !== undefined &&
            status.timestamp < previous.timestamp;
          if (!older) {
            s.apply.run(
              status.state,
              JSON.stringify(status),
              agentId ?? null,
              status.state,
              this.#now(),
              row.task_id,
            );
            applied = true;
          }
        }
        const ackRequired = uuid !== undefined && uuid !== '' && agentId !== undefined;
        if (ackRequired) s.ack.run(taskId, uuid, agentId, this.#now());
        return { applied, ackRequired };
      }),
    );
  }

  #statuses: { find: StatementSync; apply: StatementSync; ack: StatementSync } | undefined;
  #statusStatements() {
    this.#statuses ??= {
      // Served by the tasks_mesos_id index (the same expression).
      find: this.#db.prepare('SELECT task_id, status FROM tasks WHERE COALESCE(mesos_task_id, task_id) = ?'),
      apply: this.#db.prepare(
        `UPDATE tasks SET state = ?, status = ?, agent_id = COALESCE(?, agent_id),
           phase = CASE WHEN phase = 'launching' AND ? NOT IN ('TASK_UNKNOWN', 'TASK_DROPPED') THEN 'launched' ELSE phase END,
           updated_at = ?
         WHERE task_id = ?`,
      ),
      ack: this.#db.prepare(
        'INSERT INTO pending_acks (task_id, uuid, agent_id, received_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING',
      ),
    };
    return this.#statuses;
  }

  /** The ACK for (taskId, uuid) reached the master (202). */
  completeAck(taskId: string, uuid: string): void {
    this.completeAcks([{ taskId, uuid }]);
  }

  /** {@link completeAck} for several acknowledgements in one transaction. */
  completeAcks(acks: readonly { readonly taskId: string; readonly uuid: string }[]): void {
    if (acks.length === 0) return;
    this.#deleteAck ??= this.#db.prepare('DELETE FROM pending_acks WHERE task_id = ? AND uuid = ?');
    const stmt = this.#deleteAck;
    this.#tx(() => {
      for (const a of acks) stmt.run(a.taskId, a.uuid);
    });
  }

  #deleteAck: StatementSync | undefined;

  /** Acknowledgements to (re-)send, oldest first. */
  pendingAcks(): PendingAck[] {
    const rows = this.#db
      .prepare('SELECT task_id, agent_id, uuid FROM pending_acks ORDER BY received_at, task_id')
      .all() as unknown as { task_id: string; agent_id: string; uuid: string }[];
    return rows.map((r) => ({ taskId: r.task_id, agentId: r.agent_id, uuid: r.uuid }));
  }

  // --- internals ---------------------------------------------------------------------------------

  #row(taskId: string): TaskRow | undefined {
    return this.#db.prepare('SELECT * FROM tasks WHERE task_id = ?').get(taskId) as unknown as
      | TaskRow
      | undefined;
  }

  #tx<T>(fn: () => T): T {
    this.#db.exec('BEGIN IMMEDIATE');
    try {
      const result = fn();
      this.#db.exec('COMMIT');
      return result;
    } catch (error) {
      this.#db.exec('ROLLBACK');
      throw error;
    }
  }

  #migrate(): void {
    this.#db.exec(`
      CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
      CREATE TABLE IF NOT EXISTS tasks (
        task_id TEXT PRIMARY KEY,
        spec_hash TEXT NOT NULL,
        spec TEXT NOT NULL,
        goal TEXT NOT NULL CHECK (goal IN ('run', 'kill')),
        phase TEXT NOT NULL CHECK (phase IN ('pending', 'launching', 'launched')),
        offer_id TEXT,
        agent_id TEXT,
        launch_attempts INTEGER NOT NULL,
        state TEXT,
        status TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      ) STRICT;
      CREATE TABLE IF NOT EXISTS workloads (
        name TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        document TEXT NOT NULL
      ) STRICT;
      CREATE TABLE IF NOT EXISTS pending_acks (
        task_id TEXT NOT NULL,
        uuid TEXT NOT NULL,
        agent_id TEXT NOT NULL,
        received_at INTEGER NOT NULL,
        PRIMARY KEY (task_id, uuid)
      ) STRICT;
    `);
    const columns = this.#db.prepare('PRAGMA table_info(tasks)').all() as unknown as { name: string }[];
    if (!columns.some((c) => c.name === 'mesos_task_id')) {
      this.#db.exec('ALTER TABLE tasks ADD COLUMN mesos_task_id TEXT');
    }
    // Status updates find their task by Mesos task id; without this every update scans the table.
    // (An index only: files stay readable by a Berth that does not know it.)
    this.#db.exec('CREATE INDEX IF NOT EXISTS tasks_mesos_id ON tasks (COALESCE(mesos_task_id, task_id))');
    const row = this.#db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as
      | { value: string }
      | undefined;
    if (row === undefined) {
      this.#db
        .prepare("INSERT INTO meta (key, value) VALUES ('schema_version', ?)")
        .run(String(SCHEMA_VERSION));
    } else if (Number(row.value) > SCHEMA_VERSION) {
      throw new BerthError(
        'CONFLICT',
        `the state store ${this.path} was written by a newer Berth (schema ${row.value} > ${SCHEMA_VERSION})`,
        { component: COMPONENT, hint: 'Upgrade Berth, or point it at another state file.' },
      );
    }
  }
}

function toStored(row: TaskRow): StoredTask {
  return {
    taskId: row.task_id,
    mesosTaskId: row.mesos_task_id ?? row.task_id,
    specHash: row.spec_hash,
    spec: JSON.parse(row.spec) as unknown,
    goal: row.goal,
    phase: row.phase,
    offerId: row.offer_id ?? undefined,
    agentId: row.agent_id ?? undefined,
    launchAttempts: row.launch_attempts,
    state: row.state ?? undefined,
    lastStatus: row.status ? (JSON.parse(row.status) as TaskStatus) : undefined,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function invalid(issues: BerthErrorIssue[]): BerthError {
  return new BerthError(
    'SPEC_INVALID',
    `invalid state store input: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
    {
      component: COMPONENT,
      issues,
      hint: 'Nothing was written; fix the listed entries and retry.',
    },
  );
}

function notFound(taskId: string): BerthError {
  return new BerthError('NOT_FOUND', `task '${taskId}' is not in the state store`, {
    component: COMPONENT,
    hint: 'Only tasks added with upsertDesired can be killed or launched.',
  });
}
