/**
 * Backups of the application database and their restore, with PostgreSQL's own tools: `pg_dump -Fc` and
 * `pg_restore --clean --if-exists --jobs N`. The policy's "restore from latest backup … verify database integrity"
 * (Rollback Procedures > Database Rollback Process) as something a machine does and proves:
 *
 * - A backup is a dump file and a manifest beside it (`<id>.dump`, `<id>.json`; the id is the UTC time it was taken,
 *   `20261206T031500Z`). The manifest holds the size and sha256 of the dump, the database it was taken of
 *   (host:port/name, never the password), the newest migration applied then, the dump's table of contents counted
 *   by kind, and every table's row count. The counts are read in the very snapshot pg_dump dumps
 *   (`pg_export_snapshot()` → `pg_dump --snapshot`), so they describe the dump exactly, not the database a moment
 *   later.
 * - A restore checks the dump against its manifest's sha256 before touching anything, refuses a database other than
 *   the one the backup was taken of, and judges the result by the data, not by pg_restore's exit code (which is
 *   non-zero for errors its users call harmless, and zero when a table silently did not come back): every table's
 *   row count against the manifest, `pg_amcheck --heapallindexed` when installed, and the configured verification
 *   queries. pg_restore's own errors are classified: the known harmless ones (ownership of `public` or of
 *   extensions, comments on extensions) are reported and tolerated, any other fails the restore.
 *
 * Passwords travel in PGPASSWORD, never on a command line (where `ps` shows them to every user of the machine).
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { FailedError, ignoreCleanupError, UsageError } from '../core/errors.js';
import type { BackupEvent, BackupManifest, IntegrityCheck } from '../core/backup.js';
import { HISTORY_TABLE } from '../core/migrate/script.js';
import { databaseIdentity } from '../core/database-target.js';
import { connectClient, withConnectTimeout } from './pg-connect.js';
import { runCommand, type ShellResult } from './shell.js';

export type { BackupEvent, BackupManifest, IntegrityCheck };

export interface RestoreResult {
  manifest: BackupManifest;
  ok: boolean;
  checks: IntegrityCheck[];
  /** pg_restore errors that were tolerated as harmless, and those that were not. */
  harmless: string[];
  errors: string[];
  ms: number;
}

/** A query that must return true (its first column of its first row) after a restore. */
export interface VerifyQuery {
  name: string;
  sql: string;
}

// `host:port/name` of a connection URL: what a backup says it was taken of, and what a restore is held to.
export { databaseIdentity };

/** The URL without its password, and the password for PGPASSWORD. */
function splitPassword(url: string): { url: string; env: Record<string, string> } {
  const u = new URL(url);
  const password = decodeURIComponent(u.password);
  u.password = '';
  return { url: u.toString(), env: password ? { PGPASSWORD: password } : {} };
}

/**
 * The PostgreSQL client tool for a server of `major`: that version's own binary when installed (a pg_dump older than
 * the server refuses to dump it; a newer one writes archives an older pg_restore cannot read), else the one on PATH.
 */
export function pgTool(tool: 'pg_dump' | 'pg_restore' | 'pg_amcheck', major: number): string | null {
  const own = path.join('/usr/lib/postgresql', String(major), 'bin', tool);
  if (existsSync(own)) return own;
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const p = path.join(dir, tool);
    if (dir && existsSync(p)) return p;
  }
  return null;
}

function needTool(tool: 'pg_dump' | 'pg_restore', major: number): string {
  const t = pgTool(tool, major);
  if (!t) throw new UsageError(`${tool} is not installed (PostgreSQL ${major} client tools: apt-get install postgresql-client-${major})`);
  return t;
}

const quoteIdent = (s: string): string => `"${s.replace(/"/g, '""')}"`;

