import path from 'node:path';
import { currentIdentity } from '../adapters/identity.js';
import { createMigration, loadMigrations, type Migration, type MigrationFormat } from '../adapters/migrate/files.js';
import { MigrationRunner, type Failure, type MigrateEvent, type RunResult } from '../adapters/migrate/runner.js';
import { formatDuration } from '../core/duration.js';
import { lintMigration, type Finding } from '../core/migrate/lint.js';
import { neutralize } from '../core/sanitize.js';
import { UsageError, Workspace, type GlobalOptions } from './setup.js';

export interface MigrateFlags {
  databaseUrl?: string;
  dir?: string;
  sql?: boolean;
  to?: string;
  steps?: string;
  onFailure?: 'stop' | 'revert-run';
  lock?: boolean;
  acceptChecksum?: string[];
  allowOutOfOrder?: boolean;
  allowUnsafe?: string;
  noTransaction?: boolean;
  /** create: a TypeScript (`ts`) or JavaScript (`js`) module instead of a .sql file. */
  ts?: boolean;
  js?: boolean;
  json?: boolean;
  applied?: boolean;
  rolledBack?: boolean;
}

// What is printed comes partly from files and the database (names, errors): neutralised like everything shown.
const out = (s: string): void => void process.stdout.write(neutralize(s));
const err = (s: string): void => void process.stderr.write(neutralize(s));

/** A database URL as it may be shown: the password replaced. */
export function showUrl(url: string): string {
  return url.replace(/^(\w+:\/\/[^:/@]+:)[^@]*@/, '$1***@');
}

function setup(g: GlobalOptions, flags: MigrateFlags) {
  const ws = new Workspace(g);
  const dir = path.resolve(ws.repoDir, flags.dir ?? ws.config.database?.migrations ?? 'migrations');
  const url = flags.databaseUrl ?? ws.config.database?.url ?? process.env.DATABASE_URL;
  return { ws, dir, url };
}

function runner(g: GlobalOptions, flags: MigrateFlags): { runner: MigrationRunner; url: string; dir: string } {
  const { dir, url } = setup(g, flags);
  if (!url)
    throw new UsageError(
      'no database to migrate: pass --database-url postgres://…, set database.url in cockpit.config.yaml, or DATABASE_URL',
    );
  if (!/^postgres(ql)?:\/\//.test(url)) throw new UsageError(`--database-url ${showUrl(url)}: expected postgres://…`);
  if (flags.lock === false)
    err(
      'warning: --no-lock: nothing stops a second cockpit migrating this database at the same time (use it only behind a transaction-mode PgBouncer)\n',
    );
  return { runner: new MigrationRunner({ connection: url, dir, noLock: flags.lock === false }), url, dir };
}

function showFinding(m: Migration, f: Finding): string {
  const where = f.line > 0 ? `${path.basename(m.file)}:${f.line}` : path.basename(m.file);
  return `  ${f.severity === 'error' ? '✖ error' : '▲ warning'} ${f.rule} (${where}): ${f.message}\n      safer: ${f.fix}\n`;
}

function lintAll(migrations: Migration[]): { errors: number; warnings: number; text: string } {
  let errors = 0;
  let warnings = 0;
  let text = '';
  for (const m of migrations) {
    const findings = lintMigration({ id: m.id, up: m.up, down: m.down, noTransaction: m.noTransaction, dynamic: m.dynamic });
    if (!findings.length) continue;
    text += `${m.id} ${m.name}\n`;
    for (const f of findings) {
      text += showFinding(m, f);
      if (f.severity === 'error') errors++;
      else warnings++;
    }
  }
  return { errors, warnings, text };
}

function describeFailure(f: Failure): string {
  const where = f.line ? `${path.basename(f.file)}:${f.line}` : path.basename(f.file);
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
  return `${f.id} ${f.name}: ${what} (${where}) failed: ${f.error}${f.code ? ` [${f.code}]` : ''}${text}${f.recorded ? ' — recorded as failed; see cockpit migrate status, then resolve' : ' — rolled back, nothing of it applied'}`;
}

/** A warning for `--sql` when some of `migrations` build their SQL from the database (their SQL is not shown). */
function dynamicWarning(migrations: Migration[], direction: 'up' | 'down'): void {
  const dyn = migrations.filter((m) => m.dynamic[direction]);
  if (!dyn.length) return;
  err(
    `note: ${dyn.map((m) => path.basename(m.file)).join(', ')} ${dyn.length > 1 ? 'read' : 'reads'} the database to build ${dyn.length > 1 ? 'their' : 'its'} SQL (m.query): ` +
      `${dyn.length > 1 ? 'their statements are' : 'its statements are'} only known when it runs, so the SQL above does not show ${dyn.length > 1 ? 'them' : 'it'} (a comment marks where)\n`,
  );
}

function printEvent(e: MigrateEvent): void {
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
      return err(`  ✖ ${describeFailure(e)}\n`);
    case 'index.invalid-dropped':
      return out(`  an INVALID index ${e.index} (left by an earlier failed CREATE INDEX CONCURRENTLY) was dropped, to be built again\n`);
    case 'migration.lock-retry':
      return out(
        `  ${e.id}: no lock within lock_timeout (${e.error}); rolled back, trying again in ${formatDuration(e.waitMs)} (attempt ${e.attempt + 1})\n`,
      );
    case 'checksum.accepted':
      return out(`  accepted the edited file of ${e.id} (checksum ${e.from.slice(0, 12)} → ${e.to.slice(0, 12)})\n`);
    default:
      return;
  }
}

