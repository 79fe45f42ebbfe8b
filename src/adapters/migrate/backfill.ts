/**
 * Data backfills: `migrations/backfills/<name>.yaml` run in small keyset batches against PostgreSQL with `pg`.
 *
 *   table: listings                          # identifier, may be schema.table
 *   key: id                                  # sole column of a unique index (the primary key): the batch order
 *   set: "price_cents = round(price * 100)"  # SQL, as in a migration
 *   where: "price_cents IS NULL"             # the idempotency predicate: rows that still need it (required)
 *   batchSize: 1000                          # default 1000
 *   pauseMs: 0                               # pause between batches (throttling)
 *
 * - Each batch is ONE statement, so one round trip and its own transaction: `WITH batch AS (SELECT ctid, key …
 *   WHERE key > $last AND (where) ORDER BY key LIMIT n), updated AS (UPDATE t SET … FROM batch WHERE t.ctid =
 *   batch.ctid AND t.key = batch.key AND (where)), checkpoint AS (UPDATE cockpit_backfills SET last_key …, rows_done
 *   = rows_done + n …) SELECT …`.
 *   - The update finds its rows by ctid (a TID scan, not a second index lookup per row) and the key (a ctid alone is
 *     not unique across a partitioned table's partitions). A row changed by someone else between the two is
 *     re-checked by PostgreSQL against the ctid and `where` and left out; the next pass takes it if it still matches.
 *   - No FOR UPDATE SKIP LOCKED: locking the rows first writes every row twice (about 10 points of throughput in
 *     the benchmark). A row locked by the application makes the batch wait, at most lock_timeout, and the batch is
 *     retried, as a plain UPDATE would wait. The update and
 *   its checkpoint commit together or not at all: a killed run resumes after the last committed batch, nothing is
 *   done twice, and `rows_done` counts every row exactly once. (Four round trips, BEGIN, batch, checkpoint, COMMIT,
 *   cost about a tenth of the throughput of a single UPDATE.)
 * - Key values are kept as text and compared with a cast to the key column's type (from the catalog): integer,
 *   uuid, text… keys all work.
 * - A pass ends when a batch finds nothing after the cursor. Then one COUNT with the predicate decides: 0 rows → the
 *   backfill is finished; otherwise (rows inserted behind the cursor meanwhile, rows skipped because another
 *   transaction held them) another pass starts from the beginning, at most `maxPasses` passes.
 * - A re-run of a finished backfill counts the rows matching `where`: 0 → "already finished", nothing is written;
 *   more (rows that arrived since) → a new pass from the beginning (`rows_done` keeps adding up).
 * - Guard: after `set`, a row must no longer match `where` (else the backfill would never end): the statement then
 *   fails on purpose (a cast of STILL_MATCHING to int), so the batch is rolled back, and the run fails, saying so.
 * - One run per backfill at a time: a session advisory lock keyed on the name (on the batch connection).
 */
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { z } from 'zod';
import { parseYamlInput } from '../../core/yaml-input.js';
import { connectClient, withConnectTimeout } from '../pg-connect.js';
import { currentIdentity } from '../identity.js';
import { CockpitError, EXIT, ignoreCleanupError, type ExitCode } from '../../core/errors.js';
import type { BackfillEvent, BackfillResult } from '../../core/migrate/events.js';

export type { BackfillEvent, BackfillResult };

export const BACKFILL_TABLE = 'cockpit_backfills';
/** First half of the two-key advisory lock of a backfill run (the second is hashtext(name)). */
export const BACKFILL_LOCK_CLASS = 72420311;

const IDENT_RE = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/;
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;

export const backfillSchema = z.strictObject({
  table: z.string().regex(IDENT_RE, 'expected a table name (letters, digits, _), optionally schema.table'),
  key: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected a column name (letters, digits, _)'),
  set: z.string().trim().min(1, 'expected the SET assignments, e.g. "price_cents = round(price * 100)"'),
  where: z.string().trim().min(1, 'expected the predicate of the rows that still need the backfill, e.g. "price_cents IS NULL"'),
  batchSize: z.number().int().min(1).max(100_000).default(1000),
  pauseMs: z.number().int().min(0).max(600_000).default(0),
});