/** Every ordinary table outside the system schemas, as `schema.table` with its quoted name. */
async function tablesOf(c: pg.Client): Promise<Array<{ key: string; quoted: string }>> {
  const r = await c.query<{ s: string; t: string }>(
    `SELECT n.nspname AS s, c.relname AS t FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
       AND n.nspname NOT LIKE 'pg_temp_%' ORDER BY 1, 2`,
  );
  return r.rows.map((x) => ({ key: `${x.s}.${x.t}`, quoted: `${quoteIdent(x.s)}.${quoteIdent(x.t)}` }));
}

async function rowCounts(c: pg.Client): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of await tablesOf(c)) out[t.key] = Number((await c.query<{ n: string }>(`SELECT count(*) AS n FROM ${t.quoted}`)).rows[0].n);
  return out;
}

async function newestMigration(c: pg.Client): Promise<string | null> {
  const exists = await c.query(`SELECT 1 FROM pg_tables WHERE tablename = $1`, [HISTORY_TABLE]);
  if (!exists.rowCount) return null;
  const r = await c.query<{ id: string }>(`SELECT id FROM ${HISTORY_TABLE} WHERE state = 'applied' ORDER BY id DESC LIMIT 1`);
  return r.rows[0]?.id ?? null;
}

async function sha256Of(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** What a failed tool said: its last lines of stderr (or the exit status). */
function toolFailure(tool: string, r: ShellResult, stderr: string): string {
  if (r.spawnError) return `${tool} could not be started: ${r.spawnError}`;
  if (r.timedOut) return `${tool} timed out`;
  if (r.aborted) return `${tool} was stopped`;
  const tail = stderr.trim().split('\n').slice(-3).join(' / ');
  return `${tool} exited with ${r.exitCode ?? r.signal}${tail ? `: ${tail}` : ''}`;
}

async function runTool(
  argv: string[],
  env: Record<string, string>,
  opts: { signal?: AbortSignal; timeoutMs?: number },
): Promise<{ r: ShellResult; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const r = await runCommand({
    argv,
    cwd: process.cwd(),
    env: { ...(process.env as Record<string, string>), ...env },
    timeoutMs: opts.timeoutMs,
    signal: opts.signal,
    onOutput: (stream, text) => {
      if (stream === 'stdout') stdout += text;
      else stderr += text;
    },
  });
  return { r, stdout, stderr };
}

/** The kinds in a dump's table of contents (`pg_restore --list`), counted. */
async function tocOf(pgRestore: string, file: string): Promise<Record<string, number>> {
  const { r, stdout, stderr } = await runTool([pgRestore, '--list', file], {}, { timeoutMs: 120_000 });
  if (r.exitCode !== 0) throw new FailedError(`the dump ${file} cannot be read: ${toolFailure('pg_restore --list', r, stderr)}`);
  const toc: Record<string, number> = {};
  // `215; 1259 16386 TABLE public users owner`, `3335; 0 16386 TABLE DATA public users owner`: the kind is the
  // upper-case words after the three numbers (the schema, `public` or `-`, is not upper case).
  for (const line of stdout.split('\n')) {
    const m = /^\d+; \d+ \d+ (.*)$/.exec(line.trim());
    if (!m) continue;
    const words: string[] = [];
    for (const w of m[1].split(' ')) {
      if (!/^[A-Z]+$/.test(w)) break;
      words.push(w);
    }
    const kind = words.join(' ');
    if (kind) toc[kind] = (toc[kind] ?? 0) + 1;
  }
  return toc;
}

export const backupId = (t: Date): string =>
  t
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
const ID = /^\d{8}T\d{6}Z$/;

/**
 * Take a backup of `url` into `dir`. The dump is written under a temporary name and renamed once complete, with its
 * manifest, so a backup that failed halfway (a full disk) leaves nothing that looks like a backup.
 */
export async function takeBackup(opts: {
  url: string;
  dir: string;
  now?: Date;
  signal?: AbortSignal;
  onEvent?: (e: BackupEvent) => void;
}): Promise<BackupManifest> {
  const say = opts.onEvent ?? (() => undefined);
  mkdirSync(opts.dir, { recursive: true });
  let taken = opts.now ?? new Date();
  // Ids are to the second: a second backup within the same second waits for the next one (a given time is kept).
  if (!opts.now && existsSync(path.join(opts.dir, `${backupId(taken)}.dump`))) {
    await new Promise((r) => setTimeout(r, 1000 - taken.getMilliseconds()));
    taken = new Date();
  }
  const id = backupId(taken);
  const final = path.join(opts.dir, `${id}.dump`);
  if (existsSync(final)) throw new UsageError(`a backup ${id} already exists in ${opts.dir}`);
  const partial = path.join(opts.dir, `.${id}.dump.partial`);
  const conn = splitPassword(opts.url);
  const c = new pg.Client(withConnectTimeout({ connectionString: opts.url }));
  await connectClient(c);
  try {
    // One snapshot for the counts and the dump: the manifest describes exactly what was dumped.
    await c.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const snapshot = (await c.query<{ s: string }>('SELECT pg_export_snapshot() AS s')).rows[0].s;
    const versionNum = Number((await c.query<{ v: string }>("SELECT current_setting('server_version_num') AS v")).rows[0].v);
    const serverVersion = (await c.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0].v;
    const major = Math.floor(versionNum / 10000);
    const tables = await rowCounts(c);
    const migration = await newestMigration(c);
    const database = databaseIdentity(opts.url);
    say({ type: 'backup.snapshot', database, tables: Object.keys(tables).length, rows: Object.values(tables).reduce((a, b) => a + b, 0) });
    const pgDump = needTool('pg_dump', major);
    const t0 = Date.now();
    const dump = await runTool([pgDump, '-Fc', `--snapshot=${snapshot}`, '-f', partial, '-d', conn.url], conn.env, { signal: opts.signal });
    if (dump.r.exitCode !== 0) {
      rmSync(partial, { force: true });
      throw new FailedError(`the backup of ${database} failed: ${toolFailure('pg_dump', dump.r, dump.stderr)}`);
    }
    await c.query('COMMIT');
    const size = statSync(partial).size;
    say({ type: 'backup.dumped', file: final, size, ms: Date.now() - t0 });
    const manifest: BackupManifest = {
      id,
      takenAt: taken.toISOString(),
      database,
      serverVersion,
      file: path.basename(final),
      size,
      sha256: await sha256Of(partial),
      migration,
      toc: await tocOf(needTool('pg_restore', major), partial),
      tables,
      pgDump,
    };
    writeFileSync(path.join(opts.dir, `.${id}.json.partial`), JSON.stringify(manifest, null, 2) + '\n');
    renameSync(partial, final);
    renameSync(path.join(opts.dir, `.${id}.json.partial`), path.join(opts.dir, `${id}.json`));
    return manifest;
  } catch (e) {
    rmSync(partial, { force: true });
    throw e;
  } finally {
    await c.end().catch(ignoreCleanupError('closing the snapshot connection (its read-only transaction ends with it)'));
  }
}

/** The backups in `dir` whose manifest reads, newest first. */
export function listBackups(dir: string): BackupManifest[] {
  if (!existsSync(dir)) return [];
  const out: BackupManifest[] = [];
  for (const f of readdirSync(dir)) {
    const id = f.replace(/\.json$/, '');
    if (!f.endsWith('.json') || !ID.test(id)) continue;
    try {
      const m = JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as BackupManifest;
      if (m.id === id && existsSync(path.join(dir, m.file))) out.push(m);
    } catch {
      // A manifest that does not parse is not a backup to offer; the restore of it by id says why.
    }
  }
  return out.sort((a, b) => b.id.localeCompare(a.id));
}

/**
 * The manifest of backup `id` (or `latest`: the newest, of `database` when given, as databaseIdentity says it) in
 * `dir`, or a UsageError naming what is there.
 */
export function findBackup(dir: string, id: string, database?: string): BackupManifest {
  const all = listBackups(dir);
  if (id === 'latest') {
    if (!all[0]) throw new UsageError(`no backups in ${dir}: take one with cockpit db backup`);
    if (database === undefined) return all[0];
    const own = all.find((b) => b.database === database);
    if (!own)
      throw new UsageError(
        `no backups of ${database} in ${dir} (there are of ${[...new Set(all.map((b) => b.database))].join(', ')}): take one with cockpit db backup`,
      );
    return own;
  }
  if (!ID.test(id)) throw new UsageError(`'${id}' is not a backup id (like 20261206T031500Z, or latest)`);
  const m = all.find((b) => b.id === id);
  if (!m) {
    const have = all.slice(0, 5).map((b) => b.id);
    throw new UsageError(`no backup ${id} in ${dir}${have.length ? ` (newest: ${have.join(', ')})` : ': there are none'}`);
  }
  return m;
}

/** pg_restore errors its users call harmless: ownership of public or of extensions, comments on extensions. */
const HARMLESS = [
  /must be owner of (schema public|extension \S+)/i,
  /schema "public" already exists/i,
  /COMMENT ON EXTENSION/i,
  /must be owner of .*plpgsql/i,
];

/** pg_restore's stderr split into errors it tolerated as harmless and real ones. */
export function classifyRestoreErrors(stderr: string): { harmless: string[]; errors: string[] } {
  const harmless: string[] = [];
  const errors: string[] = [];
  const lines = stderr.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (!/^pg_restore: error:/.test(line)) continue;
    // pg_restore prints the failed command on the next line ("Command was: …"): judged together.
    const context = `${line} ${/^Command was:/.test(lines[i + 1] ?? '') ? lines[i + 1] : ''}`;
    (HARMLESS.some((h) => h.test(context)) ? harmless : errors).push(line.replace(/^pg_restore: error: /, ''));
  }
  return { harmless, errors };
}