function finish(r: RunResult, verb: string): number {
  if (r.ok) {
    out(r.applied.length ? `${r.applied.length} migration(s) ${verb}\n` : `nothing to do: the database is up to date\n`);
    return 0;
  }
  if (r.reverted.length) out(`this run's migrations were reverted (newest first): ${r.reverted.map((d) => d.id).join(', ')}\n`);
  if (r.revertFailed) err(`reverting stopped: ${describeFailure(r.revertFailed)}\n`);
  return 1;
}

export async function cmdMigrateCreate(g: GlobalOptions, description: string, flags: MigrateFlags): Promise<number> {
  if (flags.ts && flags.js) throw new UsageError('--ts or --js, not both');
  const { dir } = setup(g, flags);
  const format: MigrationFormat = flags.ts ? 'ts' : flags.js ? 'js' : 'sql';
  // A bad description or folder is a MigrationFileError: bad input, exit 2 (core/errors.ts).
  const file = createMigration(dir, description, new Date(), { noTransaction: !!flags.noTransaction, format });
  const shown = path.relative(process.cwd(), file) || file;
  if (format === 'sql')
    out(`created ${shown}: write its upgrade (-- migrate:up) and its downgrade (-- migrate:down); cockpit migrate lint checks both\n`);
  else
    out(
      `created ${shown}: write its upgrade(m) and its downgrade(m) (m.sql records SQL; m.query reads the database); cockpit migrate lint checks both\n`,
    );
  return 0;
}

async function load(dir: string): Promise<Migration[]> {
  return loadMigrations(dir);
}

export async function cmdMigrateLint(g: GlobalOptions, ids: string[], flags: MigrateFlags): Promise<number> {
  const { dir } = setup(g, flags);
  const all = await load(dir);
  const chosen = ids.length ? all.filter((m) => ids.includes(m.id)) : all;
  const unknown = ids.filter((id) => !all.some((m) => m.id === id));
  if (unknown.length) throw new UsageError(`no migration ${unknown.join(', ')} in ${dir}`);
  const l = lintAll(chosen);
  out(l.text);
  out(`${chosen.length} migration(s) checked: ${l.errors} error(s), ${l.warnings} warning(s)\n`);
  return l.errors ? 1 : 0;
}

export async function cmdMigrateStatus(g: GlobalOptions, flags: MigrateFlags): Promise<number> {
  const { runner: r, url } = runner(g, flags);
  const s = await r.status();
  if (flags.json) {
    out(
      JSON.stringify(
        { applied: s.applied, pending: s.pending.map((m) => ({ id: m.id, name: m.name, file: m.file })), problems: s.problems },
        null,
        2,
      ) + '\n',
    );
    return s.problems.length ? 1 : 0;
  }
  out(`database ${showUrl(url)}\n`);
  for (const a of s.applied)
    out(
      `  ✔ ${a.id} ${a.name}  applied ${new Date(a.appliedAt).toISOString().replace('T', ' ').slice(0, 19)} by ${a.appliedBy} in ${formatDuration(a.durationMs)}\n`,
    );
  for (const p of s.pending) out(`  · ${p.id} ${p.name}  pending${p.noTransaction ? ' (no transaction)' : ''}\n`);
  for (const p of s.problems) err(`  ✖ ${p.id}: ${p.message}\n`);
  out(`${s.applied.length} applied, ${s.pending.length} pending, ${s.problems.length} problem(s)\n`);
  return s.problems.length ? 1 : 0;
}

