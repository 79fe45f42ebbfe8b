/**
 * What a migration run tells as it goes, typed: the runner's events (MigrateEvent), a backfill's (BackfillEvent),
 * and what the `migrate` command adds around them (CommandEvent: its plan, lint verdicts, warnings and result).
 * `cockpit migrate upgrade|downgrade|backfill --json` writes each as one JSON line (MigrateLine); the migration
 * screen and the `migrate` step kind read those lines (parseMigrateLine), never the printed text, and
 * describe.ts words each for a person, the same words everywhere.
 */
import type { Finding } from './lint.js';
import type { Direction } from './plan.js';
import { escapeC1 } from '../sanitize.js';

export interface Failure {
  id: string;
  name: string;
  file: string;
  direction: Direction;
  /** 1-based index of the failing statement in its section (0: the history bookkeeping itself failed). */
  statement: number;
  of: number;
  /** Line of the failing statement in the file (0 when unknown). */
  line: number;
  /** The failing statement's text (or the failing m.query's), when a statement failed. */
  sql?: string;
  /**
   * True for a module migration that built its SQL from the database as it ran: `of` counts the statements built
   * up to the failure (more may have followed), and `statement` 0 with no `sql` means its own code threw.
   */
  dynamic?: boolean;
  error: string;
  /** SQLSTATE, when the server gave one. */
  code?: string;
  /** True for a no-transaction migration: a 'failed' row now records it. False: it was rolled back, nothing recorded. */
  recorded: boolean;
  /** A recorded failure: `cockpit migrate status` as the operator runs it here (it says how to resolve it). */
  status?: string;
}

export type MigrateEvent =
  | { type: 'lock.waiting'; holder: string }
  | { type: 'lock.acquired'; waitedMs: number }
  | { type: 'lock.skipped' }
  | { type: 'checksum.accepted'; id: string; from: string; to: string }
  | { type: 'migration.started'; id: string; name: string; direction: Direction; noTransaction: boolean; revert: boolean }
  | { type: 'migration.finished'; id: string; name: string; direction: Direction; durationMs: number; revert: boolean }
  | ({ type: 'migration.failed'; revert: boolean } & Failure)
  | { type: 'index.invalid-dropped'; id: string; index: string }
  | { type: 'migration.lock-retry'; id: string; name: string; attempt: number; waitMs: number; error: string }
  | { type: 'migration.resolved'; id: string; how: 'applied' | 'rolled-back' };

export interface Done {
  id: string;
  name: string;
  durationMs: number;
}

export type BackfillEvent =
  | { type: 'backfill.lock-waiting'; name: string; holder: string }
  | {
      type: 'backfill.started';
      name: string;
      table: string;
      /** Rows matching `where` at start: one COUNT(*), an estimate (rows change meanwhile); undefined if the count timed out. */
      estimatedRemaining?: number;
      batchSize: number;
      pauseMs: number;
      /** True when a finished backfill runs again because rows match `where` again. */
      rerun: boolean;
    }
  | {
      type: 'backfill.resumed';
      name: string;
      table: string;
      lastKey: string | null;
      rowsDone: number;
      /** State the checkpoint was left in: 'running' (the run was killed), 'stopped' (interrupted), 'failed'. */
      previousState: string;
      estimatedRemaining?: number;
      batchSize: number;
      pauseMs: number;
    }
  | {
      type: 'backfill.progress';
      name: string;
      /** Rows done in total, earlier runs included (the checkpoint's rows_done). */
      rowsDone: number;
      /** Rows of this batch. */
      batchRows: number;
      /** Batches of this run. */
      batches: number;
      /** Estimated total: rows done before this run + the COUNT at start. An estimate; may be exceeded. */
      total?: number;
      ratePerSec: number;
      etaSec?: number;
      batchMs: number;
      lastKey: string;
    }
  | { type: 'backfill.pass'; name: string; pass: number; remaining: number }
  | { type: 'backfill.retry'; name: string; attempt: number; error: string }
  | {
      type: 'backfill.finished';
      name: string;
      rowsDone: number;
      rowsThisRun: number;
      batches: number;
      elapsedMs: number;
      alreadyFinished: boolean;
    }
  | { type: 'backfill.stopped'; name: string; rowsDone: number; rowsThisRun: number; lastKey: string | null }
  | { type: 'backfill.failed'; name: string; rowsDone: number; lastKey: string | null; error: string; code?: string };

export interface BackfillResult {
  name: string;
  state: 'finished' | 'stopped' | 'failed';
  /** Nothing needed doing: the checkpoint said finished and no row matches `where`. */
  alreadyFinished: boolean;
  /** Rows done in total (checkpoint). */
  rowsDone: number;
  rowsThisRun: number;
  batches: number;
  lastKey: string | null;
  elapsedMs: number;
  /** Longest batch transaction (ms): the longest any row lock was held. */
  maxBatchMs: number;
  error?: string;
  code?: string;
}

/**
 * What `migrate check` can find wrong with a migration file: not in the commit checked out (untracked, only staged,
 * changed since), not loadable, no upgrade, no downgrade (or an empty one), not made by `cockpit migrate create`
 * (no header, or a header whose slug is not the file's name); `no-repository` when git cannot answer at all.
 */
