/**
 * Migration planning, pure: from the files (MigrationDef) and the database's history rows, what is applied, pending
 * and wrong (computeStatus), what an upgrade applies (computePlan) and what a downgrade reverts (computeDowngrade),
 * or a MigrateError saying why it refuses. The runner (adapters/migrate/runner.ts) reads the history and sends the SQL.
 */
import { cockpitCommand, type CommandLine } from '../command-line.js';
import { FailedError } from '../errors.js';
import type { SqlStatement } from './sql.js';

export class MigrateError extends FailedError {
  constructor(message: string) {
    super(message);
    this.name = 'MigrateError';
  }
}

export type Direction = 'up' | 'down';

/** A migration as read from its file: what planning, SQL rendering and lint need (adapters/migrate/files.ts reads it). */
export interface MigrationDef {
  /** `YYYYMMDDHHMMSS`, the file name's prefix; orders migrations. */
  id: string;
  /** The slug after the id (`add_users_email`). */
  name: string;
  /** Path of the file, as found (dir joined with the file name). */
  file: string;
  /** 'sql': a .sql file with sections; 'module': a TypeScript/JavaScript module with upgrade(m)/downgrade(m). */
  kind: 'sql' | 'module';
  /** sha256 (hex) of the file's bytes. */
  checksum: string;
  /**
   * First line `-- migrate:no-transaction` (or a module's `export const noTransaction = true`): each statement
   * runs on its own, without BEGIN/COMMIT.
   */
  noTransaction: boolean;
  /** Statements of the up section (a module: what upgrade() recorded); `line` is the line in the file (1-based, 0 unknown). */
  up: SqlStatement[];
  /** Statements of the down section (empty when the section is empty or missing). */
  down: SqlStatement[];
  /** False when the file has no `-- migrate:down` section (a module: no downgrade export): it cannot be downgraded. */
  hasDown: boolean;
  /**
   * Set for a direction whose module function reads the database (`m.query`) to build its SQL: its statements are
   * only known when it runs, so that direction's `up`/`down` is empty. `line`: where it first calls m.query (0 unknown).
   */
  dynamic: { up?: { line: number }; down?: { line: number } };
}

/** Why `m` cannot be downgraded, when it cannot. */
export function noDownReason(m: Pick<MigrationDef, 'kind'>): string {
  return m.kind === 'module' ? 'the module exports no downgrade()' : "the file has no '-- migrate:down' section";
}

export interface HistoryRow {
  id: string;
  name: string;
  checksum: string;
  appliedAt: Date;
  appliedBy: string;
  durationMs: number;
  state: 'applied' | 'failed';
  /** 1-based index of the statement that failed (statements before it completed), when state is 'failed'. */
  failedStatement: number | null;
  error: string | null;
}

export type ProblemKind = 'checksum-changed' | 'missing-file' | 'failed' | 'out-of-order';
export interface Problem {
  id: string;
  kind: ProblemKind;
  message: string;
}

export interface Status<M extends MigrationDef = MigrationDef> {
  /** Every history row with state 'applied', by id. */
  applied: HistoryRow[];
  /** Every history row (applied and failed), by id. */
  history: HistoryRow[];
  /** Migration files without a history row, by id. */
  pending: M[];
  problems: Problem[];
}

export interface PlanOptions {
  /** Stop at this migration id (inclusive). */
  to?: string;
  /** Migration ids whose edited files are accepted: the recorded checksum is replaced by the file's. */
  acceptChecksum?: string[];
  /** Allow pending migrations older than the newest applied one. */
  allowOutOfOrder?: boolean;
}

export interface ChecksumUpdate {
  id: string;
  from: string;
  to: string;
}

export interface Plan<M extends MigrationDef = MigrationDef> {
  pending: M[];
  /** Recorded checksums that `upgrade` will replace (acceptChecksum); `plan()` itself writes nothing. */
  checksumUpdates: ChecksumUpdate[];
}

/** Which applied migrations a downgrade reverts. */
export interface DowngradeSelection {
  /** How many of the newest applied migrations to revert (default 1 when `to` is not given). */
  steps?: number;
  /** Revert every applied migration newer than this id (it stays applied). */
  to?: string;
  acceptChecksum?: string[];
}

const byId = <T extends { id: string }>(a: T, b: T) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
const short = (sha: string) => sha.slice(0, 12);

function failedAdvice(row: HistoryRow, m: MigrationDef | undefined, command: CommandLine): string {
  const where = m ? m.file : 'its file is missing';
  const down = row.error?.startsWith('downgrade: ') ?? false;
  const error = down ? row.error!.slice('downgrade: '.length) : (row.error ?? 'unknown error');
  const total = m && !m.dynamic[down ? 'down' : 'up'] ? ` of ${(down ? m.down : m.up).length}` : '';
  const at = row.failedStatement ? `statement ${row.failedStatement}${total}` : 'a statement';
  const done =
    row.failedStatement && row.failedStatement > 1
      ? `statement(s) 1–${row.failedStatement - 1} before it completed and stay in effect`
      : 'no statement before it had run';
  return (
    `migration ${row.id}_${row.name} (${where}) failed during ${down ? 'downgrade' : 'upgrade'} at ${at}: ${error}; ${done}. ` +
    `It ran without a transaction, so the database may be half-changed: finish or undo it by hand, then run ` +
    `\`${command(['migrate', 'resolve', row.id, '--applied'])}\` (the change is complete) or ` +
    `\`${command(['migrate', 'resolve', row.id, '--rolled-back'])}\` (the change is undone; it will run again).`
  );
}

/**
 * What is applied, pending and wrong. `command` builds the `cockpit migrate …` commands the advice names, as the
 * operator runs them (the caller's folder, database and `--repo`; see core/command-line.ts).
 */