export async function cmdMigrateUpgrade(g: GlobalOptions, flags: MigrateFlags): Promise<number> {
  const { runner: r } = runner(g, flags);
  const opts = { to: flags.to, acceptChecksum: flags.acceptChecksum, allowOutOfOrder: !!flags.allowOutOfOrder };
  const plan = await r.plan(opts);
  const l = lintAll(plan.pending);
  if (l.errors) {
    err(l.text);
    if (!flags.allowUnsafe?.trim()) {
      err(`${l.errors} lint error(s) in the pending migrations: nothing was run. Make them safe, or override with --allow-unsafe "why"\n`);
      return 1;
    }
    err(`lint errors overridden by ${currentIdentity().operator}: ${flags.allowUnsafe}\n`);
  } else if (l.warnings) err(l.text);
  if (flags.sql) {
    out(r.sqlFor(plan.pending, 'up'));
    dynamicWarning(plan.pending, 'up');
    return 0;
  }
  const res = await r.upgrade({ ...opts, onFailure: flags.onFailure ?? 'stop', operator: currentIdentity().operator, onEvent: printEvent });
  return finish(res, 'applied');
}

export async function cmdMigrateDowngrade(g: GlobalOptions, flags: MigrateFlags): Promise<number> {
  const { runner: r } = runner(g, flags);
  const steps = flags.steps !== undefined ? Number(flags.steps) : undefined;
  if (steps !== undefined && !(Number.isInteger(steps) && steps > 0))
    throw new UsageError(`--steps ${flags.steps}: expected a positive whole number`);
  if (flags.sql) {
    const s = await r.status();
    const newest = [...s.applied].sort((a, b) => (a.id < b.id ? 1 : -1));
    const ids = flags.to ? newest.filter((a) => a.id > flags.to!).map((a) => a.id) : newest.slice(0, steps ?? 1).map((a) => a.id);
    const files = await r.migrations();
    const chosen = ids.map((id) => files.find((m) => m.id === id)).filter((m): m is Migration => !!m);
    out(r.sqlFor(chosen, 'down'));
    dynamicWarning(chosen, 'down');
    return 0;
  }
  const res = await r.downgrade({
    steps: flags.to ? undefined : (steps ?? 1),
    to: flags.to,
    operator: currentIdentity().operator,
    acceptChecksum: flags.acceptChecksum,
    onEvent: printEvent,
  });
  return finish(res, 'reverted');
}

export async function cmdMigrateResolve(g: GlobalOptions, id: string, flags: MigrateFlags): Promise<number> {
  if (!!flags.applied === !!flags.rolledBack)
    throw new UsageError('say how it was settled: --applied (its effect is there) or --rolled-back (it is not)');
  const { runner: r } = runner(g, flags);
  const res = await r.resolve(id, flags.applied ? 'applied' : 'rolled-back', { operator: currentIdentity().operator });
  if (res.ok) out(`${id} settled as ${flags.applied ? 'applied' : 'rolled back'} by ${currentIdentity().operator}\n`);
  return res.ok ? 0 : 1;
}

// ───────────────────────────── verify ─────────────────────────────

/**
 * `cockpit migrate verify`: every migration upgraded, downgraded and upgraded again on a scratch database, its schema
 * compared at each step (adapters/migrate/verify.ts). The application database is never connected to: its URL only
 * names the server on which the scratch database is created (and dropped afterwards).
 */