export interface BackfillDefinition extends z.infer<typeof backfillSchema> {
  name: string;
  file: string;
}

/** A backfill that could not run or finish (exit 1). */
export class BackfillError extends CockpitError {
  constructor(message: string, exitCode: ExitCode = EXIT.failed) {
    super(message, exitCode);
  }
}

/** A definition file that is missing or invalid: the message names file:line:column and the field (bad input, exit 2). */
export class BackfillDefinitionError extends BackfillError {
  constructor(message: string) {
    super(message, EXIT.usage);
  }
}

/** Parse and validate a definition's text. */
export function parseBackfill(name: string, file: string, text: string): BackfillDefinition {
  const r = parseYamlInput(file, text, backfillSchema, 'backfill');
  if (!r.ok) throw new BackfillDefinitionError(r.message);
  return { ...r.data, name, file };
}

/** `<dir>/<name>.yaml` (or .yml), read and validated. `dir` is the backfills folder (migrations/backfills). */
export function loadBackfill(dir: string, name: string): BackfillDefinition {
  if (!NAME_RE.test(name))
    throw new BackfillDefinitionError(
      `backfill name ${JSON.stringify(name)}: expected letters, digits, _ and - (the file is ${path.join(dir, '<name>.yaml')})`,
    );
  const file = [path.join(dir, `${name}.yaml`), path.join(dir, `${name}.yml`)].find((f) => existsSync(f));
  if (!file) throw new BackfillDefinitionError(`no backfill ${name}: ${path.join(dir, `${name}.yaml`)} does not exist`);
  return parseBackfill(name, file, readFileSync(file, 'utf8'));
}

// ───────────────────────────── events and results ─────────────────────────────

export interface BackfillOptions {
  connection: string | pg.ClientConfig;
  /** Override the definition's batch size / pause. */
  batchSize?: number;
  pauseMs?: number;
  operator?: string;
  host?: string;
  /** Session lock_timeout (default '5s') and statement_timeout (default '60s') for the batches. */
  lockTimeout?: string;
  statementTimeout?: string;
  /** statement_timeout of the COUNT at start (default '30s'); when it runs out the total is unknown. */
  countTimeout?: string;
  /** How long to wait for another run of the same backfill (default 10 s). */
  lockWaitMs?: number;
  /** Passes over the table before giving up on rows that keep matching (default 5). */
  maxPasses?: number;
  /** Stop after the batch in progress commits. */
  signal?: AbortSignal;
  onEvent?: (e: BackfillEvent) => void;
}

// ───────────────────────────── SQL ─────────────────────────────

/** `schema.table` / `col` double-quoted (the parts are validated identifiers). */
export function quoteIdent(ident: string): string {
  return ident
    .split('.')
    .map((p) => `"${p.replace(/"/g, '""')}"`)
    .join('.');
}

/** Raised inside the batch statement (a failing cast) when rows still match `where` after `set`. */
const STILL_MATCHING = 'cockpit-backfill: rows still match where after set';

/**
 * The batch statement: the batch, its update and its checkpoint, in one statement. $1 last key (text, absent on the
 * first batch of a pass), then the batch size, then the backfill's name. Returns the rows updated and the last key
 * (as text); fails with STILL_MATCHING when an updated row still matches `where`.
 */
