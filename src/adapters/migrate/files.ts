/**
 * Migrations as files: `<dir>/<YYYYMMDDHHMMSS>_<slug>.sql`, each with a `-- migrate:up` and a `-- migrate:down`
 * section and an optional first-line `-- migrate:no-transaction` directive.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { splitStatements, type SqlStatement } from '../../core/migrate/sql.js';

export type { SqlStatement };

export const DEFAULT_MIGRATIONS_DIR = 'migrations';

export interface Migration {
  /** `YYYYMMDDHHMMSS`, the file name's prefix; orders migrations. */
  id: string;
  /** The slug after the id (`add_users_email`). */
  name: string;
  /** Path of the file, as found (dir joined with the file name). */
  file: string;
  /** sha256 (hex) of the file's bytes. */
  checksum: string;
  /** First line `-- migrate:no-transaction`: each statement runs on its own, without BEGIN/COMMIT. */
  noTransaction: boolean;
  /** Statements of the up section; `line` is the line in the file (1-based). */
  up: SqlStatement[];
  /** Statements of the down section (empty when the section is empty or missing). */
  down: SqlStatement[];
  /** False when the file has no `-- migrate:down` section: it cannot be downgraded. */
  hasDown: boolean;
}

export class MigrationFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MigrationFileError';
  }
}

const FILE_RE = /^(\d{14})_([a-z0-9_]+)\.sql$/;
const UP_RE = /^--\s*migrate:up\s*$/i;
const DOWN_RE = /^--\s*migrate:down\s*$/i;
const NO_TX_RE = /^--\s*migrate:no-transaction\s*$/i;
const DIRECTIVE_RE = /^--\s*migrate:(\S*)/i;

/** Lower-case, `[a-z0-9_]` only, no leading/trailing/double underscores. */
export function slugify(description: string): string {
  return description
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
}