export async function cmdMigrateVerify(g: GlobalOptions, flags: MigrateFlags & { scratchUrl?: string }): Promise<number> {
  const v = await import('../adapters/migrate/verify.js');
  const { ws, dir, url } = setup(g, flags);
  const scratch = flags.scratchUrl ?? ws.config.database?.scratchUrl;
  if (!url && !scratch) {
    throw new UsageError(
      'no server to verify on: pass --database-url postgres://… (only its server is used; that database is not touched), set database.url in cockpit.config.yaml or DATABASE_URL, or pass --scratch-url (or set database.scratchUrl) of an empty database',
    );
  }
  for (const [flag, u] of [
    ['--database-url', url],
    ['--scratch-url', scratch],
  ] as const) {
    if (!u) continue;
    if (!/^postgres(ql)?:\/\//.test(u)) throw new UsageError(`${flag} ${showUrl(u)}: expected postgres://…`);
    try {
      new URL(u);
    } catch {
      throw new UsageError(`${flag} ${showUrl(u)}: not a valid URL`);
    }
  }
  const migrations = await load(dir);
  const shownDir = path.relative(process.cwd(), dir) || dir;
  if (!migrations.length) {
    out(`no migrations in ${shownDir}: nothing to verify\n`);
    return 0;
  }
  const app = url ? v.databaseOf(url) : '';
  const ms = (n: number | undefined) => (n === undefined ? '–' : formatDuration(n));
  const onEvent = (e: import('../adapters/migrate/verify.js').VerifyEvent): void => {
    switch (e.type) {
      case 'scratch.created':
        return out(
          `verifying ${migrations.length} migration(s) from ${shownDir} on a scratch database ${e.database}, created for this run on ${e.server}` +
            `${app ? ` (the server of ${showUrl(url!)}; the database ${app} itself is not touched)` : ''}\n` +
            `each migration: upgrade, downgrade (the schema must be as before), upgrade again (the schema must be as after the first upgrade)\n`,
        );
      case 'scratch.using':
        return out(
          `verifying ${migrations.length} migration(s) from ${shownDir} on the empty scratch database ${e.database} (${showUrl(scratch!)})` +
            `${app ? `; the application database ${app} is not touched` : ''}\n` +
            `each migration: upgrade, downgrade (the schema must be as before), upgrade again (the schema must be as after the first upgrade)\n`,
        );
      case 'migration.verified': {
        const d = e.verdict;
        if (d.ok)
          return out(
            `  ✔ ${d.id} ${d.name}  (up ${ms(d.durations.upMs)}, down ${ms(d.durations.downMs)}, up again ${ms(d.durations.reUpMs)})\n`,
          );
        out(`  ✖ ${d.id} ${d.name}\n`);
        for (const p of d.problems) out(`      ${p}\n`);
        return;
      }
      case 'scratch.dropped':
        return out(`scratch database ${e.database} dropped\n`);
      case 'scratch.drop-failed':
        return err(`could not drop the scratch database ${e.database}: ${e.error} — drop it by hand\n`);
      case 'scratch.kept':
        return out(`the scratch database ${e.database} now holds every migration verified: empty it before verifying there again\n`);
      default:
        return;
    }
  };
  const res = await v.verifyMigrations({ adminUrl: url, scratchUrl: scratch, dir, operator: currentIdentity().operator, onEvent });
  const held = res.verdicts.filter((d) => d.ok).length;
  const failed = res.verdicts.filter((d) => d.verified && !d.ok).length;
  const unchecked = res.verdicts.filter((d) => !d.verified).length;
  out(
    `${held} of ${res.verdicts.length} migration(s) verified: rollback restores the schema and re-applying gives the same schema` +
      `${failed ? `; ${failed} failed` : ''}${unchecked ? `; ${unchecked} not verified` : ''}\n`,
  );
  return res.ok ? 0 : 1;
}

// ───────────────────────────── backfill ─────────────────────────────

export interface BackfillFlags extends MigrateFlags {
  batchSize?: string;
  pauseMs?: string;
}

/**
 * `cockpit migrate backfill <name>`: runs migrations/backfills/<name>.yaml in keyset batches (see backfill.ts).
 * Not a terminal: one line per batch. A terminal: one updating line (rows, rate, ETA, bar). Exit 0 finished (or
 * already finished), 1 failed (the checkpoint says where: the same command resumes), 3 stopped by Ctrl-C after the
 * batch in progress committed (the same command resumes).
 */
export async function cmdMigrateBackfill(g: GlobalOptions, name: string, flags: BackfillFlags): Promise<number> {
  const bf = await import('../adapters/migrate/backfill.js');
  const { dir, url } = setup(g, flags);
  const num = (v: string | undefined, flag: string, min: number): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new UsageError(`${flag} ${v}: expected a whole number ≥ ${min}`);
    return n;
  };
  const batchSize = num(flags.batchSize, '--batch-size', 1);
  const pauseMs = num(flags.pauseMs, '--pause-ms', 0);
  const def = bf.loadBackfill(path.join(dir, 'backfills'), name);
  if (!url)
    throw new UsageError(
      'no database to backfill: pass --database-url postgres://…, set database.url in cockpit.config.yaml, or DATABASE_URL',
    );
  if (!/^postgres(ql)?:\/\//.test(url)) throw new UsageError(`--database-url ${showUrl(url)}: expected postgres://…`);

  const tty = !!process.stdout.isTTY;
  const abort = new AbortController();
  let interrupts = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    if (++interrupts > 1) process.exit(sig === 'SIGINT' ? 130 : 143); // the open batch transaction rolls back with the connection
    err(`\n${sig}: stopping after the batch in progress commits (again to exit at once)…\n`);
    abort.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let lineOpen = false;
  let lastDraw = 0;
  const endLine = () => {
    if (lineOpen) process.stdout.write('\n');
    lineOpen = false;
  };
  const n = (x: number) => Math.round(x).toLocaleString('en-US');
  const eta = (s: number | undefined) => (s === undefined ? '?' : formatDuration(s * 1000));
  const onEvent = (e: import('../adapters/migrate/backfill.js').BackfillEvent): void => {
    switch (e.type) {
      case 'backfill.lock-waiting':
        return out(`waiting: backfill ${e.name} is being run by ${e.holder}…\n`);
      case 'backfill.started':
        return out(
          `${e.rerun ? 'backfill ' + e.name + ' finished earlier, but rows match again: a new pass' : 'backfill ' + e.name} on ${e.table}: ` +
            `${e.estimatedRemaining === undefined ? 'row count unknown (the COUNT timed out)' : `~${n(e.estimatedRemaining)} row(s) need it (estimate)`}, batches of ${e.batchSize}${e.pauseMs ? `, ${e.pauseMs} ms pause` : ''}\n`,
        );
      case 'backfill.resumed':
        return out(
          `resuming backfill ${e.name} on ${e.table} after key ${e.lastKey ?? '(start)'}: ${n(e.rowsDone)} row(s) done by earlier runs (last run ${e.previousState === 'running' ? 'ended without finishing (killed?)' : e.previousState}); ` +
            `${e.estimatedRemaining === undefined ? 'rows left unknown' : `~${n(e.estimatedRemaining)} left (estimate)`}, batches of ${e.batchSize}\n`,
        );
      case 'backfill.progress': {
        const pct = e.total ? Math.min(100, (e.rowsDone / e.total) * 100) : undefined;
        if (!tty) {
          return out(
            `batch ${e.batches}: ${e.batchRows} row(s) in ${Math.round(e.batchMs)} ms, ${n(e.rowsDone)}${e.total !== undefined ? ` / ~${n(e.total)} (${Math.floor(pct ?? 0)}%)` : ''} done, ` +
              `${n(e.ratePerSec)} rows/s, ETA ${eta(e.etaSec)}, last key ${e.lastKey}\n`,
          );
        }
        const now = Date.now();
        if (now - lastDraw < 100 && e.batchRows > 0) return;
        lastDraw = now;
        const width = 24;
        const filled = pct === undefined ? 0 : Math.round((pct / 100) * width);
        const bar = pct === undefined ? '' : `[${'█'.repeat(filled)}${'░'.repeat(width - filled)}] ${Math.floor(pct)}%  `;
        lineOpen = true;
        // \r and the erase sequence are the cockpit's own; the values are numbers and a key (neutralised).
        process.stdout.write(
          `\r\x1b[K${bar}${n(e.rowsDone)}${e.total !== undefined ? `/~${n(e.total)}` : ''} rows  ${n(e.ratePerSec)} rows/s  ETA ${eta(e.etaSec)}  (key ${neutralize(e.lastKey).slice(0, 40)})`,
        );
        return;
      }
      case 'backfill.pass':
        endLine();
        return out(
          `pass ${e.pass}: ${n(e.remaining)} row(s) still match (inserted behind the cursor, or held by other transactions): going over the table again\n`,
        );
      case 'backfill.retry':
        endLine();
        return err(`  batch failed (${e.error}); retrying (${e.attempt}/2)\n`);
      default:
        return;
    }
  };
  let r;
  try {
    r = await bf.runBackfill(def, {
      connection: url,
      batchSize,
      pauseMs,
      operator: currentIdentity().operator,
      signal: abort.signal,
      onEvent,
    });
  } catch (e) {
    endLine();
    throw e;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  endLine();
  const secs = r.elapsedMs / 1000;
  if (r.state === 'finished' && r.alreadyFinished) {
    out(`backfill ${name} already finished: 0 rows need it (${n(r.rowsDone)} row(s) done in total); nothing to do\n`);
    return 0;
  }
  if (r.state === 'finished') {
    out(
      `✔ backfill ${name} finished: ${n(r.rowsThisRun)} row(s) in ${r.batches} batch(es), ${formatDuration(r.elapsedMs)} (${n(secs > 0 ? r.rowsThisRun / secs : 0)} rows/s); ` +
        `longest batch ${Math.round(r.maxBatchMs)} ms; ${n(r.rowsDone)} row(s) in total\n`,
    );
    return 0;
  }
  const at = `checkpoint: ${n(r.rowsDone)} row(s) done${r.lastKey !== null ? `, after key ${r.lastKey}` : ''}`;
  if (r.state === 'stopped') {
    out(`backfill ${name} stopped: ${n(r.rowsThisRun)} row(s) this run; ${at}. Resume with the same command\n`);
    return 3;
  }
  err(
    `✖ backfill ${name} failed: ${r.error}${r.code ? ` [${r.code}]` : ''}\n  ${at} (batches before the failure are committed). Resume with the same command\n`,
  );
  return 1;
}