export function batchSql(def: Pick<BackfillDefinition, 'table' | 'key' | 'set' | 'where'>, keyType: string, first: boolean): string {
  const t = quoteIdent(def.table);
  const k = quoteIdent(def.key);
  const after = first ? '' : `${k} > $1::${keyType} AND `;
  const limit = first ? '$1' : '$2';
  const name = first ? '$2' : '$3';
  return (
    `WITH cockpit_batch AS (SELECT ctid AS cockpit_ctid, ${k} AS cockpit_key FROM ${t} WHERE ${after}(${def.where}) ORDER BY ${k} LIMIT ${limit}), ` +
    `cockpit_updated AS (UPDATE ${t} SET ${def.set} FROM cockpit_batch WHERE ${t}.ctid = cockpit_batch.cockpit_ctid AND ${t}.${k} = cockpit_batch.cockpit_key AND (${def.where}) ` +
    `RETURNING ${t}.${k} AS k, coalesce((${def.where}), false) AS still), ` +
    `cockpit_summary AS (SELECT count(*)::int AS n, bool_or(still) AS still, (SELECT u.k::text FROM cockpit_updated u ORDER BY u.k DESC LIMIT 1) AS last_key FROM cockpit_updated), ` +
    `cockpit_checkpoint AS (UPDATE ${BACKFILL_TABLE} SET last_key = s.last_key, rows_done = rows_done + s.n, batches = batches + 1, updated_at = now() ` +
    `FROM cockpit_summary s WHERE name = ${name}::text AND s.n > 0 RETURNING 1) ` +
    // Not a constant: the planner folds constants ahead of time, and this cast must fail only when rows still match.
    `SELECT n, last_key, (CASE WHEN still THEN '${STILL_MATCHING}: ' || n::text END)::int AS guard, (SELECT count(*) FROM cockpit_checkpoint)::int AS checkpointed FROM cockpit_summary`
  );
}

const CHECKPOINT_DDL = `CREATE TABLE IF NOT EXISTS ${BACKFILL_TABLE} (
  name text PRIMARY KEY,
  table_name text NOT NULL,
  key_column text NOT NULL,
  last_key text,
  rows_done bigint NOT NULL DEFAULT 0,
  batches bigint NOT NULL DEFAULT 0,
  pass integer NOT NULL DEFAULT 1,
  started_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz,
  state text NOT NULL CHECK (state IN ('running', 'stopped', 'failed', 'finished')),
  started_by text NOT NULL,
  error text
)`;

export interface Checkpoint {
  name: string;
  tableName: string;
  keyColumn: string;
  lastKey: string | null;
  rowsDone: number;
  batches: number;
  pass: number;
  startedAt: Date;
  updatedAt: Date;
  finishedAt: Date | null;
  state: 'running' | 'stopped' | 'failed' | 'finished';
  startedBy: string;
  error: string | null;
}

async function readCheckpoint(c: pg.Client, name: string): Promise<Checkpoint | null> {
  const { rows } = await c.query(`SELECT * FROM ${BACKFILL_TABLE} WHERE name = $1`, [name]);
  const r = rows[0];
  if (!r) return null;
  return {
    name: r.name,
    tableName: r.table_name,
    keyColumn: r.key_column,
    lastKey: r.last_key,
    rowsDone: Number(r.rows_done),
    batches: Number(r.batches),
    pass: r.pass,
    startedAt: r.started_at,
    updatedAt: r.updated_at,
    finishedAt: r.finished_at,
    state: r.state,
    startedBy: r.started_by,
    error: r.error,
  };
}

/** The checkpoint of a backfill, or null (none yet, or no checkpoint table). */
export async function backfillCheckpoint(connection: string | pg.ClientConfig, name: string): Promise<Checkpoint | null> {
  const c = new pg.Client(withConnectTimeout(typeof connection === 'string' ? { connectionString: connection } : connection));
  c.on('error', () => undefined);
  await connectClient(c);
  try {
    const { rows } = await c.query<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [BACKFILL_TABLE]);
    return rows[0].t ? await readCheckpoint(c, name) : null;
  } finally {
    await c.end().catch(ignoreCleanupError('closing the backfill connection; its last batch is committed or rolled back'));
  }
}

// ───────────────────────────── runner ─────────────────────────────

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted || ms <= 0) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

function errText(e: unknown): { error: string; code?: string } {
  const err = e as { message?: string; code?: string; detail?: string; position?: string };
  const msg = err?.message ?? String(e);
  return { error: err?.detail ? `${msg} (${err.detail})` : msg, code: typeof err?.code === 'string' ? err.code : undefined };
}

/** SQLSTATEs worth retrying a batch for: lock_not_available (lock_timeout), deadlock, serialization failure. */
const RETRYABLE = new Set(['55P03', '40P01', '40001']);

