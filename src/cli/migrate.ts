import path from 'node:path';
import { currentIdentity } from '../adapters/identity.js';
import { createMigration, loadMigrations, MigrationFileError, type Migration } from '../adapters/migrate/files.js';
import { MigrateError, MigrationRunner, type Failure, type MigrateEvent, type RunResult } from '../adapters/migrate/runner.js';
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
  if (!url) throw new UsageError('no database to migrate: pass --database-url postgres://…, set database.url in cockpit.config.yaml, or DATABASE_URL');
  if (!/^postgres(ql)?:\/\//.test(url)) throw new UsageError(`--database-url ${showUrl(url)}: expected postgres://…`);
  if (flags.lock === false) err('warning: --no-lock: nothing stops a second cockpit migrating this database at the same time (use it only behind a transaction-mode PgBouncer)\n');
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
    const findings = lintMigration({ id: m.id, up: m.up, down: m.down, noTransaction: m.noTransaction });
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
  return `${f.id} ${f.name}: statement ${f.statement} of ${f.of} (${where}) failed: ${f.error}${f.code ? ` [${f.code}]` : ''}${f.recorded ? ' — recorded as failed; see cockpit migrate status, then resolve' : ' — rolled back, nothing of it applied'}`;
}

function printEvent(e: MigrateEvent): void {
  switch (e.type) {
    case 'lock.waiting':
      return out(`waiting for the migration lock, held by ${e.holder}…\n`);
    case 'migration.started':
      return out(`${e.revert ? 'reverting' : e.direction === 'up' ? 'applying' : 'reverting'} ${e.id} ${e.name}${e.noTransaction ? ' (no transaction)' : ''}…\n`);
    case 'migration.finished':
      return out(`  ✔ ${e.id} ${e.direction === 'up' ? 'applied' : 'reverted'} in ${formatDuration(e.durationMs)}\n`);
    case 'migration.failed':
      return err(`  ✖ ${describeFailure(e)}\n`);
    case 'index.invalid-dropped':
      return out(`  an INVALID index ${e.index} (left by an earlier failed CREATE INDEX CONCURRENTLY) was dropped, to be built again\n`);
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
  const { dir } = setup(g, flags);
  let file: string;
  try {
    file = createMigration(dir, description, new Date(), { noTransaction: !!flags.noTransaction });
  } catch (e) {
    if (e instanceof MigrationFileError) throw new UsageError(e.message);
    throw e;
  }
  out(`created ${path.relative(process.cwd(), file) || file}: write its upgrade (-- migrate:up) and its downgrade (-- migrate:down); cockpit migrate lint checks both\n`);
  return 0;
}

function load(dir: string): Migration[] {
  try {
    return loadMigrations(dir);
  } catch (e) {
    if (e instanceof MigrationFileError) throw new UsageError(e.message);
    throw e;
  }
}

export async function cmdMigrateLint(g: GlobalOptions, ids: string[], flags: MigrateFlags): Promise<number> {
  const { dir } = setup(g, flags);
  const all = load(dir);
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
  const s = await r.status().catch(asUsage);
  if (flags.json) {
    out(JSON.stringify({ applied: s.applied, pending: s.pending.map((m) => ({ id: m.id, name: m.name, file: m.file })), problems: s.problems }, null, 2) + '\n');
    return s.problems.length ? 1 : 0;
  }
  out(`database ${showUrl(url)}\n`);
  for (const a of s.applied) out(`  ✔ ${a.id} ${a.name}  applied ${new Date(a.appliedAt).toISOString().replace('T', ' ').slice(0, 19)} by ${a.appliedBy} in ${formatDuration(a.durationMs)}\n`);
  for (const p of s.pending) out(`  · ${p.id} ${p.name}  pending${p.noTransaction ? ' (no transaction)' : ''}\n`);
  for (const p of s.problems) err(`  ✖ ${p.id}: ${p.message}\n`);
  out(`${s.applied.length} applied, ${s.pending.length} pending, ${s.problems.length} problem(s)\n`);
  return s.problems.length ? 1 : 0;
}

function asUsage(e: unknown): never {
  if (e instanceof MigrateError || e instanceof MigrationFileError) throw new UsageError(e.message, 1);
  throw e;
}

export async function cmdMigrateUpgrade(g: GlobalOptions, flags: MigrateFlags): Promise<number> {
  const { runner: r } = runner(g, flags);
  const opts = { to: flags.to, acceptChecksum: flags.acceptChecksum, allowOutOfOrder: !!flags.allowOutOfOrder };
  const plan = await r.plan(opts).catch(asUsage);
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
    return 0;
  }
  const res = await r.upgrade({ ...opts, onFailure: flags.onFailure ?? 'stop', operator: currentIdentity().operator, onEvent: printEvent }).catch(asUsage);
  return finish(res, 'applied');
}

export async function cmdMigrateDowngrade(g: GlobalOptions, flags: MigrateFlags): Promise<number> {
  const { runner: r } = runner(g, flags);
  const steps = flags.steps !== undefined ? Number(flags.steps) : undefined;
  if (steps !== undefined && !(Number.isInteger(steps) && steps > 0)) throw new UsageError(`--steps ${flags.steps}: expected a positive whole number`);
  if (flags.sql) {
    const s = await r.status().catch(asUsage);
    const newest = [...s.applied].sort((a, b) => (a.id < b.id ? 1 : -1));
    const ids = flags.to ? newest.filter((a) => a.id > flags.to!).map((a) => a.id) : newest.slice(0, steps ?? 1).map((a) => a.id);
    const files = r.migrations();
    out(r.sqlFor(ids.map((id) => files.find((m) => m.id === id)).filter((m): m is Migration => !!m), 'down'));
    return 0;
  }
  const res = await r.downgrade({ steps: flags.to ? undefined : (steps ?? 1), to: flags.to, operator: currentIdentity().operator, acceptChecksum: flags.acceptChecksum, onEvent: printEvent }).catch(asUsage);
  return finish(res, 'reverted');
}

export async function cmdMigrateResolve(g: GlobalOptions, id: string, flags: MigrateFlags): Promise<number> {
  if (!!flags.applied === !!flags.rolledBack) throw new UsageError('say how it was settled: --applied (its effect is there) or --rolled-back (it is not)');
  const { runner: r } = runner(g, flags);
  const res = await r.resolve(id, flags.applied ? 'applied' : 'rolled-back', { operator: currentIdentity().operator }).catch(asUsage);
  if (res.ok) out(`${id} settled as ${flags.applied ? 'applied' : 'rolled back'} by ${currentIdentity().operator}\n`);
  return res.ok ? 0 : 1;
}
