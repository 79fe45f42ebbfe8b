/**
 * What `cockpit db backup|restore --json` tells, typed: each event as one JSON line, the last one the result; the
 * `backup` and `restore` step kinds read them (parseBackupLine), and describeBackupLine words each the same way on
 * the command line and in a step's output.
 */
import { formatDuration } from './duration.js';

export interface BackupManifest {
  /** The backup's id: the UTC time it was taken, `YYYYMMDDTHHMMSSZ`. */
  id: string;
  takenAt: string;
  /** The database it was taken of: `host:port/name`. */
  database: string;
  serverVersion: string;
  /** The dump file's name (beside the manifest), its size in bytes and sha256. */
  file: string;
  size: number;
  sha256: string;
  /** The newest migration applied when it was taken (cockpit's history table), or null. */
  migration: string | null;
  /** The dump's table of contents, counted by kind (TABLE, TABLE DATA, SEQUENCE, INDEX, …). */
  toc: Record<string, number>;
  /** Every table's row count in the dumped snapshot, by `schema.table`. */
  tables: Record<string, number>;
  pgDump: string;
}

export interface IntegrityCheck {
  name: string;
  ok: boolean;
  detail: string;
}

export type BackupEvent =
  | { type: 'backup.snapshot'; database: string; tables: number; rows: number }
  | { type: 'backup.dumped'; file: string; size: number; ms: number }
  | { type: 'restore.checked'; id: string; sha256: string }
  | { type: 'restore.harmless'; message: string }
  | { type: 'restore.restored'; ms: number; jobs: number }
  | ({ type: 'integrity.check' } & IntegrityCheck);

/** The result, written last. */
export type BackupResult =
  | { type: 'backup.result'; ok: true; manifest: BackupManifest }
  | { type: 'restore.result'; ok: boolean; id: string; checks: IntegrityCheck[]; harmless: string[]; ms: number };

export type BackupLine = BackupEvent | BackupResult;

const TYPES = new Set<BackupLine['type']>([
  'backup.snapshot',
  'backup.dumped',
  'restore.checked',
  'restore.harmless',
  'restore.restored',
  'integrity.check',
  'backup.result',
  'restore.result',
]);

/** One line of `db … --json` read back, or null for anything else. */
export function parseBackupLine(line: string): BackupLine | null {
  try {
    const e = JSON.parse(line) as { type?: unknown };
    return e && typeof e === 'object' && TYPES.has(e.type as BackupLine['type']) ? (e as BackupLine) : null;
  } catch {
    return null;
  }
}

const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;

/** A line in words (without its newline). */
export function describeBackupLine(e: BackupLine): string {
  switch (e.type) {
    case 'backup.snapshot':
      return `snapshot of ${e.database}: ${e.tables} table(s), ${e.rows} row(s)`;
    case 'backup.dumped':
      return `dumped to ${e.file} (${mb(e.size)}) in ${formatDuration(e.ms)}`;
    case 'restore.checked':
      return `backup ${e.id}: the dump matches its manifest (sha256 ${e.sha256.slice(0, 16)}…)`;
    case 'restore.harmless':
      return `  tolerated (harmless): ${e.message}`;
    case 'restore.restored':
      return `pg_restore --jobs ${e.jobs} finished in ${formatDuration(e.ms)}; checking integrity`;
    case 'integrity.check':
      return `  ${e.ok ? '✔' : '✖'} ${e.name}: ${e.detail}`;
    case 'backup.result':
      return (
        `backup ${e.manifest.id} taken: ${Object.keys(e.manifest.tables).length} table(s), migration ${e.manifest.migration ?? '(none)'}, ` +
        `sha256 ${e.manifest.sha256.slice(0, 16)}…`
      );
    case 'restore.result':
      return e.ok
        ? `restored backup ${e.id} in ${formatDuration(e.ms)}: integrity verified`
        : `restored backup ${e.id}, but integrity FAILED: ${e.checks
            .filter((c) => !c.ok)
            .map((c) => c.name)
            .join(', ')}`;
  }
}