/** The key column's SQL type (format_type), after checking it is the sole column of a unique index of the table. */
async function keyTypeOf(c: pg.Client, def: BackfillDefinition): Promise<string> {
  const { rows: rel } = await c.query<{ oid: number | null }>('SELECT to_regclass($1)::oid AS oid', [quoteIdent(def.table)]);
  const oid = rel[0]?.oid;
  if (!oid) throw new BackfillError(`${def.file}: table: ${def.table} does not exist in this database`);
  const { rows } = await c.query<{ type: string; unique: boolean }>(
    `SELECT format_type(a.atttypid, a.atttypmod) AS type,
            EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = a.attrelid AND i.indisunique AND i.indisvalid
                      AND i.indnkeyatts = 1 AND i.indkey[0] = a.attnum AND i.indpred IS NULL) AS unique
       FROM pg_attribute a WHERE a.attrelid = $1 AND a.attname = $2 AND a.attnum > 0 AND NOT a.attisdropped`,
    [oid, def.key],
  );
  if (!rows[0]) throw new BackfillError(`${def.file}: key: table ${def.table} has no column ${def.key}`);
  if (!rows[0].unique) {
    throw new BackfillError(
      `${def.file}: key: ${def.table}.${def.key} is not the sole column of a unique index (e.g. the primary key): keyset batches need a unique, indexed key`,
    );
  }
  return rows[0].type;
}

