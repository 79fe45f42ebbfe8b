/**
 * A migration event in words, for a person: what `cockpit migrate` prints without `--json`, what the migration
 * screen shows of a running command, and what the `migrate` step kind keeps as its output. One wording for all three,
 * so a message reworded here is reworded everywhere and nothing parses it.
 */
import { formatDuration } from '../duration.js';
import { exhaustive } from '../exhaustive.js';
import type { BackfillEvent, Failure, MigrateLine } from './events.js';
import type { Finding } from './lint.js';

export interface Said {
  stream: 'stdout' | 'stderr';
  text: string;
}

const baseName = (file: string): string => file.slice(Math.max(file.lastIndexOf('/'), file.lastIndexOf('\\')) + 1);
const count = (x: number): string => Math.round(x).toLocaleString('en-US');
const eta = (s: number | undefined): string => (s === undefined ? '?' : formatDuration(s * 1000));
const out = (text: string): Said[] => [{ stream: 'stdout', text }];
const err = (text: string): Said[] => [{ stream: 'stderr', text }];

/** One lint finding, with its safer way, as `migrate lint` and `upgrade` print it (two lines). */
export function findingText(file: string, f: Finding): string {
  const where = f.line > 0 ? `${baseName(file)}:${f.line}` : baseName(file);
  return `  ${f.severity === 'error' ? '✖ error' : '▲ warning'} ${f.rule} (${where}): ${f.message}\n      safer: ${f.fix}\n`;
}

/** A migration's findings under its id and name. */
export function findingsText(m: { id: string; name: string; file: string }, findings: Finding[]): string {
  return findings.length ? `${m.id} ${m.name}\n${findings.map((f) => findingText(m.file, f)).join('')}` : '';
}

/** A failed migration in one line: which statement, where, the error, and whether anything of it stayed. */
export function failureText(f: Failure): string {
  const where = f.line ? `${baseName(f.file)}:${f.line}` : baseName(f.file);
  // A module that builds its SQL as it runs: the statement's number counts those built so far, and its text is
  // shown, as it is in no file.
  const what = f.dynamic
    ? f.statement
      ? `statement ${f.statement}`
      : f.sql
        ? 'a read'
        : 'its code'
    : `statement ${f.statement} of ${f.of}`;
  const text =
    f.dynamic && f.sql
      ? `; ${f.statement ? 'the statement' : 'the read'}, built as it ran: ${f.sql.length > 500 ? `${f.sql.slice(0, 500)}…` : f.sql}`
      : '';
  return `${f.id} ${f.name}: ${what} (${where}) failed: ${f.error}${f.code ? ` [${f.code}]` : ''}${text}${f.recorded ? ` — recorded as failed; see ${f.status ?? 'cockpit migrate status'}, then resolve` : ' — rolled back, nothing of it applied'}`;
}

/** A backfill's progress as one line (for a log; a terminal redraws its own bar). */
export function backfillProgressText(e: Extract<BackfillEvent, { type: 'backfill.progress' }>): string {
  const pct = e.total ? Math.min(100, (e.rowsDone / e.total) * 100) : undefined;
  return (
    `batch ${e.batches}: ${e.batchRows} row(s) in ${Math.round(e.batchMs)} ms, ${count(e.rowsDone)}${e.total !== undefined ? ` / ~${count(e.total)} (${Math.floor(pct ?? 0)}%)` : ''} done, ` +
    `${count(e.ratePerSec)} rows/s, ETA ${eta(e.etaSec)}, last key ${e.lastKey}\n`
  );
}