export function computeStatus<M extends MigrationDef>(
  migrations: M[],
  history: HistoryRow[],
  command: CommandLine = cockpitCommand,
): Status<M> {
  const files = new Map(migrations.map((m) => [m.id, m]));
  const rows = new Map(history.map((r) => [r.id, r]));
  const problems: Problem[] = [];
  const applied = history.filter((r) => r.state === 'applied').sort(byId);
  for (const r of [...history].sort(byId)) {
    const m = files.get(r.id);
    if (r.state === 'failed') problems.push({ id: r.id, kind: 'failed', message: failedAdvice(r, m, command) });
    if (!m) {
      problems.push({
        id: r.id,
        kind: 'missing-file',
        message: `migration ${r.id}_${r.name} is recorded as ${r.state} but no file ${r.id}_* is in the migrations folder`,
      });
    } else if (m.checksum !== r.checksum) {
      problems.push({
        id: r.id,
        kind: 'checksum-changed',
        message:
          `migration ${m.id}_${m.name} (${m.file}) was edited after it was applied (recorded checksum ${short(r.checksum)}…, file now ${short(m.checksum)}…): ` +
          `revert the edit and put the change in a new migration, or, if the edit changes nothing in the database (a comment, formatting), accept it with --accept-checksum ${m.id}`,
      });
    }
  }
  const pending = migrations.filter((m) => !rows.has(m.id));
  const newest = applied.at(-1);
  if (newest) {
    for (const m of pending) {
      if (m.id < newest.id) {
        problems.push({
          id: m.id,
          kind: 'out-of-order',
          message: `migration ${m.id}_${m.name} (${m.file}) is pending but older than ${newest.id}_${newest.name}, which is already applied (a merged branch?): renumber it to a new id, or run it anyway with --allow-out-of-order`,
        });
      }
    }
  }
  return { applied, history: [...history].sort(byId), pending, problems };
}

export function computePlan<M extends MigrationDef>(
  migrations: M[],
  history: HistoryRow[],
  opts: PlanOptions = {},
  command: CommandLine = cockpitCommand,
): Plan<M> {
  const st = computeStatus(migrations, history, command);
  const accept = new Set(opts.acceptChecksum ?? []);
  const failed = st.problems.find((p) => p.kind === 'failed');
  if (failed) throw new MigrateError(`cannot upgrade: ${failed.message}`);
  const checksumUpdates: ChecksumUpdate[] = [];
  for (const p of st.problems.filter((x) => x.kind === 'checksum-changed')) {
    if (!accept.has(p.id)) throw new MigrateError(`cannot upgrade: ${p.message}`);
    const row = history.find((r) => r.id === p.id)!;
    checksumUpdates.push({ id: p.id, from: row.checksum, to: migrations.find((m) => m.id === p.id)!.checksum });
  }
  let pending = st.pending;
  if (opts.to !== undefined) {
    if (!migrations.some((m) => m.id === opts.to) && !history.some((r) => r.id === opts.to)) {
      throw new MigrateError(
        `no migration ${opts.to} in ${migrations[0] ? migrations[0].file.replace(/[^/\\]+$/, '') : 'the migrations folder'}`,
      );
    }
    pending = pending.filter((m) => m.id <= opts.to!);
  }
  if (!opts.allowOutOfOrder) {
    const ooo = st.problems.find((p) => p.kind === 'out-of-order' && pending.some((m) => m.id === p.id));
    if (ooo) throw new MigrateError(`cannot upgrade: ${ooo.message}`);
  }
  return { pending, checksumUpdates };
}

/** The applied migrations a downgrade reverts, newest id first. */
export function computeDowngrade<M extends MigrationDef>(
  migrations: M[],
  history: HistoryRow[],
  opts: DowngradeSelection,
  command: CommandLine = cockpitCommand,
): { migrations: M[]; checksumUpdates: ChecksumUpdate[] } {
  const st = computeStatus(migrations, history, command);
  const failed = st.problems.find((p) => p.kind === 'failed');
  if (failed) throw new MigrateError(`cannot downgrade: ${failed.message}`);
  const applied = [...st.applied].reverse();
  let rows: HistoryRow[];
  if (opts.to !== undefined) {
    if (!history.some((r) => r.id === opts.to)) throw new MigrateError(`cannot downgrade to ${opts.to}: it is not applied`);
    rows = applied.filter((r) => r.id > opts.to!);
  } else {
    const steps = opts.steps ?? 1;
    if (!Number.isInteger(steps) || steps < 1) throw new MigrateError(`downgrade steps must be a positive whole number, not ${steps}`);
    if (steps > applied.length) throw new MigrateError(`cannot downgrade ${steps} migration(s): only ${applied.length} applied`);
    rows = applied.slice(0, steps);
  }
  const files = new Map(migrations.map((m) => [m.id, m]));
  const accept = new Set(opts.acceptChecksum ?? []);
  const checksumUpdates: ChecksumUpdate[] = [];
  const out: M[] = [];
  for (const r of rows) {
    const m = files.get(r.id);
    if (!m) throw new MigrateError(`cannot downgrade ${r.id}_${r.name}: its file is missing, so its down section is unknown`);
    if (!m.hasDown) throw new MigrateError(`cannot downgrade ${m.id}_${m.name} (${m.file}): ${noDownReason(m)}`);
    if (m.checksum !== r.checksum) {
      if (!accept.has(m.id))
        throw new MigrateError(`cannot downgrade: ${st.problems.find((p) => p.id === m.id && p.kind === 'checksum-changed')!.message}`);
      checksumUpdates.push({ id: m.id, from: r.checksum, to: m.checksum });
    }
    out.push(m);
  }
  return { migrations: out, checksumUpdates };
}