export async function runBackfill(def: BackfillDefinition, opts: BackfillOptions): Promise<BackfillResult> {
  const id = currentIdentity();
  const operator = opts.operator ?? id.operator;
  const host = opts.host ?? id.host ?? os.hostname();
  const batchSize = opts.batchSize ?? def.batchSize;
  const pauseMs = opts.pauseMs ?? def.pauseMs;
  const maxPasses = opts.maxPasses ?? 5;
  const emit = (e: BackfillEvent) => opts.onEvent?.(e);
  const base: pg.ClientConfig = typeof opts.connection === 'string' ? { connectionString: opts.connection } : { ...opts.connection };
  const c = new pg.Client(
    withConnectTimeout({
      ...base,
      application_name: `cockpit backfill ${def.name} (${operator}@${host} pid ${process.pid})`.slice(0, 63),
    }),
  );
  c.on('error', () => undefined); // a dropped connection surfaces as the failing query's error

  const t0 = performance.now();
  const result: BackfillResult = {
    name: def.name,
    state: 'failed',
    alreadyFinished: false,
    rowsDone: 0,
    rowsThisRun: 0,
    batches: 0,
    lastKey: null,
    elapsedMs: 0,
    maxBatchMs: 0,
  };
  let cp: Checkpoint | null = null;
  const fail = async (e: unknown): Promise<BackfillResult> => {
    const { error, code } = errText(e);
    result.state = 'failed';
    result.error = error;
    result.code = code;
    if (cp) {
      await c
        .query(`UPDATE ${BACKFILL_TABLE} SET state = 'failed', error = $2, updated_at = now() WHERE name = $1`, [def.name, error])
        .catch(ignoreCleanupError('the checkpoint row keeps its last good key; the failure itself is reported'));
    }
    emit({ type: 'backfill.failed', name: def.name, rowsDone: result.rowsDone, lastKey: result.lastKey, error, code });
    return result;
  };

  await connectClient(c);
  try {
    await c.query(`SET lock_timeout = '${(opts.lockTimeout ?? '5s').replace(/'/g, "''")}'`);
    await c.query(`SET statement_timeout = '${(opts.statementTimeout ?? '60s').replace(/'/g, "''")}'`);
    await c.query(CHECKPOINT_DDL);
    await lockRun(c, def.name, opts.lockWaitMs ?? 10_000, emit);
    const keyType = await keyTypeOf(c, def);

    cp = await readCheckpoint(c, def.name);
    if (cp && (cp.tableName !== def.table || cp.keyColumn !== def.key)) {
      throw new BackfillError(
        `${def.file}: the checkpoint of backfill ${def.name} is for ${cp.tableName} by ${cp.keyColumn}, the definition now says ${def.table} by ${def.key}: ` +
          `give the changed backfill a new name (or DELETE FROM ${BACKFILL_TABLE} WHERE name = '${def.name}' to forget the old one)`,
      );
    }
    const remaining = await countRemaining(c, def, opts.countTimeout ?? '30s');
    result.rowsDone = cp?.rowsDone ?? 0;
    result.lastKey = cp?.lastKey ?? null;
    if (cp?.state === 'finished' && remaining === 0) {
      result.state = 'finished';
      result.alreadyFinished = true;
      result.elapsedMs = performance.now() - t0;
      emit({
        type: 'backfill.finished',
        name: def.name,
        rowsDone: cp.rowsDone,
        rowsThisRun: 0,
        batches: 0,
        elapsedMs: result.elapsedMs,
        alreadyFinished: true,
      });
      return result;
    }

    let pass = 1;
    if (!cp) {
      await c.query(`INSERT INTO ${BACKFILL_TABLE} (name, table_name, key_column, state, started_by) VALUES ($1, $2, $3, 'running', $4)`, [
        def.name,
        def.table,
        def.key,
        operator,
      ]);
      cp = (await readCheckpoint(c, def.name))!;
      emit({ type: 'backfill.started', name: def.name, table: def.table, estimatedRemaining: remaining, batchSize, pauseMs, rerun: false });
    } else if (cp.state === 'finished') {
      // Rows match again (inserted since): a new pass from the beginning; rows_done keeps adding up.
      await c.query(
        `UPDATE ${BACKFILL_TABLE} SET state = 'running', last_key = NULL, pass = pass + 1, finished_at = NULL, error = NULL, updated_at = now() WHERE name = $1`,
        [def.name],
      );
      result.lastKey = null;
      emit({ type: 'backfill.started', name: def.name, table: def.table, estimatedRemaining: remaining, batchSize, pauseMs, rerun: true });
    } else {
      await c.query(`UPDATE ${BACKFILL_TABLE} SET state = 'running', error = NULL, updated_at = now() WHERE name = $1`, [def.name]);
      emit({
        type: 'backfill.resumed',
        name: def.name,
        table: def.table,
        lastKey: cp.lastKey,
        rowsDone: cp.rowsDone,
        previousState: cp.state,
        estimatedRemaining: remaining,
        batchSize,
        pauseMs,
      });
    }

    const startDone = result.rowsDone;
    const total = remaining === undefined ? undefined : startDone + remaining;
    const tRun = performance.now();
    let lastKey = result.lastKey;
    for (;;) {
      if (opts.signal?.aborted) {
        await c.query(`UPDATE ${BACKFILL_TABLE} SET state = 'stopped', updated_at = now() WHERE name = $1`, [def.name]);
        result.state = 'stopped';
        result.elapsedMs = performance.now() - t0;
        emit({ type: 'backfill.stopped', name: def.name, rowsDone: result.rowsDone, rowsThisRun: result.rowsThisRun, lastKey });
        return result;
      }
      const first = lastKey === null;
      const sql = batchSql(def, keyType, first);
      const values = first ? [batchSize, def.name] : [lastKey, batchSize, def.name];
      let attempt = 0;
      let row: { n: number; last_key: string | null };
      let batchMs: number;
      for (;;) {
        const tb = performance.now();
        try {
          // One statement, its own transaction (autocommit): the update and its checkpoint together.
          row = (await c.query(sql, values)).rows[0];
          batchMs = performance.now() - tb;
          break;
        } catch (e) {
          const { error, code } = errText(e);
          if (error.includes(STILL_MATCHING)) {
            throw new BackfillError(
              `after set (${def.set}) rows still match where (${def.where}): each row must stop matching once backfilled, else the backfill never ends. The batch was rolled back`,
            );
          }
          if (code && RETRYABLE.has(code) && ++attempt < 3 && !opts.signal?.aborted) {
            emit({ type: 'backfill.retry', name: def.name, attempt, error });
            await sleep(500 * attempt, opts.signal);
            continue;
          }
          throw e;
        }
      }
      if (row.n > 0) {
        lastKey = row.last_key;
        result.lastKey = lastKey;
        result.rowsDone += row.n;
        result.rowsThisRun += row.n;
        result.batches++;
        result.maxBatchMs = Math.max(result.maxBatchMs, batchMs);
        const secs = (performance.now() - tRun) / 1000;
        const ratePerSec = secs > 0 ? result.rowsThisRun / secs : 0;
        const etaSec = total !== undefined && ratePerSec > 0 ? Math.max(0, total - result.rowsDone) / ratePerSec : undefined;
        emit({
          type: 'backfill.progress',
          name: def.name,
          rowsDone: result.rowsDone,
          batchRows: row.n,
          batches: result.batches,
          total,
          ratePerSec,
          etaSec,
          batchMs,
          lastKey: lastKey!,
        });
        if (row.n === batchSize) {
          await sleep(pauseMs, opts.signal);
          continue;
        }
      }
      // Nothing (more) after the cursor: finished if no row matches any more, else another pass from the start.
      const left = await countRemaining(c, def, opts.countTimeout ?? '30s');
      if (left === 0) break;
      if (left === undefined)
        throw new BackfillError(`could not count the rows still matching where (${def.where}) before finishing: the COUNT timed out`);
      if (++pass > maxPasses) {
        throw new BackfillError(
          `${left} row(s) still match where (${def.where}) after ${maxPasses} passes (held by other transactions, or written back meanwhile): run it again later`,
        );
      }
      emit({ type: 'backfill.pass', name: def.name, pass, remaining: left });
      await c.query(`UPDATE ${BACKFILL_TABLE} SET last_key = NULL, pass = pass + 1, updated_at = now() WHERE name = $1`, [def.name]);
      lastKey = null;
      result.lastKey = null;
      await sleep(Math.max(pauseMs, 100), opts.signal);
    }
    await c.query(
      `UPDATE ${BACKFILL_TABLE} SET state = 'finished', finished_at = now(), updated_at = now(), error = NULL WHERE name = $1`,
      [def.name],
    );
    result.state = 'finished';
    result.elapsedMs = performance.now() - t0;
    emit({
      type: 'backfill.finished',
      name: def.name,
      rowsDone: result.rowsDone,
      rowsThisRun: result.rowsThisRun,
      batches: result.batches,
      elapsedMs: result.elapsedMs,
      alreadyFinished: false,
    });
    return result;
  } catch (e) {
    if (e instanceof BackfillError && !cp) throw e; // refused before anything ran: a usage problem
    return await fail(e);
  } finally {
    result.elapsedMs = performance.now() - t0;
    await c.end().catch(ignoreCleanupError('closing the backfill connection; its last batch is committed or rolled back'));
  }
}