/** `YYYYMMDDHHMMSS` in UTC (so two machines in different zones number migrations the same way). */
export function migrationId(now: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(now.getUTCFullYear(), 4)}${p(now.getUTCMonth() + 1)}${p(now.getUTCDate())}${p(now.getUTCHours())}${p(now.getUTCMinutes())}${p(now.getUTCSeconds())}`;
}

function validTimestamp(id: string): boolean {
  const mo = Number(id.slice(4, 6));
  const d = Number(id.slice(6, 8));
  const h = Number(id.slice(8, 10));
  const mi = Number(id.slice(10, 12));
  const s = Number(id.slice(12, 14));
  return mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && h <= 23 && mi <= 59 && s <= 59;
}

/** Parse one migration file's text. `file` is used in messages (`file:line: …`) and must be named `<id>_<slug>.sql`. */
export function parseMigration(file: string, bytes: Buffer | string): Migration {
  const base = path.basename(file);
  const m = FILE_RE.exec(base);
  if (!m || !validTimestamp(m[1])) {
    throw new MigrationFileError(
      `${file}: bad migration file name '${base}': expected <YYYYMMDDHHMMSS>_<slug>.sql with a valid timestamp and a slug of [a-z0-9_] (e.g. 20240131120000_add_users_email.sql)`,
    );
  }
  const buf = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes;
  const checksum = createHash('sha256').update(buf).digest('hex');
  const text = buf.toString('utf8').replace(/^\uFEFF/, '');
  const lines = text.split(/\r?\n/);

  let upAt = -1;
  let downAt = -1;
  let noTransaction = false;
  lines.forEach((raw, i) => {
    const line = raw.trim();
    const at = `${file}:${i + 1}`;
    if (UP_RE.test(line)) {
      if (upAt >= 0) throw new MigrationFileError(`${at}: a second '-- migrate:up' (the first is on line ${upAt + 1})`);
      if (downAt >= 0) throw new MigrationFileError(`${at}: '-- migrate:up' must come before '-- migrate:down' (line ${downAt + 1})`);
      upAt = i;
    } else if (DOWN_RE.test(line)) {
      if (downAt >= 0) throw new MigrationFileError(`${at}: a second '-- migrate:down' (the first is on line ${downAt + 1})`);
      downAt = i;
    } else if (NO_TX_RE.test(line)) {
      if (i !== 0) throw new MigrationFileError(`${at}: '-- migrate:no-transaction' must be the first line of the file`);
      noTransaction = true;
    } else {
      const d = DIRECTIVE_RE.exec(line);
      if (d) throw new MigrationFileError(`${at}: unknown directive '-- migrate:${d[1]}' (known: up, down, no-transaction)`);
    }
  });
  if (upAt < 0) {
    throw new MigrationFileError(`${file}:1: no '-- migrate:up' section (a migration has '-- migrate:up', then '-- migrate:down')`);
  }
  for (let i = noTransaction ? 1 : 0; i < upAt; i++) {
    const l = lines[i].trim();
    if (l !== '' && !l.startsWith('--')) throw new MigrationFileError(`${file}:${i + 1}: SQL before '-- migrate:up' (line ${upAt + 1}); put it in a section`);
  }
  const end = downAt >= 0 ? downAt : lines.length;
  const up = section(lines, upAt + 1, end);
  const down = downAt >= 0 ? section(lines, downAt + 1, lines.length) : [];
  for (const s of [...up, ...down]) {
    if (TX_CONTROL_RE.test(s.text)) {
      throw new MigrationFileError(
        `${file}:${s.line}: '${s.text.split(/\s+/).slice(0, 2).join(' ')}' — a migration must not control transactions itself: ` +
          (noTransaction
            ? 'split it into separate migrations (a transactional one for the statements that belong together)'
            : 'each migration already runs in its own transaction; for statements that cannot, use a separate file starting with -- migrate:no-transaction'),
      );
    }
  }
  return { id: m[1], name: m[2], file, checksum, noTransaction, up, down, hasDown: downAt >= 0 };
}

/** BEGIN / START TRANSACTION / COMMIT / END / ROLLBACK (not ROLLBACK TO SAVEPOINT) / ABORT as a statement. */
const TX_CONTROL_RE = /^(?:begin|start\s+transaction|commit|end|abort|rollback(?!\s+(?:work\s+|transaction\s+)?to\b))\b/i;

/**
 * The statements of lines [from, to). Lines outside the section are blanked (not removed), so the splitter's line
 * numbers are the file's own.
 */
function section(lines: string[], from: number, to: number): SqlStatement[] {
  const masked = lines.map((l, i) => (i >= from && i < to ? l : '')).join('\n');
  return splitStatements(masked);
}

/** Every `*.sql` migration in `dir`, sorted by id. A missing folder has none. Bad names and duplicate ids are errors. */
export function loadMigrations(dir: string = DEFAULT_MIGRATIONS_DIR): Migration[] {
  if (!existsSync(dir)) return [];
  const names = readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.sql'))
    .map((e) => e.name)
    .sort();
  const byId = new Map<string, Migration>();
  for (const n of names) {
    const file = path.join(dir, n);
    const mig = parseMigration(file, readFileSync(file));
    const other = byId.get(mig.id);
    if (other) throw new MigrationFileError(`${file}: duplicate migration id ${mig.id} (also ${other.file}); ids must be unique — rename one of them`);
    byId.set(mig.id, mig);
  }
  return [...byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** The text of a new migration file. */
export function migrationTemplate(description: string, noTransaction = false): string {
  return [
    ...(noTransaction ? ['-- migrate:no-transaction'] : []),
    `-- ${description.replace(/\r?\n/g, ' ')}`,
    '--',
    noTransaction
      ? '-- no-transaction: each statement runs on its own, without BEGIN/COMMIT; if one fails, the ones before it stay applied.'
      : '-- Runs in one transaction: if any statement fails, none of it is applied.',
    '-- Zero-downtime: CREATE INDEX CONCURRENTLY needs `-- migrate:no-transaction` as the first line; add NOT NULL',
    '-- and foreign keys as NOT VALID, then VALIDATE in a later migration; backfill large tables in batches, not here.',
    '',
    '-- migrate:up',
    '',
    '',
    '-- migrate:down',
    '-- Undo everything the up section did, in reverse order.',
    '',
    '',
  ].join('\n');
}

/**
 * Write a new migration `<dir>/<id>_<slug>.sql` (id = `now` in UTC) with both sections and a comment template;
 * returns its path. Refuses an empty slug, an id already used in `dir`, and never overwrites a file.
 */
export function createMigration(dir: string, description: string, now: Date, opts: { noTransaction?: boolean } = {}): string {
  const slug = slugify(description);
  if (!slug) throw new MigrationFileError(`cannot make a migration name from '${description}': use letters or digits`);
  const id = migrationId(now);
  mkdirSync(dir, { recursive: true });
  const taken = readdirSync(dir).find((n) => n.startsWith(`${id}_`) && n.endsWith('.sql'));
  if (taken) throw new MigrationFileError(`${path.join(dir, taken)}: a migration with id ${id} already exists; wait a second and try again`);
  const file = path.join(dir, `${id}_${slug}.sql`);
  writeFileSync(file, migrationTemplate(description, opts.noTransaction), { flag: 'wx' });
  return file;
}
