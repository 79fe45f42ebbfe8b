/**
 * Runs file migrations (files.ts) against PostgreSQL with `pg`.
 *
 * - History: `cockpit_schema_migrations`, one row per migration (state 'applied' or 'failed').
 * - Lock: a SESSION advisory lock on a dedicated connection, taken by polling `pg_try_advisory_lock` — never a
 *   blocking `pg_advisory_lock`, which deadlocks with the holder's CREATE INDEX CONCURRENTLY.
 * - A migration runs in its own transaction (statements sent one by one, history row in the same transaction), or,
 *   with `-- migrate:no-transaction`, statement by statement with a 'failed' row recording where it stopped.
 * - A module migration whose SQL is known at load time runs exactly like a .sql file. One that reads the database
 *   to build its SQL (dynamic) runs its function with a live builder on the migration's connection, inside its
 *   transaction (or without one): its statements go through the same path, numbered and recorded in `executed`.
 */
import os from 'node:os';
import pg from 'pg';
import { currentIdentity } from '../identity.js';
import { loadMigrations, noDownReason, type Migration, type SqlStatement } from './files.js';
import { errorText as codeErrorText, runLive, type Row, type SqlValue } from './modules.js';
import { ignoreCleanupError } from '../../core/errors.js';
import type { Done, Failure, MigrateEvent } from '../../core/migrate/events.js';
import type { CommandLine } from '../../core/command-line.js';
import { connectClient, withConnectTimeout } from '../pg-connect.js';
import {
  computeDowngrade,
  computePlan,
  computeStatus,
  MigrateError,
  type ChecksumUpdate,
  type Direction,
  type DowngradeSelection,
  type HistoryRow,
  type Plan,
  type PlanOptions,
  type Status,
} from '../../core/migrate/plan.js';
import {
  concurrentIndexTarget,
  deleteRow,
  HISTORY_COLS as COLS,
  HISTORY_TABLE,
  inlineParams,
  insertApplied,
  sessionSettings,
  sqlFor,
  type SqlStep as Step,
} from '../../core/migrate/script.js';

// The pure parts (planning, SQL text, events) live in core/migrate/; what callers took from here still is.
export { computeDowngrade, computePlan, computeStatus, MigrateError, HISTORY_TABLE, sqlFor, concurrentIndexTarget, inlineParams };
export { quoteLiteral, type SqlForOptions } from '../../core/migrate/script.js';
export type { ChecksumUpdate, Direction, HistoryRow, Plan, PlanOptions, Problem, ProblemKind, Status } from '../../core/migrate/plan.js';
export type { Done, Failure, MigrateEvent };

/** Any number, the same in every cockpit; advisory locks are per database. */
export const MIGRATE_LOCK_KEY = '7242031118';

export interface RunResult {
  ok: boolean;
  /** Migrations applied (upgrade) or reverted (downgrade) by this run, in order. */
  applied: Done[];
  failed: Failure | null;
  /** upgrade with onFailure 'revert-run': this run's migrations downgraded after the failure, newest first. */
  reverted: Done[];
  /** A failure while reverting (the revert stopped there). */
  revertFailed: Failure | null;
  /**
   * Every statement sent that changes the database, in order (session SETs, BEGIN, statements, history writes,
   * COMMIT/ROLLBACK, DROP INDEX of an invalid index). Parameterised history writes appear with their values inlined.
   * Read-only bookkeeping (history reads, lock, invalid-index probe, CREATE TABLE IF NOT EXISTS) is not listed.
   */
  executed: string[];
  events: MigrateEvent[];
  lock: 'held' | 'skipped';
}

export interface UpgradeOptions extends PlanOptions {
  onFailure?: 'stop' | 'revert-run';
  operator: string;
  onEvent?: (e: MigrateEvent) => void;
}

export interface DowngradeOptions extends DowngradeSelection {
  operator?: string;
  onEvent?: (e: MigrateEvent) => void;
}