/** A backup is restored only over the database it was taken of. */
export function assertSameDatabase(m: BackupManifest, url: string): void {
  const target = databaseIdentity(url);
  if (target !== m.database)
    throw new UsageError(
      `backup ${m.id} was taken of ${m.database}; refusing to restore it over ${target} (give the database URL of ${m.database})`,
    );
}

/**
 * Restore backup `manifest` from `dir` over `url`, then check it. Refuses (before touching anything) a dump whose
 * sha256 is not the manifest's, and a database other than the one the backup was taken of.
 */
export async function restoreBackup(opts: {
  url: string;
  dir: string;
  manifest: BackupManifest;
  jobs?: number;
  verifyQueries?: VerifyQuery[];
  signal?: AbortSignal;
  onEvent?: (e: BackupEvent) => void;
}): Promise<RestoreResult> {
  const say = opts.onEvent ?? (() => undefined);
  const m = opts.manifest;
  assertSameDatabase(m, opts.url);
  const file = path.join(opts.dir, m.file);
  const sha = await sha256Of(file);
  if (sha !== m.sha256)
    throw new FailedError(
      `the dump of backup ${m.id} (${file}) does not match its manifest (sha256 ${sha.slice(0, 16)}…, manifest ${m.sha256.slice(0, 16)}…): it was changed or damaged, nothing was restored`,
    );
  say({ type: 'restore.checked', id: m.id, sha256: sha });
  const jobs = Math.max(1, opts.jobs ?? 2);
  const c = new pg.Client(withConnectTimeout({ connectionString: opts.url }));
  await connectClient(c);
  try {
    const major = Math.floor(Number((await c.query<{ v: string }>("SELECT current_setting('server_version_num') AS v")).rows[0].v) / 10000);
    const conn = splitPassword(opts.url);
    const t0 = Date.now();
    const r = await runTool(
      [needTool('pg_restore', major), '--clean', '--if-exists', '--no-owner', '--jobs', String(jobs), '-d', conn.url, file],
      conn.env,
      { signal: opts.signal },
    );
    if (r.r.spawnError || r.r.aborted || r.r.timedOut) throw new FailedError(toolFailure('pg_restore', r.r, r.stderr));
    const { harmless, errors } = classifyRestoreErrors(r.stderr);
    for (const h of harmless) say({ type: 'restore.harmless', message: h });
    say({ type: 'restore.restored', ms: Date.now() - t0, jobs });
    const checks: IntegrityCheck[] = [];
    const check = (x: IntegrityCheck) => {
      checks.push(x);
      say({ type: 'integrity.check', ...x });
    };
    if (errors.length) check({ name: 'pg_restore', ok: false, detail: `${errors.length} error(s): ${errors.slice(0, 3).join(' / ')}` });
    else if (r.r.exitCode !== 0 && !harmless.length)
      check({ name: 'pg_restore', ok: false, detail: toolFailure('pg_restore', r.r, r.stderr) });
    else check({ name: 'pg_restore', ok: true, detail: harmless.length ? `${harmless.length} harmless error(s) tolerated` : 'no errors' });
    // The data decides: every table's row count as in the dumped snapshot.
    const now = await rowCounts(c);
    const wrong: string[] = [];
    for (const [t, n] of Object.entries(m.tables)) {
      if (!(t in now)) wrong.push(`${t} is missing`);
      else if (now[t] !== n) wrong.push(`${t} has ${now[t]} row(s), the backup ${n}`);
    }
    // A table made after the backup (by a migration since) is not dropped behind the operator's back: named instead.
    for (const t of Object.keys(now))
      if (!(t in m.tables)) wrong.push(`${t} is not in the backup (made after it: drop it, or downgrade the migration that made it)`);
    check({
      name: 'row counts',
      ok: wrong.length === 0,
      detail: wrong.length
        ? wrong.slice(0, 5).join('; ') + (wrong.length > 5 ? `; ${wrong.length - 5} more` : '')
        : `${Object.keys(m.tables).length} table(s) as in the backup`,
    });
    const amcheck = pgTool('pg_amcheck', major);
    const hasExtension = (await c.query(`SELECT 1 FROM pg_extension WHERE extname = 'amcheck'`)).rowCount === 1;
    if (amcheck && !hasExtension)
      check({
        name: 'pg_amcheck',
        ok: true,
        detail: 'skipped: the amcheck extension is not installed in this database (CREATE EXTENSION amcheck enables it)',
      });
    else if (amcheck) {
      const a = await runTool([amcheck, '--heapallindexed', conn.url], conn.env, { signal: opts.signal, timeoutMs: 60 * 60_000 });
      check({
        name: 'pg_amcheck',
        ok: a.r.exitCode === 0,
        detail: a.r.exitCode === 0 ? 'tables and B-tree indexes consistent' : toolFailure('pg_amcheck', a.r, a.stdout + a.stderr),
      });
    } else check({ name: 'pg_amcheck', ok: true, detail: `not installed for PostgreSQL ${major}: skipped` });
    for (const q of opts.verifyQueries ?? []) {
      try {
        const v = await c.query(q.sql);
        const first = v.rows[0] ? Object.values(v.rows[0] as Record<string, unknown>)[0] : undefined;
        check({
          name: q.name,
          ok: first === true,
          detail: first === true ? 'true' : `returned ${JSON.stringify(first ?? null)}, not true`,
        });
      } catch (e) {
        check({ name: q.name, ok: false, detail: `failed: ${(e as Error).message}` });
      }
    }
    return { manifest: m, ok: checks.every((x) => x.ok), checks, harmless, errors, ms: Date.now() - t0 };
  } finally {
    await c.end().catch(ignoreCleanupError('closing the checking connection after a restore'));
  }
}