/** Rows matching `where` now (one COUNT(*)), or undefined when it takes longer than `timeout`. */
async function countRemaining(c: pg.Client, def: BackfillDefinition, timeout: string): Promise<number | undefined> {
  try {
    await c.query('BEGIN');
    await c.query(`SET LOCAL statement_timeout = '${timeout.replace(/'/g, "''")}'`);
    const { rows } = await c.query<{ n: string }>(`SELECT count(*) AS n FROM ${quoteIdent(def.table)} WHERE (${def.where})`);
    await c.query('COMMIT');
    return Number(rows[0].n);
  } catch (e) {
    await c.query('ROLLBACK').catch(ignoreCleanupError('a failed count rolls back with its connection anyway'));
    if (errText(e).code === '57014') return undefined;
    throw e;
  }
}

/** Take this backfill's advisory lock (session), polling; fail with who holds it after `waitMs`. */
async function lockRun(c: pg.Client, name: string, waitMs: number, emit: (e: BackfillEvent) => void): Promise<void> {
  const t0 = Date.now();
  let told = false;
  for (;;) {
    const { rows } = await c.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, hashtext($2)) AS ok', [BACKFILL_LOCK_CLASS, name]);
    if (rows[0].ok) return;
    const { rows: h } = await c.query<{ pid: number; app: string | null }>(
      `SELECT a.pid, a.application_name AS app FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
        WHERE l.locktype = 'advisory' AND l.granted AND l.classid = $1::oid AND l.objid = hashtext($2)::oid AND l.objsubid = 2
          AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
      [BACKFILL_LOCK_CLASS, name],
    );
    const holder = h[0] ? `'${h[0].app ?? '?'}' (server pid ${h[0].pid})` : 'another session';
    if (Date.now() - t0 >= waitMs)
      throw new BackfillError(`backfill ${name} is already running: ${holder} holds its lock; wait for it, or end that session`);
    if (!told) emit({ type: 'backfill.lock-waiting', name, holder });
    told = true;
    await sleep(200);
  }
}
