/**
 * `cockpit db backup | backups | restore`: the application database's backups (adapters/pg-backup.ts), on the command
 * line and for the `backup` and `restore` step kinds, which run these with `--json` and read the result line.
 */
import { createInterface } from 'node:readline/promises';
import path from 'node:path';
import { escapeC1, neutralize } from '../core/sanitize.js';
import { describeBackupLine, type BackupLine, type BackupManifest } from '../core/backup.js';
import { appDatabase, type MigrateFlags } from './migrate.js';
import { UsageError, type GlobalOptions, type Workspace } from './setup.js';

export interface DbFlags extends MigrateFlags {
  json?: boolean;
  jobs?: string;
  yes?: boolean;
}

const out = (s: string): void => void process.stdout.write(neutralize(s));
const err = (s: string): void => void process.stderr.write(neutralize(s));

/** Where the backups are: database.backups, else .cockpit/backups in the repository. */
export function backupDir(ws: Workspace): string {
  return path.resolve(ws.repoDir, ws.config.database?.backups ?? path.join('.cockpit', 'backups'));
}

const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;

/** With --json, each event and the result as a JSON line; else in words on stdout. */
function emitter(flags: DbFlags): (e: BackupLine) => void {
  if (flags.json) return (e) => void process.stdout.write(`${escapeC1(JSON.stringify(e))}\n`);
  return (e) => out(`${describeBackupLine(e)}\n`);
}

export async function cmdDbBackup(g: GlobalOptions, flags: DbFlags): Promise<number> {
  const { ws, url } = appDatabase(g, flags, 'back up');
  const { takeBackup } = await import('../adapters/pg-backup.js');
  const emit = emitter(flags);
  const manifest = await takeBackup({ url, dir: backupDir(ws), onEvent: emit });
  emit({ type: 'backup.result', ok: true, manifest });
  if (!flags.json) out(`restore it with: ${ws.command(['db', 'restore', manifest.id, ...(flags.env ? ['--env', flags.env] : [])])}\n`);
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
  const target = b.databaseIdentity(url);
  // `latest` is the newest backup of this database: backups of every environment's database share the folder.
  const manifest = b.findBackup(dir, id, target);
  b.assertSameDatabase(manifest, url);
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
  const r = await b.restoreBackup({
    url: p.url,
    dir: p.dir,
    manifest: p.manifest,
    jobs: p.jobs,
    verifyQueries: p.ws.config.database?.verifyQueries,
    onEvent: emit,
  });
  emit({ type: 'restore.result', ok: r.ok, id: p.manifest.id, checks: r.checks, harmless: r.harmless, ms: r.ms });
  return r.ok ? 0 : 1;
}