export type CheckRule =
  | 'untracked'
  | 'staged-only'
  | 'modified'
  | 'no-repository'
  | 'unreadable'
  | 'no-upgrade'
  | 'no-downgrade'
  | 'empty-downgrade'
  | 'no-header'
  | 'header-mismatch';

export interface CheckFinding {
  rule: CheckRule;
  /** The file, relative to the repository's top. */
  file: string;
  message: string;
  fix: string;
}

/** A migration as the command's plan names it. */
export interface PlannedMigration {
  id: string;
  name: string;
  noTransaction: boolean;
}

/** What the `migrate` command itself tells, around the runner's and the backfill's events. */
export type CommandEvent =
  /** What an upgrade or downgrade is about to run, in order (before the lock is taken; it may still refuse). */
  | {
      type: 'migrate.plan';
      direction: Direction;
      migrations: PlannedMigration[];
      /** The environment named (--env) and its database as `host:port/name` (no credentials): said before the run. */
      environment?: string;
      database?: string;
    }
  /** One migration's lint findings (only migrations with findings are told). */
  | { type: 'lint.findings'; id: string; name: string; file: string; findings: Finding[] }
  /** Lint errors in what would run, and no override: nothing was run. */
  | { type: 'lint.refused'; errors: number }
  /** Lint errors overridden (`--allow-unsafe`), by whom and why. */
  | { type: 'lint.overridden'; by: string; reason: string }
  | { type: 'warning'; message: string }
  /** What `migrate lint` checked: migrations linted, files that did not load, and the counts (none checked: nothing to check). */
  | {
      type: 'lint.result';
      dir: string;
      checked: number;
      unloaded: number;
      errors: number;
      warnings: number;
      /** The PostgreSQL major version linted for, and whether it was assumed (no database.postgresVersion). */
      postgres?: { major: number; assumed: boolean };
    }
  /**
   * What `migrate verify` proved: migrations checked (none: nothing to verify), held, failed, not verified (an earlier
   * one left the scratch database unknown). Its progress is in words on stderr; this is its one event.
   */
  | { type: 'verify.result'; dir: string; checked: number; held: number; failed: number; unchecked: number }
  /** One thing `migrate check` found wrong with one migration file. */
  | ({ type: 'check.finding' } & CheckFinding)
  /**
   * What `migrate check` looked at: every migration file in `dir` (none: nothing to check), how many had a finding,
   * and the findings' count (exit 1 when any).
   */
  | {
      type: 'check.result';
      dir: string;
      checked: number;
      failed: number;
      findings: number;
      /** Of those checked, how many predate database.legacyBefore: checked for git only. */
      legacy?: number;
    }
  /** How an upgrade or downgrade ended (the exit code follows from it: 0 when ok, 1 otherwise). */
  | {
      type: 'migrate.result';
      direction: Direction;
      ok: boolean;
      applied: Done[];
      reverted: Done[];
      revertFailed: Failure | null;
      /** Set when nothing could be checked: no migration files and no database configured (why, in words). */
      nothingToCheck?: string;
    }
  /** How a backfill ended (exit 0 finished, 3 stopped, 1 failed). */
  | ({ type: 'backfill.result' } & BackfillResult);

/** One line of `cockpit migrate … --json`. */
export type MigrateLine = MigrateEvent | BackfillEvent | CommandEvent;
export type MigrateLineType = MigrateLine['type'];

const TYPES: Record<MigrateLineType, true> = {
  'lock.waiting': true,
  'lock.acquired': true,
  'lock.skipped': true,
  'checksum.accepted': true,
  'migration.started': true,
  'migration.finished': true,
  'migration.failed': true,
  'index.invalid-dropped': true,
  'migration.lock-retry': true,
  'migration.resolved': true,
  'backfill.lock-waiting': true,
  'backfill.started': true,
  'backfill.resumed': true,
  'backfill.progress': true,
  'backfill.pass': true,
  'backfill.retry': true,
  'backfill.finished': true,
  'backfill.stopped': true,
  'backfill.failed': true,
  'migrate.plan': true,
  'lint.findings': true,
  'lint.refused': true,
  'lint.overridden': true,
  warning: true,
  'lint.result': true,
  'verify.result': true,
  'check.finding': true,
  'check.result': true,
  'migrate.result': true,
  'backfill.result': true,
};

/** A MigrateLine as one line of JSON. C1 control characters are escaped too (JSON leaves them raw), so a terminal shows the line as text. */
export function migrateLineJson(e: MigrateLine): string {
  return `${escapeC1(JSON.stringify(e))}\n`;
}

/**
 * One line of `cockpit migrate … --json` read back: the event, or null for a line that is not one (blank, not JSON,
 * or of a type this cockpit does not know: a newer child's event is skipped, not misread).
 */
export function parseMigrateLine(line: string): MigrateLine | null {
  const t = line.trim();
  if (!t.startsWith('{')) return null;
  try {
    const v: unknown = JSON.parse(t);
    if (typeof v !== 'object' || v === null || !('type' in v) || typeof v.type !== 'string') return null;
    return Object.hasOwn(TYPES, v.type) ? (v as MigrateLine) : null;
  } catch {
    return null;
  }
}