export interface RunnerOptions {
  /** Connection string or pg client config. */
  connection: string | pg.ClientConfig;
  /** Migrations folder (default `migrations`). */
  dir?: string;
  /** Used for application_name and applied_by when an operation is not given one. Default: currentIdentity(). */
  operator?: string;
  host?: string;
  /** Total wait for the advisory lock (default 60 s). */
  lockTimeoutMs?: number;
  /** Poll interval (default 200 ms). */
  lockPollMs?: number;
  /** Skip the advisory lock (e.g. behind PgBouncer in transaction mode); the caller warns. */
  noLock?: boolean;
  /**
   * Builds the `cockpit migrate …` commands its advice prints (resolve, status), as the operator runs them: with the
   * folder and database given, `--repo` when elsewhere (core/command-line.ts). Default: `cockpit …`.
   */
  command?: CommandLine;
  /** Session `lock_timeout` for migration statements (default '5s'). */
  lockTimeout?: string;
  /** Session `statement_timeout` (default '1h'). */
  statementTimeout?: string;
  /** How often a transactional migration that hit lock_timeout is tried again (default 3). */
  lockRetries?: number;
  /** The first pause before such a retry; it doubles each time (default 1000 ms). */
  lockRetryPauseMs?: number;
}

// ───────────────────────────── runner ─────────────────────────────

interface RawRow {
  id: string;
  name: string;
  checksum: string;
  applied_at: Date;
  applied_by: string;
  duration_ms: number;
  state: 'applied' | 'failed';
  failed_statement: number | null;
  error: string | null;
}

