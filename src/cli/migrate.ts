import { readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { commitStates, git, isRepo, type CommitState } from '../adapters/git.js';
import { currentIdentity } from '../adapters/identity.js';
import {
  createMigration,
  loadMigrations,
  loadMigrationsTolerant,
  noDownReason,
  toolHeaderProblem,
  type Migration,
  type MigrationFormat,
} from '../adapters/migrate/files.js';
import { MigrationRunner, type RunResult } from '../adapters/migrate/runner.js';
import type { CommandLine } from '../core/command-line.js';
import { formatDuration } from '../core/duration.js';
import { describeMigrateLine, exitCodeOfResult, findingsText } from '../core/migrate/describe.js';
import { migrateLineJson, type CheckFinding, type MigrateLine } from '../core/migrate/events.js';
import type { Direction } from '../core/migrate/plan.js';
import { LINT_DEFAULT_MAJOR, lintMigration, RULES, type Finding, type LintTarget, type SeverityOverrides } from '../core/migrate/lint.js';
import { neutralize } from '../core/sanitize.js';
import { databaseIdentity, resolveDatabase, resolveScratchDatabase, type DatabaseQuery } from '../core/database-target.js';
import { UsageError, withoutPassword, Workspace, type GlobalOptions } from './setup.js';

export interface MigrateFlags {
  databaseUrl?: string;
  /** The environment whose database it is (database.environments in the config): src/core/database-target.ts. */
  env?: string;
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
  const choice = resolveDatabase(databaseQuery(ws, flags));
  return { ws, dir, url: choice.url, source: choice.source, missing: choice.missing, command: migrateCommandLine(ws, flags, dir) };
}

/** A file as messages name it: relative to the current directory when inside it, else absolute. */
const shownFile = (file: string): string => {
  const rel = path.relative(process.cwd(), file);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : file;
};

/** What `resolveDatabase` needs to know of a command: its flags, the config's database section, the environment. */
export function databaseQuery(ws: Workspace, flags: MigrateFlags & { scratchUrl?: string }): DatabaseQuery {
  return {
    flagUrl: flags.databaseUrl,
    flagScratchUrl: flags.scratchUrl,
    environment: flags.env,
    settings: ws.config.database,
    configFile: shownFile(ws.configFile),
    env: process.env,
  };
}

/**
 * How `cockpit migrate …` advice is printed: the folder, environment and database this command was given, given
 * again (the folder absolute; the URL without its password, which the client then takes from PGPASSWORD or
 * ~/.pgpass), and `--repo` when elsewhere, so it runs as printed.
 */
export function migrateCommandLine(ws: Workspace, flags: MigrateFlags, dir: string): CommandLine {
  const again = [
    ...(flags.dir ? ['--dir', dir] : []),
    ...(flags.env ? ['--env', flags.env] : []),
    ...(flags.databaseUrl ? ['--database-url', withoutPassword(flags.databaseUrl)] : []),
  ];
  return (args) => ws.command([...args, ...again]);
}

/** A database URL that pg can use, or bad input naming where it came from (pg would throw a bare "Invalid URL"). */
function checkDatabaseUrl(url: string, source: string): void {
  if (!/^postgres(ql)?:\/\//.test(url)) throw new UsageError(`${source} ${showUrl(url)}: expected postgres://…`);
  if (!URL.canParse(url))
    throw new UsageError(`${source} ${showUrl(url)} is not a valid PostgreSQL URL: expected postgres://user@host:port/database`);
}

/**
 * Where a command's events go: with `--json`, one JSON line each on stdout (core/migrate/events.ts); without, in
 * words (core/migrate/describe.ts) on stdout or stderr.
 */
type Emit = (e: MigrateLine) => void;
function sink(flags: MigrateFlags): Emit {
  if (flags.json) return (e) => void process.stdout.write(migrateLineJson(e));
  return (e) => {
    for (const s of describeMigrateLine(e)) (s.stream === 'stdout' ? out : err)(s.text);
  };
}

/**
 * The application database's URL (--database-url, database.environments.<--env>.url, database.url, DATABASE_URL:
 * core/database-target.ts), checked; `what` is done to it.
 */
export function appDatabase(
  g: GlobalOptions,
  flags: MigrateFlags,
  what = 'migrate',
): { ws: Workspace; dir: string; url: string; command: CommandLine } {
  const { ws, dir, url, source, missing, command } = setup(g, flags);
  if (!url) throw new UsageError(`no database to ${what}${flags.env ? ` in ${flags.env}` : ''}: ${missing}`);
  checkDatabaseUrl(url, source);
  return { ws, dir, url, command };
}

function runner(
  g: GlobalOptions,
  flags: MigrateFlags,
  emit: Emit = sink(flags),
): { runner: MigrationRunner; url: string; dir: string; lint: SeverityOverrides } {
  const { dir, url, command } = appDatabase(g, flags);
  if (flags.lock === false)
    emit({
      type: 'warning',
      message:
        '--no-lock: nothing stops a second cockpit migrating this database at the same time (use it only behind a transaction-mode PgBouncer)',
    });
  return { runner: new MigrationRunner({ connection: url, dir, noLock: flags.lock === false, command }), url, dir, lint: lintLevels(g) };
}

/** The lint rules' severities set in cockpit.config.yaml (`database.lint`), over the defaults. */
function lintLevels(g: GlobalOptions): SeverityOverrides {
  return new Workspace(g).config.database?.lint ?? {};
}

/** The lint findings of `migrations`, each migration's as one event, with the counts. */
function lintAll(
  migrations: Migration[],
  levels: SeverityOverrides,
  target: LintTarget,
): {
  errors: number;
  warnings: number;
  events: Array<Extract<MigrateLine, { type: 'lint.findings' }>>;
} {
  let errors = 0;
  let warnings = 0;
  const events: Array<Extract<MigrateLine, { type: 'lint.findings' }>> = [];
  for (const m of migrations) {
    const findings = lintMigration(
      { id: m.id, up: m.up, down: m.down, noTransaction: m.noTransaction, dynamic: m.dynamic },
      levels,
      target,
    );
    if (!findings.length) continue;
    events.push({ type: 'lint.findings', id: m.id, name: m.name, file: m.file, findings });
    for (const f of findings) {
      if (f.severity === 'error') errors++;
      else warnings++;
    }
  }
  return { errors, warnings, events };
}

/** A migration file that could not be loaded, as a lint finding of its own (rule unreadable-file). */
function unreadableFinding(
  u: { file: string; reason: string },
  severity: 'error' | 'warning',
  command: CommandLine,
): Extract<MigrateLine, { type: 'lint.findings' }> {
  const base = path.basename(u.file);
  const f: Finding = {
    rule: 'unreadable-file',
    severity,
    statement: -1,
    line: 0,
    message: `${base} could not be loaded, so nothing in it was checked (and upgrade refuses to run while it stays so): ${u.reason}`,
    fix: `fix the file (a name <YYYYMMDDHHMMSS>_<slug>.sql|ts|mts|js|mjs, a -- migrate:up section, a module that loads) or move it out of the migrations folder, then run ${command(['migrate', 'lint'])} again`,
  };
  return { type: 'lint.findings', id: base, name: '(not loaded)', file: u.file, findings: [f] };
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

/** How an upgrade or downgrade ended, as its last event; its exit code follows from it. */
function finish(r: RunResult, direction: Direction, emit: Emit): number {
  const e = {
    type: 'migrate.result',
    direction,
    ok: r.ok,
    applied: r.applied,
    reverted: r.reverted,
    revertFailed: r.revertFailed,
  } as const;
  emit(e);
  return exitCodeOfResult(e);
}

/** The migrations a run is about to apply or revert, told before it starts (the screen's progress counts them). */
function planned(direction: Direction, migrations: Migration[], target: { environment?: string; url: string }): MigrateLine {
  return {
    type: 'migrate.plan',
    direction,
    migrations: migrations.map((m) => ({ id: m.id, name: m.name, noTransaction: m.noTransaction })),
    ...(target.environment ? { environment: target.environment, database: databaseIdentity(target.url) } : {}),
  };
}

function noSqlWithJson(flags: MigrateFlags): void {
  if (flags.sql && flags.json) throw new UsageError('--sql prints the SQL, --json prints events: use one or the other');
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

export async function cmdMigrateLint(g: GlobalOptions, ids: string[], flags: MigrateFlags): Promise<number> {
  const { dir, ws, command } = setup(g, flags);
  const levels = ws.config.database?.lint ?? {};
  // A file that cannot be loaded is a finding of its own; the others are still checked.
  const { migrations: all, unloadable } = await loadMigrationsTolerant(dir);
  const shownDir = path.relative(process.cwd(), dir) || dir;
  const emit = sink(flags);
  if (!all.length && !unloadable.length) {
    emit({ type: 'lint.result', dir: shownDir, checked: 0, unloaded: 0, errors: 0, warnings: 0 });
    return 0;
  }
  const chosen = ids.length ? all.filter((m) => ids.includes(m.id)) : all;
  const unknown = ids.filter((id) => !all.some((m) => m.id === id));
  if (unknown.length && !unloadable.length) throw new UsageError(`no migration ${unknown.join(', ')} in ${dir}`);
  const configured = ws.config.database?.postgresVersion;
  const l = lintAll(chosen, levels, { postgresMajor: configured });
  const level = levels['unreadable-file'] ?? RULES['unreadable-file'];
  // Each file that did not load is a finding of its own, told before those of the migrations that did.
  const unread = level === 'off' ? [] : unloadable.map((u) => unreadableFinding(u, level, command));
  if (level === 'error') l.errors += unread.length;
  else l.warnings += unread.length;
  const events = [...unread, ...l.events];
  // Without --json the findings go to stdout (this command's result), not to stderr as before an upgrade.
  if (flags.json) events.forEach(emit);
  else out(events.map((e) => findingsText(e, e.findings)).join(''));
  const postgres = { major: configured ?? LINT_DEFAULT_MAJOR, assumed: configured === undefined };
  emit({
    type: 'lint.result',
    dir: shownDir,
    checked: chosen.length,
    unloaded: unloadable.length,
    errors: l.errors,
    warnings: l.warnings,
    postgres,
  });
  return l.errors ? 1 : 0;
}

// ───────────────────────────── check ─────────────────────────────

const NOT_COMMITTED: Record<Exclude<CommitState, 'committed'>, Pick<CheckFinding, 'message' | 'fix'>> = {
  untracked: {
    message: 'not in git (untracked or ignored): the commit being deployed does not have it',
    fix: 'git add it and commit it with the change it belongs to (or remove it if it is not meant to ship)',
  },
  'staged-only': {
    message: 'added to the index but in no commit: the commit being deployed does not have it',
    fix: 'commit it',
  },
  modified: {
    message: 'changed since the last commit: what would be applied is not what was committed',
    fix: 'commit the change (or git restore the file); an applied migration is never edited: write a new one instead',
  },
};

/**
 * `cockpit migrate check`: what a machine can tell of the migration policy from the files alone, for every migration
 * file in the folder (applied or pending: which are pending needs a database, and an uncommitted or hand-edited
 * applied one is as wrong): each is committed in the commit checked out (git), has an upgrade and a downgrade, and
 * was made by `cockpit migrate create` (its timestamped name, which the loader checks, and the header it writes).
 * Migrations older than database.legacyBefore predate the tool: committed is all that is asked of them.
 * Reads only: no database, nothing written. Exit 1 when anything was found, each finding naming its file.
 */
export async function cmdMigrateCheck(g: GlobalOptions, flags: MigrateFlags): Promise<number> {
  const { dir, ws } = setup(g, flags);
  const { migrations, unloadable } = await loadMigrationsTolerant(dir);
  const shownDir = path.relative(process.cwd(), dir) || dir;
  const emit = sink(flags);
  const files = [...migrations.map((m) => m.file), ...unloadable.map((u) => u.file)];
  if (!files.length) {
    emit({ type: 'check.result', dir: shownDir, checked: 0, failed: 0, findings: 0 });
    return 0;
  }
  const findings = new Map<string, CheckFinding[]>(files.map((f) => [f, []]));
  const top = (await isRepo(ws.repoDir))
    ? realpathSync(path.resolve(ws.repoDir, (await git({ cwd: ws.repoDir }, ['rev-parse', '--show-toplevel'])).trim()))
    : null;
  const rel = (file: string): string | null => {
    if (!top) return null;
    const r = path.relative(top, realpathSync(file)).split(path.sep).join('/');
    return r.startsWith('../') || path.isAbsolute(r) ? null : r;
  };
  const shown = (file: string) => rel(file) ?? (path.relative(process.cwd(), file) || file);
  const add = (file: string, f: Omit<CheckFinding, 'file'>) => findings.get(file)!.push({ file: shown(file), ...f });

  // Committed: every file in the commit checked out, unchanged.
  const inRepo = files.filter((f) => rel(f) !== null);
  const states = top
    ? await commitStates(
        top,
        inRepo.map((f) => rel(f)!),
      )
    : new Map<string, CommitState>();
  for (const f of files) {
    const r = rel(f);
    const state = r === null ? null : states.get(r);
    if (state === null || state === undefined)
      add(f, {
        rule: 'no-repository',
        message: top
          ? `outside the git repository ${top}: git cannot say it is committed`
          : `${ws.repoDir} is not a git repository: git cannot say it is committed`,
        fix: "keep the migrations in the application's git repository, committed with the code they belong to",
      });
    else if (state !== 'committed') add(f, { rule: state, ...NOT_COMMITTED[state] });
  }
  for (const u of unloadable)
    add(u.file, {
      rule: 'unreadable',
      // The reason starts with the file's full path (and line), which the finding names already.
      message: `could not be loaded, so its sections and header were not checked: ${
        u.reason.startsWith(`${u.file}:`)
          ? u.reason
              .slice(u.file.length + 1)
              .replace(/^(\d+):\s*/, 'line $1: ')
              .trimStart()
          : u.reason
      }`,
      fix: 'fix the file (a name <YYYYMMDDHHMMSS>_<slug>.sql|ts|mts|js|mjs as cockpit migrate create writes it, a -- migrate:up section, a module that loads)',
    });
  const fn = (m: { kind: 'sql' | 'module' }, dir: 'up' | 'down') =>
    m.kind === 'module' ? `${dir === 'up' ? 'upgrade' : 'downgrade'}()` : `-- migrate:${dir} section`;
  // Migrations from before the tool was adopted cannot be given its header or a downgrade (an applied migration is
  // never edited): with database.legacyBefore they are held to being committed only.
  const legacyBefore = ws.config.database?.legacyBefore;
  const legacy = legacyBefore ? migrations.filter((m) => m.id < legacyBefore) : [];
  for (const m of migrations) {
    if (legacy.includes(m)) continue;
    // An upgrade and a downgrade, each doing something (a module that reads the database builds its SQL as it runs).
    if (!m.up.length && !m.dynamic.up)
      add(m.file, {
        rule: 'no-upgrade',
        message: `its ${fn(m, 'up')} has no statement: applying it changes nothing`,
        fix: `write the schema change in its ${fn(m, 'up')}, or remove the file`,
      });
    if (!m.hasDown)
      add(m.file, {
        rule: 'no-downgrade',
        message: `it cannot be rolled back: ${noDownReason(m)}; the policy requires a rollback implementation for every migration`,
        fix: `add a ${fn(m, 'down')} that undoes the upgrade, in reverse order; cockpit migrate verify proves it restores the schema`,
      });
    else if (!m.down.length && !m.dynamic.down)
      add(m.file, {
        rule: 'empty-downgrade',
        message: `its ${fn(m, 'down')} has no statement: a rollback would leave the upgrade's changes in place`,
        fix: `write the statements that undo the upgrade in its ${fn(m, 'down')}; cockpit migrate verify proves it restores the schema`,
      });
    // Made by the tool: the loader already refused a name that is not <YYYYMMDDHHMMSS>_<slug>; the header is checked here.
    const header = toolHeaderProblem(m, readFileSync(m.file, 'utf8'));
    if (header)
      add(m.file, {
        rule: header.rule,
        message: `not made by cockpit migrate create: ${header.message}`,
        fix: 'make migrations with cockpit migrate create "<description>" (it numbers them by time and writes the header) and move the SQL into the new file',
      });
  }
  let failed = 0;
  let count = 0;
  for (const list of findings.values()) {
    if (list.length) failed++;
    count += list.length;
    for (const f of list) emit({ type: 'check.finding', ...f });
  }
  emit({
    type: 'check.result',
    dir: shownDir,
    checked: files.length,
    failed,
    findings: count,
    ...(legacy.length ? { legacy: legacy.length } : {}),
  });
  return count ? 1 : 0;
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
  out(`database ${showUrl(url)}${flags.env ? ` (${flags.env})` : ''}\n`);
  for (const a of s.applied)
    out(
      `  ✔ ${a.id} ${a.name}  applied ${new Date(a.appliedAt).toISOString().replace('T', ' ').slice(0, 19)} by ${a.appliedBy} in ${formatDuration(a.durationMs)}\n`,
    );
  for (const p of s.pending) out(`  · ${p.id} ${p.name}  pending${p.noTransaction ? ' (no transaction)' : ''}\n`);
  for (const p of s.problems) err(`  ✖ ${p.id}: ${p.message}\n`);
  out(`${s.applied.length} applied, ${s.pending.length} pending, ${s.problems.length} problem(s)\n`);
  return s.problems.length ? 1 : 0;
}

/**
 * A repository with no migration files and no database configured has nothing to migrate: said so (and the step
 * shows ○), rather than failing for want of a database it does not have. With a database, the run goes on: its
 * history may name migrations whose files are gone.
 */
async function nothingToMigrate(g: GlobalOptions, flags: MigrateFlags): Promise<string | null> {
  const { dir, url } = setup(g, flags);
  if (url) return null;
  const { migrations, unloadable } = await loadMigrationsTolerant(dir);
  if (migrations.length || unloadable.length) return null;
  return `no migrations in ${path.relative(process.cwd(), dir) || dir} and no database configured`;
}

export async function cmdMigrateUpgrade(g: GlobalOptions, flags: MigrateFlags): Promise<number> {
  noSqlWithJson(flags);
  const emit = sink(flags);
  const nothing = await nothingToMigrate(g, flags);
  if (nothing) {
    emit({ type: 'migrate.result', direction: 'up', ok: true, applied: [], reverted: [], revertFailed: null, nothingToCheck: nothing });
    return 0;
  }
  const { runner: r, lint, url } = runner(g, flags, emit);
  const opts = { to: flags.to, acceptChecksum: flags.acceptChecksum, allowOutOfOrder: !!flags.allowOutOfOrder };
  const plan = await r.plan(opts);
  const l = lintAll(plan.pending, lint, { postgresMajor: plan.serverMajor });
  l.events.forEach(emit);
  if (l.errors) {
    if (!flags.allowUnsafe?.trim()) {
      emit({ type: 'lint.refused', errors: l.errors });
      return 1;
    }
    emit({ type: 'lint.overridden', by: currentIdentity().operator, reason: flags.allowUnsafe });
  }
  if (flags.sql) {
    out(r.sqlFor(plan.pending, 'up'));
    dynamicWarning(plan.pending, 'up');
    return 0;
  }
  emit(planned('up', plan.pending, { environment: flags.env, url }));
  const res = await r.upgrade({ ...opts, onFailure: flags.onFailure ?? 'stop', operator: currentIdentity().operator, onEvent: emit });
  return finish(res, 'up', emit);
}

export async function cmdMigrateDowngrade(g: GlobalOptions, flags: MigrateFlags): Promise<number> {
  noSqlWithJson(flags);
  const emit = sink(flags);
  const { runner: r, url } = runner(g, flags, emit);
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
  const selection = { steps: flags.to ? undefined : (steps ?? 1), to: flags.to, acceptChecksum: flags.acceptChecksum };
  emit(planned('down', (await r.downgradePlan(selection)).migrations, { environment: flags.env, url }));
  const res = await r.downgrade({ ...selection, operator: currentIdentity().operator, onEvent: emit });
  return finish(res, 'down', emit);
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
  const { ws, dir, url, source, missing } = setup(g, flags);
  const scratchChoice = resolveScratchDatabase(databaseQuery(ws, flags));
  const scratch = scratchChoice?.url;
  // No migrations: nothing to verify, with or without a server to verify on.
  const migrations = await loadMigrations(dir);
  const shownDir = path.relative(process.cwd(), dir) || dir;
  const emit = sink(flags);
  if (!migrations.length) {
    emit({ type: 'verify.result', dir: shownDir, checked: 0, held: 0, failed: 0, unchecked: 0 });
    return 0;
  }
  if (!url && !scratch) {
    throw new UsageError(
      `no server to verify on${flags.env ? ` in ${flags.env}` : ''}: ${missing} (only its server is used; that database is not touched), or pass --scratch-url (or set database.scratchUrl) of an empty database`,
    );
  }
  for (const [flag, u] of [
    [source, url],
    [scratchChoice?.source ?? '--scratch-url', scratch],
  ] as const) {
    if (!u) continue;
    if (!/^postgres(ql)?:\/\//.test(u)) throw new UsageError(`${flag} ${showUrl(u)}: expected postgres://…`);
    try {
      new URL(u);
    } catch {
      throw new UsageError(`${flag} ${showUrl(u)}: not a valid URL`);
    }
  }
  // With --json, stdout holds only the result event; the progress words go to stderr.
  const say = flags.json ? err : out;
  const app = url ? v.databaseOf(url) : '';
  const ms = (n: number | undefined) => (n === undefined ? '–' : formatDuration(n));
  const onEvent = (e: import('../adapters/migrate/verify.js').VerifyEvent): void => {
    switch (e.type) {
      case 'scratch.created':
        return say(
          `verifying ${migrations.length} migration(s) from ${shownDir} on a scratch database ${e.database}, created for this run on ${e.server}` +
            `${app ? ` (the server of ${showUrl(url!)}; the database ${app} itself is not touched)` : ''}\n` +
            `each migration: upgrade, downgrade (the schema must be as before), upgrade again (the schema must be as after the first upgrade)\n`,
        );
      case 'scratch.using':
        return say(
          `verifying ${migrations.length} migration(s) from ${shownDir} on the empty scratch database ${e.database} (${showUrl(scratch!)})` +
            `${app ? `; the application database ${app} is not touched` : ''}\n` +
            `each migration: upgrade, downgrade (the schema must be as before), upgrade again (the schema must be as after the first upgrade)\n`,
        );
      case 'migration.verified': {
        const d = e.verdict;
        if (d.ok)
          return say(
            `  ✔ ${d.id} ${d.name}  (up ${ms(d.durations.upMs)}, down ${ms(d.durations.downMs)}, up again ${ms(d.durations.reUpMs)})\n`,
          );
        say(`  ✖ ${d.id} ${d.name}\n`);
        for (const p of d.problems) say(`      ${p}\n`);
        return;
      }
      case 'scratch.dropped':
        return say(`scratch database ${e.database} dropped\n`);
      case 'scratch.drop-failed':
        return err(`could not drop the scratch database ${e.database}: ${e.error} — drop it by hand\n`);
      case 'scratch.kept':
        return say(`the scratch database ${e.database} now holds every migration verified: empty it before verifying there again\n`);
      default:
        return;
    }
  };
  const res = await v.verifyMigrations({ adminUrl: url, scratchUrl: scratch, dir, operator: currentIdentity().operator, onEvent });
  emit({
    type: 'verify.result',
    dir: shownDir,
    checked: res.verdicts.length,
    held: res.verdicts.filter((d) => d.ok).length,
    failed: res.verdicts.filter((d) => d.verified && !d.ok).length,
    unchecked: res.verdicts.filter((d) => !d.verified).length,
  });
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
  const { dir, url, source, missing } = setup(g, flags);
  // The same bounds as the backfill file's batchSize and pauseMs (a pause is a timer: it must fit in one).
  const num = (v: string | undefined, flag: string, min: number, max: number): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`${flag} ${v}: expected a whole number from ${min} to ${max}`);
    return n;
  };
  const batchSize = num(flags.batchSize, '--batch-size', 1, 100_000);
  const pauseMs = num(flags.pauseMs, '--pause-ms', 0, 600_000);
  const def = bf.loadBackfill(path.join(dir, 'backfills'), name);
  if (!url) throw new UsageError(`no database to backfill${flags.env ? ` in ${flags.env}` : ''}: ${missing}`);
  checkDatabaseUrl(url, source);

  // A terminal (and not --json): the progress redrawn on one line; otherwise every event as it comes.
  const tty = !!process.stdout.isTTY && !flags.json;
  const emit = sink(flags);
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
  const onEvent = (e: MigrateLine): void => {
    if (!tty || e.type !== 'backfill.progress') {
      if (describeMigrateLine(e).length) endLine();
      return emit(e);
    }
    const now = Date.now();
    if (now - lastDraw < 100 && e.batchRows > 0) return;
    lastDraw = now;
    const pct = e.total ? Math.min(100, (e.rowsDone / e.total) * 100) : undefined;
    const width = 24;
    const filled = pct === undefined ? 0 : Math.round((pct / 100) * width);
    const bar = pct === undefined ? '' : `[${'█'.repeat(filled)}${'░'.repeat(width - filled)}] ${Math.floor(pct)}%  `;
    lineOpen = true;
    // \r and the erase sequence are the cockpit's own; the values are numbers and a key (neutralised).
    process.stdout.write(
      `\r\x1b[K${bar}${n(e.rowsDone)}${e.total !== undefined ? `/~${n(e.total)}` : ''} rows  ${n(e.ratePerSec)} rows/s  ETA ${eta(e.etaSec)}  (key ${neutralize(e.lastKey).slice(0, 40)})`,
    );
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
  const result = { type: 'backfill.result', ...r } as const;
  emit(result);
  return exitCodeOfResult(result);
}
