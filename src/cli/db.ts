/**
 * `cockpit db backup | backups | restore`: the application database's backups (adapters/pg-backup.ts), on the command
 * line and for the `backup` and `restore` step kinds, which run these with `--json` and read the result line.
 */
import { createInterface } from 'node:readline/promises';
import path from 'node:path';
import { formatDuration } from '../core/duration.js';
import { neutralize } from '../core/sanitize.js';
import type { BackupEvent, BackupManifest, IntegrityCheck } from '../adapters/pg-backup.js';
import { appDatabase, type MigrateFlags } from './migrate.js';
import { UsageError, type GlobalOptions, type Workspace } from './setup.js';

export interface DbFlags extends MigrateFlags {
  json?: boolean;
  jobs?: string;
  yes?: boolean;
}

/** What `--json` writes last: the step kinds read it. */
export type DbResult =
  | { type: 'backup.result'; ok: true; manifest: BackupManifest }
  | { type: 'restore.result'; ok: boolean; id: string; checks: IntegrityCheck[]; harmless: string[]; ms: number };

const out = (s: string): void => void process.stdout.write(neutralize(s));
const err = (s: string): void => void process.stderr.write(neutralize(s));

/** Where the backups are: database.backups, else .cockpit/backups in the repository. */
export function backupDir(ws: Workspace): string {
  return path.resolve(ws.repoDir, ws.config.database?.backups ?? path.join('.cockpit', 'backups'));
}

const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;

function describe(e: BackupEvent): string {
  switch (e.type) {
    case 'backup.snapshot':
      return `snapshot of ${e.database}: ${e.tables} table(s), ${e.rows} row(s)\n`;
    case 'backup.dumped':
      return `dumped to ${e.file} (${mb(e.size)}) in ${formatDuration(e.ms)}\n`;
    case 'restore.checked':
      return `backup ${e.id}: the dump matches its manifest (sha256 ${e.sha256.slice(0, 16)}…)\n`;
    case 'restore.harmless':
      return `  tolerated (harmless): ${e.message}\n`;
    case 'restore.restored':
      return `pg_restore --jobs ${e.jobs} finished in ${formatDuration(e.ms)}; checking integrity\n`;
    case 'integrity.check':
      return `  ${e.ok ? '✔' : '✖'} ${e.name}: ${e.detail}\n`;
  }
}

function emitter(flags: DbFlags): (e: BackupEvent | DbResult) => void {
  if (flags.json) return (e) => void process.stdout.write(`${JSON.stringify(e)}\n`);
  return (e) => {
    // In words; the result line is for --json (the command says its result in a sentence of its own).
    if (e.type === 'backup.result' || e.type === 'restore.result') return;
    out(describe(e));
  };
}

export async function cmdDbBackup(g: GlobalOptions, flags: DbFlags): Promise<number> {
  const { ws, url } = appDatabase(g, flags, 'back up');
  const { takeBackup } = await import('../adapters/pg-backup.js');
  const emit = emitter(flags);
  const manifest = await takeBackup({ url, dir: backupDir(ws), onEvent: emit });
  emit({ type: 'backup.result', ok: true, manifest });
  if (!flags.json)
    out(
      `backup ${manifest.id} taken: ${Object.keys(manifest.tables).length} table(s), migration ${manifest.migration ?? '(none)'}, ` +
        `sha256 ${manifest.sha256.slice(0, 16)}…; restore it with: cockpit db restore ${manifest.id}\n`,
    );
  return 0;
}

export async function cmdDbBackups(g: GlobalOptions, flags: DbFlags): Promise<number> {
  const { Workspace } = await import('./setup.js');
  const ws = new Workspace(g);
  const { listBackups } = await import('../adapters/pg-backup.js');
  const dir = backupDir(ws);
  const all = listBackups(dir);
  if (flags.json) {
    out(`${JSON.stringify(all, null, 2)}\n`);
    return 0;
  }
  if (!all.length) {
    out(`no backups in ${dir}: take one with cockpit db backup\n`);
    return 0;
  }
  for (const b of all)
    out(
      `${b.id}  ${b.database}  ${mb(b.size).padStart(9)}  ${String(Object.keys(b.tables).length).padStart(4)} table(s)  migration ${b.migration ?? '–'}\n`,
    );
  return 0;
}

/** Asks for the database's name, typed, before a restore destroys its data; a terminal only. */
async function confirmRestore(database: string, id: string): Promise<boolean> {
  const name = database.replace(/^.*\//, '');
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    const answer = await rl.question(
      `Restoring backup ${id} replaces every table of ${database} with the backup's: the data written since is lost.\n` +
        `Type the database's name (${name}) to go on: `,
    );
    return answer.trim() === name;
  } finally {
    rl.close();
  }
}

/** A restore ready to run: checked and, in a terminal, confirmed (before anything is recorded or touched). */
export interface PreparedRestore {
  ws: Workspace;
  url: string;
  dir: string;
  manifest: BackupManifest;
  jobs: number;
  flags: DbFlags;
}

/** Checks a restore's input and asks the operator; null when they did not confirm. */
export async function prepareRestore(g: GlobalOptions, id: string, flags: DbFlags): Promise<PreparedRestore | null> {
  const { ws, url } = appDatabase(g, flags, 'restore');
  const jobs = flags.jobs === undefined ? 2 : Number(flags.jobs);
  if (!Number.isInteger(jobs) || jobs < 1 || jobs > 64) throw new UsageError(`--jobs ${flags.jobs}: expected a whole number from 1 to 64`);
  const b = await import('../adapters/pg-backup.js');
  const dir = backupDir(ws);
  const manifest = b.findBackup(dir, id);
  b.assertSameDatabase(manifest, url);
  const target = b.databaseIdentity(url);
  if (!flags.yes) {
    if (!process.stdin.isTTY || !process.stdout.isTTY || flags.json)
      throw new UsageError(`restoring backup ${manifest.id} destroys the current data of ${target}: pass --yes to confirm`);
    if (!(await confirmRestore(target, manifest.id))) {
      err('not restored: the name did not match\n');
      return null;
    }
  }
  return { ws, url, dir, manifest, jobs, flags };
}

export async function runRestore(p: PreparedRestore): Promise<number> {
  const b = await import('../adapters/pg-backup.js');
  const emit = emitter(p.flags);
  const target = b.databaseIdentity(p.url);
  const r = await b.restoreBackup({
    url: p.url,
    dir: p.dir,
    manifest: p.manifest,
    jobs: p.jobs,
    verifyQueries: p.ws.config.database?.verifyQueries,
    onEvent: emit,
  });
  emit({ type: 'restore.result', ok: r.ok, id: p.manifest.id, checks: r.checks, harmless: r.harmless, ms: r.ms });
  if (!p.flags.json)
    out(
      r.ok
        ? `restored backup ${p.manifest.id} over ${target} in ${formatDuration(r.ms)}: integrity verified\n`
        : `restored backup ${p.manifest.id} over ${target}, but integrity FAILED: ${r.checks
            .filter((c) => !c.ok)
            .map((c) => c.name)
            .join(', ')}\n`,
    );
  return r.ok ? 0 : 1;
}