/** What a person is told of `e`, and on which stream; nothing for events that only machines need. */
export function describeMigrateLine(e: MigrateLine): Said[] {
  switch (e.type) {
    case 'lock.waiting':
      return out(`waiting for the migration lock, held by ${e.holder}…\n`);
    case 'migration.started':
      return out(
        `${e.revert ? 'reverting' : e.direction === 'up' ? 'applying' : 'reverting'} ${e.id} ${e.name}${e.noTransaction ? ' (no transaction)' : ''}…\n`,
      );
    case 'migration.finished':
      return out(`  ✔ ${e.id} ${e.direction === 'up' ? 'applied' : 'reverted'} in ${formatDuration(e.durationMs)}\n`);
    case 'migration.failed':
      return err(`  ✖ ${failureText(e)}\n`);
    case 'index.invalid-dropped':
      return out(`  an INVALID index ${e.index} (left by an earlier failed CREATE INDEX CONCURRENTLY) was dropped, to be built again\n`);
    case 'migration.lock-retry':
      return out(
        `  ${e.id}: no lock within lock_timeout (${e.error}); rolled back, trying again in ${formatDuration(e.waitMs)} (attempt ${e.attempt + 1})\n`,
      );
    case 'checksum.accepted':
      return out(`  accepted the edited file of ${e.id} (checksum ${e.from.slice(0, 12)} → ${e.to.slice(0, 12)})\n`);
    case 'lock.acquired':
    case 'lock.skipped':
    case 'migration.resolved':
      return [];
    case 'migrate.plan':
      // Said only when an environment was named: which of its databases this run changes.
      return e.environment
        ? out(
            `${e.direction === 'up' ? 'upgrading' : 'downgrading'} the ${e.environment} database${e.database ? ` ${e.database}` : ''}: ${e.migrations.length} migration(s)\n`,
          )
        : [];
    case 'lint.findings':
      return err(findingsText(e, e.findings));
    case 'lint.refused':
      return err(
        `${e.errors} lint error(s) in the pending migrations: nothing was run. Make them safe, or override with --allow-unsafe "why"\n`,
      );
    case 'lint.overridden':
      return err(`lint errors overridden by ${e.by}: ${e.reason}\n`);
    case 'warning':
      return err(`warning: ${e.message}\n`);
    case 'lint.result':
      if (!e.checked && !e.unloaded) return out(`no migrations in ${e.dir}: nothing to check\n`);
      return out(
        `${e.checked} migration(s) checked${e.unloaded ? `, ${e.unloaded} file(s) not loaded` : ''}: ${e.errors} error(s), ${e.warnings} warning(s)${forPostgres(e.postgres)}\n`,
      );
    case 'verify.result':
      if (!e.checked) return out(`no migrations in ${e.dir}: nothing to verify\n`);
      return out(
        `${e.held} of ${e.checked} migration(s) verified: rollback restores the schema and re-applying gives the same schema` +
          `${e.failed ? `; ${e.failed} failed` : ''}${e.unchecked ? `; ${e.unchecked} not verified` : ''}\n`,
      );
    case 'check.finding':
      return out(`  ✖ ${e.rule} (${e.file}): ${e.message}\n      fix: ${e.fix}\n`);
    case 'check.result':
      if (!e.checked) return out(`no migrations in ${e.dir}: nothing to check\n`);
      return out(
        `${e.checked - e.failed} of ${e.checked} migration file(s) committed, with an upgrade and a downgrade, made by cockpit migrate create` +
          `${e.legacy ? ` (${e.legacy} older than database.legacyBefore: committed only)` : ''}` +
          `${e.failed ? `; ${e.failed} not (${e.findings} finding(s) above)` : ''}\n`,
      );
    case 'migrate.result': {
      const verb = e.direction === 'up' ? 'applied' : 'reverted';
      if (e.nothingToCheck) return out(`${e.nothingToCheck}: nothing to do\n`);
      if (e.ok) return out(e.applied.length ? `${e.applied.length} migration(s) ${verb}\n` : `nothing to do: the database is up to date\n`);
      return [
        ...(e.reverted.length
          ? out(`this run's migrations were reverted (newest first): ${e.reverted.map((d) => d.id).join(', ')}\n`)
          : []),
        ...(e.revertFailed ? err(`reverting stopped: ${failureText(e.revertFailed)}\n`) : []),
      ];
    }
    case 'backfill.lock-waiting':
      return out(`waiting: backfill ${e.name} is being run by ${e.holder}…\n`);
    case 'backfill.started':
      return out(
        `${e.rerun ? 'backfill ' + e.name + ' finished earlier, but rows match again: a new pass' : 'backfill ' + e.name} on ${e.table}: ` +
          `${e.estimatedRemaining === undefined ? 'row count unknown (the COUNT timed out)' : `~${count(e.estimatedRemaining)} row(s) need it (estimate)`}, batches of ${e.batchSize}${e.pauseMs ? `, ${e.pauseMs} ms pause` : ''}\n`,
      );
    case 'backfill.resumed':
      return out(
        `resuming backfill ${e.name} on ${e.table} after key ${e.lastKey ?? '(start)'}: ${count(e.rowsDone)} row(s) done by earlier runs (last run ${e.previousState === 'running' ? 'ended without finishing (killed?)' : e.previousState}); ` +
          `${e.estimatedRemaining === undefined ? 'rows left unknown' : `~${count(e.estimatedRemaining)} left (estimate)`}, batches of ${e.batchSize}\n`,
      );
    case 'backfill.progress':
      return out(backfillProgressText(e));
    case 'backfill.pass':
      return out(
        `pass ${e.pass}: ${count(e.remaining)} row(s) still match (inserted behind the cursor, or held by other transactions): going over the table again\n`,
      );
    case 'backfill.retry':
      return err(`  batch failed (${e.error}); retrying (${e.attempt}/2)\n`);
    case 'backfill.finished':
    case 'backfill.stopped':
    case 'backfill.failed':
      return []; // backfill.result says how it ended
    case 'backfill.result':
      return backfillResultText(e);
    default:
      exhaustive(e);
      return [];
  }
}