const toRow = (r: RawRow): HistoryRow => ({
  id: r.id,
  name: r.name,
  checksum: r.checksum,
  appliedAt: r.applied_at,
  appliedBy: r.applied_by,
  durationMs: r.duration_ms,
  state: r.state,
  failedStatement: r.failed_statement,
  error: r.error,
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What pg tells about an error, in one line. */
function errText(e: unknown): { error: string; code?: string } {
  const err = e as { message?: string; code?: string; detail?: string };
  const msg = err?.message ?? String(e);
  return { error: err?.detail ? `${msg} (${err.detail})` : msg, code: typeof err?.code === 'string' ? err.code : undefined };
}
/** Accepted edits of applied migrations: their recorded checksums replaced, each told as an event. */
async function acceptChecksums(
  c: pg.Client,
  updates: ChecksumUpdate[],
  executed: string[],
  emit: (e: MigrateEvent) => void,
): Promise<void> {
  for (const u of updates) {
    await run(c, executed, { text: `UPDATE ${HISTORY_TABLE} SET checksum = $1 WHERE id = $2`, values: [u.to, u.id] });
    emit({ type: 'checksum.accepted', ...u });
  }
}

/** The failure of statement `i` (0-based) of a migration's section; past the last statement: the bookkeeping. */
function failureAt(m: Migration, direction: Direction, stmts: SqlStatement[], i: number, e: unknown, recorded: boolean): Failure {
  const st: SqlStatement | undefined = stmts[i];
  const dynamic = m.dynamic[direction] ? { dynamic: true } : {};
  return {
    id: m.id,
    name: m.name,
    file: m.file,
    direction,
    statement: st ? i + 1 : 0,
    of: stmts.length,
    line: st?.line ?? 0,
    ...(st ? { sql: st.text } : {}),
    ...dynamic,
    ...errText(e),
    recorded,
  };
}

/** What went wrong while a migration's statements were being sent (see Sender). */
type SendError = { kind: 'statement'; index: number; e: unknown } | { kind: 'query'; text: string; e: unknown };

/**
 * Sends a migration's statements for one attempt: numbers them in order (`sent`), and remembers the first
 * database error — a module's code may catch it and go on, or throw something else, but that error is the cause.
 */
class Sender {
  readonly sent: SqlStatement[] = [];
  error: SendError | null = null;
  constructor(
    private readonly c: pg.Client,
    private readonly executed: string[],
    private readonly before?: (s: SqlStatement) => Promise<void>,
  ) {}

  exec = async (s: SqlStatement): Promise<void> => {
    const index = this.sent.push(s) - 1;
    try {
      await this.before?.(s);
      await run(this.c, this.executed, { text: s.text });
    } catch (e) {
      this.error ??= { kind: 'statement', index, e };
      throw e;
    }
  };

  /** The statements of `m` in `direction` as numbered in failures: the recorded ones, or those a dynamic module sent. */
  section(m: Migration, direction: Direction): SqlStatement[] {
    return m.dynamic[direction] ? this.sent : direction === 'up' ? m.up : m.down;
  }

  read = async (text: string, values: readonly SqlValue[] | undefined): Promise<Row[]> => {
    try {
      return (await this.c.query<Row>({ text, values: values ? [...values] : undefined })).rows;
    } catch (e) {
      this.error ??= { kind: 'query', text, e };
      throw e;
    }
  };
}

export class MigrationRunner {
  readonly dir: string;
  private readonly opts: RunnerOptions;
  private readonly identity: { operator: string; host: string };

  constructor(opts: RunnerOptions) {
    this.opts = opts;
    this.dir = opts.dir ?? 'migrations';
    const id = currentIdentity();
    this.identity = { operator: opts.operator ?? id.operator, host: opts.host ?? id.host ?? os.hostname() };
  }

  /** The files, read afresh (module migrations compiled, imported and recorded). */
  migrations(): Promise<Migration[]> {
    return loadMigrations(this.dir);
  }

  applicationName(operator = this.identity.operator): string {
    return `cockpit migrate (${operator}@${this.identity.host} pid ${process.pid})`;
  }

  /** The SQL `upgrade`/`downgrade` would send for these migrations (see the free function `sqlFor`). */
  sqlFor(migrations: Migration[], direction: Direction): string {
    return sqlFor(migrations, direction, { lockTimeout: this.opts.lockTimeout, statementTimeout: this.opts.statementTimeout });
  }

  // ── connections ──

  private async connect(operator: string): Promise<pg.Client> {
    const base: pg.ClientConfig =
      typeof this.opts.connection === 'string' ? { connectionString: this.opts.connection } : { ...this.opts.connection };
    const client = new pg.Client(withConnectTimeout({ ...base, application_name: this.applicationName(operator) }));
    client.on('error', () => undefined); // a dropped connection surfaces as the failing query's error
    await connectClient(client);
    return client;
  }

  /** Take the advisory lock on a dedicated connection, polling; the returned client holds it. */
  private async acquireLock(operator: string, emit: (e: MigrateEvent) => void): Promise<pg.Client> {
    const lockClient = await this.connect(operator);
    const timeout = this.opts.lockTimeoutMs ?? 60_000;
    const poll = this.opts.lockPollMs ?? 200;
    const t0 = Date.now();
    let told = false;
    try {
      for (;;) {
        const { rows } = await lockClient.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1::bigint) AS ok', [MIGRATE_LOCK_KEY]);
        if (rows[0].ok) {
          emit({ type: 'lock.acquired', waitedMs: Date.now() - t0 });
          return lockClient;
        }
        const waited = Date.now() - t0;
        if (!told || waited >= timeout) {
          const holder = await this.lockHolder(lockClient);
          if (waited >= timeout) {
            throw new MigrateError(
              `another migration is running on this database: the migration lock is held by ${holder}; ` +
                `gave up after waiting ${(timeout / 1000).toFixed(1)} s. Wait for it to finish, or, if it is stuck, end that session ` +
                `(SELECT pg_terminate_backend(<pid>)) — the lock goes with it.`,
            );
          }
          emit({ type: 'lock.waiting', holder });
          told = true;
        }
        await sleep(Math.min(poll, Math.max(0, timeout - waited)));
      }
    } catch (e) {
      await lockClient.end().catch(ignoreCleanupError('closing the lock connection releases its advisory lock anyway'));
      throw e;
    }
  }

  /** Who holds the migration lock, in words. */
  private async lockHolder(client: pg.Client): Promise<string> {
    const { rows } = await client.query<{
      pid: number;
      application_name: string | null;
      client_addr: string | null;
      backend_start: Date | null;
      usename: string | null;
    }>(
      `SELECT a.pid, a.application_name, host(a.client_addr) AS client_addr, a.backend_start, a.usename
         FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
        WHERE l.locktype = 'advisory' AND l.granted
          AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
          AND l.classid = (($1::bigint >> 32) & 4294967295)::oid
          AND l.objid = ($1::bigint & 4294967295)::oid
          AND l.objsubid = 1`,
      [MIGRATE_LOCK_KEY],
    );
    const h = rows[0];
    if (!h) return 'a session that has just released it or is not visible to this user';
    const who = h.application_name ? `'${h.application_name}'` : 'a session without application_name';
    const from = h.client_addr ? ` from ${h.client_addr}` : ' over a local socket';
    const since = h.backend_start ? `, connected since ${h.backend_start.toISOString()}` : '';
    return `${who} (server pid ${h.pid}, user ${h.usename ?? '?'}${from}${since})`;
  }

  /**
   * Run `fn` with a migration connection (session settings applied, history table present) and — unless noLock —
   * the advisory lock held on a second connection. Both are closed afterwards.
   */
  private async session<T>(
    operator: string,
    emit: (e: MigrateEvent) => void,
    executed: string[],
    fn: (c: pg.Client) => Promise<T>,
  ): Promise<T> {
    let lockClient: pg.Client | null = null;
    if (this.opts.noLock) emit({ type: 'lock.skipped' });
    else lockClient = await this.acquireLock(operator, emit);
    let client: pg.Client | null = null;
    try {
      client = await this.connect(operator);
      for (const s of sessionSettings(this.opts.lockTimeout ?? '5s', this.opts.statementTimeout ?? '1h')) {
        await client.query(s);
        executed.push(s);
      }
      await ensureHistoryTable(client);
      return await fn(client);
    } finally {
      await client?.end().catch(ignoreCleanupError('closing the migration connection; the outcome is already decided'));
      if (lockClient) {
        await lockClient
          .query('SELECT pg_advisory_unlock($1::bigint)', [MIGRATE_LOCK_KEY])
          .catch(ignoreCleanupError('the connection is closed next, which releases the advisory lock'));
        await lockClient.end().catch(ignoreCleanupError('closing the lock connection releases its advisory lock anyway'));
      }
    }
  }

  /** A short read-only connection (no lock, no settings, creates nothing). */
  private async reading<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
    const client = await this.connect(this.identity.operator);
    try {
      return await fn(client);
    } finally {
      await client.end().catch(ignoreCleanupError('closing a read-only connection'));
    }
  }

  // ── read ──

  /** What is applied, pending and wrong, with the server's major version (the lint's target). */
  async status(): Promise<Status<Migration> & ServerVersion> {
    const { history, serverMajor } = await this.reading(async (c) => ({
      history: await readHistory(c, true),
      serverMajor: await readMajor(c),
    }));
    return { ...computeStatus(await this.migrations(), history, this.opts.command), serverMajor };
  }

  /** The migrations `upgrade` would apply, or a MigrateError saying why it would refuse. Writes nothing. */
  async plan(opts: PlanOptions = {}): Promise<Plan<Migration> & ServerVersion> {
    const { history, serverMajor } = await this.reading(async (c) => ({
      history: await readHistory(c, true),
      serverMajor: await readMajor(c),
    }));
    return { ...computePlan(await this.migrations(), history, opts, this.opts.command), serverMajor };
  }

  /** The applied migrations `downgrade` would revert, newest first, or a MigrateError saying why it would refuse. Writes nothing. */
  async downgradePlan(opts: DowngradeSelection): Promise<{ migrations: Migration[]; checksumUpdates: ChecksumUpdate[] }> {
    const history = await this.reading((c) => readHistory(c, true));
    return computeDowngrade(await this.migrations(), history, opts, this.opts.command);
  }

  // ── write ──

  async upgrade(opts: UpgradeOptions): Promise<RunResult> {
    const result = emptyResult(this.opts.noLock);
    const emit = emitter(result, opts.onEvent, this.opts.command);
    const operator = opts.operator;
    await this.session(operator, emit, result.executed, async (c) => {
      const migrations = await this.migrations();
      const p = computePlan(migrations, await readHistory(c, false), opts, this.opts.command);
      await acceptChecksums(c, p.checksumUpdates, result.executed, emit);
      result.failed = await this.applyAll(c, p.pending, 'up', operator, result.executed, emit, false, result.applied);
      if (result.failed && (opts.onFailure ?? 'stop') === 'revert-run') {
        const byId = new Map(migrations.map((m) => [m.id, m]));
        const toRevert = [...result.applied].reverse().map((d) => byId.get(d.id)!);
        result.revertFailed = await this.applyAll(c, toRevert, 'down', operator, result.executed, emit, true, result.reverted);
      }
    });
    result.ok = !result.failed && !result.revertFailed;
    return result;
  }

  async downgrade(opts: DowngradeOptions = {}): Promise<RunResult> {
    const result = emptyResult(this.opts.noLock);
    const emit = emitter(result, opts.onEvent, this.opts.command);
    const operator = opts.operator ?? this.identity.operator;
    await this.session(operator, emit, result.executed, async (c) => {
      const migrations = await this.migrations();
      const history = await readHistory(c, false);
      const targets = computeDowngrade(migrations, history, opts, this.opts.command);
      await acceptChecksums(c, targets.checksumUpdates, result.executed, emit);
      result.failed = await this.applyAll(c, targets.migrations, 'down', operator, result.executed, emit, false, result.applied);
    });
    result.ok = !result.failed;
    return result;
  }

  /** Settle a 'failed' row: 'applied' marks it applied, 'rolled-back' deletes it (the migration becomes pending). */
  async resolve(
    id: string,
    how: 'applied' | 'rolled-back',
    opts: { operator?: string; onEvent?: (e: MigrateEvent) => void } = {},
  ): Promise<RunResult> {
    const result = emptyResult(this.opts.noLock);
    const emit = emitter(result, opts.onEvent, this.opts.command);
    const operator = opts.operator ?? this.identity.operator;
    await this.session(operator, emit, result.executed, async (c) => {
      const row = (await readHistory(c, false)).find((r) => r.id === id);
      if (!row) throw new MigrateError(`migration ${id} has no history row: nothing to resolve`);
      if (row.state !== 'failed') throw new MigrateError(`migration ${id}_${row.name} is ${row.state}, not failed: nothing to resolve`);
      if (how === 'applied') {
        const m = (await this.migrations()).find((x) => x.id === id);
        await run(c, result.executed, {
          text: `UPDATE ${HISTORY_TABLE} SET state = 'applied', failed_statement = NULL, error = NULL, checksum = $2, applied_by = $3, applied_at = now() WHERE id = $1`,
          values: [id, m?.checksum ?? row.checksum, operator],
        });
      } else {
        await run(c, result.executed, { text: `DELETE FROM ${HISTORY_TABLE} WHERE id = $1`, values: [id] });
      }
      emit({ type: 'migration.resolved', id, how });
    });
    return result;
  }

  /** Run one migration in one direction, recording history; a failure is returned, not thrown. */
  /** Apply (or revert) migrations in order into `done`, stopping at the first failure, which is returned. */
  private async applyAll(
    c: pg.Client,
    list: Migration[],
    direction: Direction,
    operator: string,
    executed: string[],
    emit: (e: MigrateEvent) => void,
    revert: boolean,
    done: Done[],
  ): Promise<Failure | null> {
    for (const m of list) {
      const r = await this.apply({ c, m, direction, operator, executed, emit, revert });
      if ('failure' in r) return r.failure;
      done.push(r.done);
    }
    return null;
  }

  private async apply(a: Applying): Promise<{ done: Done } | { failure: Failure }> {
    const { m, direction, emit, revert } = a;
    if (direction === 'down' && !m.hasDown) {
      const failure: Failure = {
        id: m.id,
        name: m.name,
        file: m.file,
        direction,
        statement: 0,
        of: 0,
        line: 0,
        error: noDownReason(m),
        recorded: false,
      };
      emit({ type: 'migration.failed', revert, ...failure });
      return { failure };
    }
    emit({ type: 'migration.started', id: m.id, name: m.name, direction, noTransaction: m.noTransaction, revert });
    const t0 = performance.now();

    if (!m.noTransaction) {
      // A statement that cannot get its lock within lock_timeout (55P03) gave up rather than queue every reader
      // behind it: the whole migration is rolled back and tried again after a pause, a few times (GitLab's
      // with_lock_retries), before it counts as failed.
      for (let attempt = 1; ; attempt++) {
        const r = await this.applyInTransaction(a, t0);
        if (!('retry' in r)) return r;
        if (attempt > (this.opts.lockRetries ?? 3)) {
          emit({ type: 'migration.failed', revert, ...r.retry });
          return { failure: r.retry };
        }
        const waitMs = (this.opts.lockRetryPauseMs ?? 1000) * 2 ** (attempt - 1);
        emit({ type: 'migration.lock-retry', id: m.id, name: m.name, attempt, waitMs, error: r.retry.error });
        await new Promise((res) => setTimeout(res, waitMs));
      }
    }
    return this.applyWithoutTransaction(a, t0);
  }

  /**
   * Send the statements of `m` in `direction` through `send`: the recorded ones, or — for a module that builds its
   * SQL from the database — those its function builds as it runs with a live builder on this connection.
   */
  private async sendAll(m: Migration, direction: Direction, send: Sender): Promise<void> {
    const fn = m.dynamic[direction] && m.module ? (direction === 'up' ? m.module.upgrade : m.module.downgrade) : undefined;
    if (fn) return runLive(fn, direction, m.module!, m.noTransaction, { exec: send.exec, read: send.read });
    for (const s of direction === 'up' ? m.up : m.down) await send.exec(s);
  }

  /** The failure of an attempt that threw `e` while sending the statements (recorded: a 'failed' row will say so). */
  private sendFailure(m: Migration, direction: Direction, send: Sender, e: unknown, recorded: boolean): Failure {
    const stmts = send.section(m, direction);
    const err = send.error;
    if (err?.kind === 'statement') return failureAt(m, direction, stmts, err.index, err.e, recorded);
    const base: Failure = {
      id: m.id,
      name: m.name,
      file: m.file,
      direction,
      statement: 0,
      of: stmts.length,
      line: 0,
      dynamic: true,
      error: '',
      recorded,
    };
    if (err?.kind === 'query') {
      const t = errText(err.e);
      return { ...base, sql: err.text, code: t.code, error: `a read (m.query) failed: ${t.error}` };
    }
    // Not the database: the module's own code threw (only a module's function runs anything but statements).
    const fn = direction === 'up' ? 'upgrade' : 'downgrade';
    return { ...base, line: m.module?.locate(e instanceof Error ? e.stack : undefined) ?? 0, error: `${fn}() failed: ${codeErrorText(e)}` };
  }

  private async applyInTransaction(a: Applying, t0: number): Promise<{ done: Done } | { failure: Failure } | { retry: Failure }> {
    const { c, m, direction, operator, executed, emit, revert } = a;
    const send = new Sender(c, executed);
    let failure: Failure | null = null;
    try {
      await run(c, executed, { text: 'BEGIN' });
      try {
        await this.sendAll(m, direction, send);
      } catch (e) {
        failure = this.sendFailure(m, direction, send, e, false);
        throw e;
      }
      const durationMs = Math.round(performance.now() - t0);
      await run(c, executed, direction === 'up' ? insertApplied(m, operator, durationMs) : deleteRow(m));
      await run(c, executed, { text: 'COMMIT' });
      emit({ type: 'migration.finished', id: m.id, name: m.name, direction, durationMs, revert });
      return { done: { id: m.id, name: m.name, durationMs } };
    } catch (e) {
      // BEGIN, the history write or COMMIT failed: statement 0 (the bookkeeping)
      failure ??= { ...failureAt(m, direction, send.section(m, direction), -1, e, false), statement: 0 };
      try {
        await run(c, executed, { text: 'ROLLBACK' });
      } catch (e2) {
        throw new MigrateError(`${m.file}: ${direction} failed (${failure.error}) and ROLLBACK failed too: ${errText(e2).error}`);
      }
      if (failure.code === '55P03') return { retry: failure };
      emit({ type: 'migration.failed', revert, ...failure });
      return { failure };
    }
  }

  private async applyWithoutTransaction(a: Applying, t0: number): Promise<{ done: Done } | { failure: Failure }> {
    const { c, m, direction, operator, executed, emit, revert } = a;
    // no transaction: statement by statement; before a CREATE INDEX CONCURRENTLY, an INVALID leftover is dropped
    const send = new Sender(c, executed, async (s) => {
      const idx = direction === 'up' ? concurrentIndexTarget(s.text) : null;
      if (idx) await this.dropInvalidIndex(c, m, idx.qualified, executed, emit);
    });
    try {
      await this.sendAll(m, direction, send);
    } catch (e) {
      const failure = this.sendFailure(m, direction, send, e, true);
      const prefix = direction === 'down' ? 'downgrade: ' : '';
      try {
        await run(c, executed, {
          text:
            `INSERT INTO ${HISTORY_TABLE} (${COLS}, failed_statement, error) VALUES ($1, $2, $3, now(), $4, $5, 'failed', $6, $7) ` +
            `ON CONFLICT (id) DO UPDATE SET state = 'failed', failed_statement = EXCLUDED.failed_statement, error = EXCLUDED.error`,
          values: [
            m.id,
            m.name,
            m.checksum,
            operator,
            Math.round(performance.now() - t0),
            failure.statement || send.sent.length + 1,
            prefix + failure.error,
          ],
        });
      } catch (e2) {
        failure.recorded = false;
        failure.error += ` — and recording the failure failed too: ${errText(e2).error}`;
      }
      emit({ type: 'migration.failed', revert, ...failure });
      return { failure };
    }
    const durationMs = Math.round(performance.now() - t0);
    try {
      await run(c, executed, direction === 'up' ? insertApplied(m, operator, durationMs) : deleteRow(m));
    } catch (e) {
      // the bookkeeping failed, not a statement
      const failure = { ...failureAt(m, direction, send.section(m, direction), -1, e, false), statement: 0 };
      failure.error = `all statements ran but the history could not be updated: ${failure.error}`;
      emit({ type: 'migration.failed', revert, ...failure });
      return { failure };
    }
    emit({ type: 'migration.finished', id: m.id, name: m.name, direction, durationMs, revert });
    return { done: { id: m.id, name: m.name, durationMs } };
  }

  /** Before CREATE INDEX CONCURRENTLY: an INVALID index of that name (left by a failed earlier build) is dropped. */
  private async dropInvalidIndex(
    c: pg.Client,
    m: Migration,
    qualified: string,
    executed: string[],
    emit: (e: MigrateEvent) => void,
  ): Promise<void> {
    const { rows } = await c.query<{ valid: boolean; name: string }>(
      'SELECT i.indisvalid AS valid, i.indexrelid::regclass::text AS name FROM pg_index i WHERE i.indexrelid = to_regclass($1)',
      [qualified],
    );
    if (rows.length && !rows[0].valid) {
      await run(c, executed, { text: `DROP INDEX CONCURRENTLY ${qualified}` });
      emit({ type: 'index.invalid-dropped', id: m.id, index: rows[0].name });
    }
  }
}