function backfillResultText(r: Extract<MigrateLine, { type: 'backfill.result' }>): Said[] {
  const secs = r.elapsedMs / 1000;
  if (r.state === 'finished' && r.alreadyFinished)
    return out(`backfill ${r.name} already finished: 0 rows need it (${count(r.rowsDone)} row(s) done in total); nothing to do\n`);
  if (r.state === 'finished')
    return out(
      `✔ backfill ${r.name} finished: ${count(r.rowsThisRun)} row(s) in ${r.batches} batch(es), ${formatDuration(r.elapsedMs)} (${count(secs > 0 ? r.rowsThisRun / secs : 0)} rows/s); ` +
        `longest batch ${Math.round(r.maxBatchMs)} ms; ${count(r.rowsDone)} row(s) in total\n`,
    );
  const at = `checkpoint: ${count(r.rowsDone)} row(s) done${r.lastKey !== null ? `, after key ${r.lastKey}` : ''}`;
  if (r.state === 'stopped')
    return out(`backfill ${r.name} stopped: ${count(r.rowsThisRun)} row(s) this run; ${at}. Resume with the same command\n`);
  return err(
    `✖ backfill ${r.name} failed: ${r.error}${r.code ? ` [${r.code}]` : ''}\n  ${at} (batches before the failure are committed). Resume with the same command\n`,
  );
}

/** The exit code a run's last event implies: 0 done, 1 failed, 3 stopped (a backfill resumes with the same command). */
export function exitCodeOfResult(e: Extract<MigrateLine, { type: 'migrate.result' | 'backfill.result' }>): number {
  if (e.type === 'migrate.result') return e.ok ? 0 : 1;
  return e.state === 'finished' ? 0 : e.state === 'stopped' ? 3 : 1;
}

/** " (for PostgreSQL 11)", or " (for PostgreSQL 12+, assumed: …)" when no version was configured. */
function forPostgres(p: { major: number; assumed: boolean } | undefined): string {
  if (!p) return '';
  return p.assumed
    ? ` (for PostgreSQL ${p.major}+, assumed: set database.postgresVersion for an older server)`
    : ` (for PostgreSQL ${p.major})`;
}