// ───────────────────────────── helpers ─────────────────────────────

/** One migration being applied or reverted, on the run's connection, with what it sends recorded in `executed`. */
interface Applying {
  c: pg.Client;
  m: Migration;
  direction: Direction;
  operator: string;
  executed: string[];
  emit: (e: MigrateEvent) => void;
  /** Reverting what this run applied (revert-run). */
  revert: boolean;
}

async function run(c: pg.Client, executed: string[], step: Step): Promise<void> {
  executed.push(step.values ? inlineParams(step.text, step.values) : step.text);
  await c.query(step.values ? { text: step.text, values: step.values } : step.text);
}

function emptyResult(noLock: boolean | undefined): RunResult {
  return {
    ok: true,
    applied: [],
    failed: null,
    reverted: [],
    revertFailed: null,
    executed: [],
    events: [],
    lock: noLock ? 'skipped' : 'held',
  };
}

function emitter(result: RunResult, onEvent?: (e: MigrateEvent) => void, command?: CommandLine): (e: MigrateEvent) => void {
  return (event) => {
    // A failure the history now records names the command that says how to resolve it, runnable where it is read.
    const e = event.type === 'migration.failed' && event.recorded && command ? { ...event, status: command(['migrate', 'status']) } : event;
    result.events.push(e);
    onEvent?.(e);
  };
}

/** The server's major version (what the lint checks for), e.g. 15 for 15.4. */
export interface ServerVersion {
  serverMajor: number;
}

async function readMajor(c: pg.Client): Promise<number> {
  const r = await c.query<{ v: string }>("SELECT current_setting('server_version_num') AS v");
  return Math.floor(Number(r.rows[0]?.v) / 10000);
}

async function ensureHistoryTable(c: pg.Client): Promise<void> {
  await c.query(`CREATE TABLE IF NOT EXISTS ${HISTORY_TABLE} (
    id text PRIMARY KEY,
    name text NOT NULL,
    checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now(),
    applied_by text NOT NULL,
    duration_ms integer NOT NULL,
    state text NOT NULL CHECK (state IN ('applied', 'failed')),
    failed_statement integer,
    error text
  )`);
}

async function readHistory(c: pg.Client, mayBeMissing: boolean): Promise<HistoryRow[]> {
  if (mayBeMissing) {
    const { rows } = await c.query<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [HISTORY_TABLE]);
    if (!rows[0].t) return [];
  }
  const { rows } = await c.query<RawRow>(`SELECT ${COLS}, failed_statement, error FROM ${HISTORY_TABLE} ORDER BY id`);
  return rows.map(toRow);
}
