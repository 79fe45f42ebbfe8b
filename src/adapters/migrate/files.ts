/**
 * Migrations as files in one folder, named `<YYYYMMDDHHMMSS>_<slug>.<ext>`:
 *
 * - `.sql`: a `-- migrate:up` and a `-- migrate:down` section and an optional first-line
 *   `-- migrate:no-transaction` directive.
 * - `.ts`, `.mts`, `.js`, `.mjs`: a module exporting `upgrade(m)` and `downgrade(m)` (and optionally
 *   `noTransaction = true`) that record their SQL with a builder (src/migrate-api.ts; modules.ts compiles and runs
 *   them). Each function is run once at load time: its recorded statements become `up`/`down`, exactly like a .sql
 *   file's sections — unless it reads the database (`m.query`) to build them: then that direction is `dynamic`,
 *   its statements only known when it runs.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { splitStatements, type SqlStatement } from '../../core/migrate/sql.js';
import { importModule, ModuleError, record, txControlProblem, type LoadedModule } from './modules.js';
import { UsageError } from '../../core/errors.js';
import { noDownReason, type MigrationDef } from '../../core/migrate/plan.js';

export { noDownReason };

export type { SqlStatement };

export const DEFAULT_MIGRATIONS_DIR = 'migrations';

/** A migration as loaded: its definition (core/migrate/plan.ts), and a module migration's functions. */
export interface Migration extends MigrationDef {
  /** A module migration's functions (run with a live builder for a dynamic direction). */
  module?: LoadedModule;
}

/** A migration file that cannot be read (bad name, syntax error, a module that throws): bad input, exit 2. */
export class MigrationFileError extends UsageError {}

const FILE_RE = /^(\d{14})_([a-z0-9_]+)\.(sql|ts|mts|js|mjs)$/;
/** Extensions of module migrations. */
export const MODULE_EXTENSIONS = ['.ts', '.mts', '.js', '.mjs'];
const isMigrationFile = (n: string) =>
  !n.startsWith('.') && (n.endsWith('.sql') || (MODULE_EXTENSIONS.some((e) => n.endsWith(e)) && !/\.d\.m?ts$/.test(n)));
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

/** The id, slug and extension of a migration file's name; a MigrationFileError for a bad one. */
function nameOf(file: string): { id: string; name: string; ext: string } {
  const base = path.basename(file);
  const m = FILE_RE.exec(base);
  if (!m || !validTimestamp(m[1])) {
    throw new MigrationFileError(
      `${file}: bad migration file name '${base}': expected <YYYYMMDDHHMMSS>_<slug>.sql (or .ts, .mts, .js, .mjs) with a valid timestamp and a slug of [a-z0-9_] (e.g. 20240131120000_add_users_email.sql); ` +
        'a helper module belongs in a subfolder',
    );
  }
  return { id: m[1], name: m[2], ext: m[3] };
}

const sha256 = (buf: Buffer) => createHash('sha256').update(buf).digest('hex');

/** Parse one .sql migration file's text. `file` is used in messages (`file:line: …`) and must be named `<id>_<slug>.sql`. */
export function parseMigration(file: string, bytes: Buffer | string): Migration {
  const m = nameOf(file);
  if (m.ext !== 'sql') throw new MigrationFileError(`${file}: a ${m.ext} migration is a module: load it with loadMigration()`);
  const buf = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes;
  const checksum = sha256(buf);
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
    if (l !== '' && !l.startsWith('--'))
      throw new MigrationFileError(`${file}:${i + 1}: SQL before '-- migrate:up' (line ${upAt + 1}); put it in a section`);
  }
  const end = downAt >= 0 ? downAt : lines.length;
  const up = section(lines, upAt + 1, end);
  const down = downAt >= 0 ? section(lines, downAt + 1, lines.length) : [];
  checkTxControl(file, [...up, ...down], noTransaction, 'sql');
  return { id: m.id, name: m.name, file, kind: 'sql', checksum, noTransaction, up, down, hasDown: downAt >= 0, dynamic: {} };
}

function checkTxControl(file: string, stmts: SqlStatement[], noTransaction: boolean, how: 'sql' | 'module'): void {
  for (const s of stmts) {
    const problem = txControlProblem(s.text, noTransaction, how);
    if (problem) throw new MigrationFileError(`${s.line ? `${file}:${s.line}` : file}: ${problem}`);
  }
}

/**
 * Load one migration file: a .sql file is parsed; a module is compiled, imported, and its upgrade()/downgrade()
 * run with a recording builder (modules.ts). Errors name the file (and the line when known).
 */
export async function loadMigration(file: string): Promise<Migration> {
  const n = nameOf(file);
  const bytes = readFileSync(file);
  if (n.ext === 'sql') return parseMigration(file, bytes);
  try {
    const checksum = sha256(bytes);
    const mod = await importModule(file, checksum);
    const up = await record(mod.upgrade, 'up', file, mod);
    const down = mod.downgrade ? await record(mod.downgrade, 'down', file, mod) : { statements: [] };
    const upStmts = 'statements' in up ? up.statements : [];
    const downStmts = 'statements' in down ? down.statements : [];
    checkTxControl(file, [...upStmts, ...downStmts], mod.noTransaction, 'module');
    return {
      id: n.id,
      name: n.name,
      file,
      kind: 'module',
      checksum,
      noTransaction: mod.noTransaction,
      up: upStmts,
      down: downStmts,
      hasDown: !!mod.downgrade,
      dynamic: { ...('dynamic' in up ? { up: up.dynamic } : {}), ...('dynamic' in down ? { down: down.dynamic } : {}) },
      module: mod,
    };
  } catch (e) {
    if (e instanceof ModuleError) throw new MigrationFileError(e.message);
    throw e;
  }
}

/**
 * The statements of lines [from, to). Lines outside the section are blanked (not removed), so the splitter's line
 * numbers are the file's own.
 */
function section(lines: string[], from: number, to: number): SqlStatement[] {
  const masked = lines.map((l, i) => (i >= from && i < to ? l : '')).join('\n');
  return splitStatements(masked);
}

/**
 * Every migration in `dir` (`*.sql` files and `.ts`/`.mts`/`.js`/`.mjs` modules; `.d.ts` files and subfolders are
 * not migrations), sorted by id. A missing folder has none. Bad names and duplicate ids are errors.
 */
export async function loadMigrations(dir: string = DEFAULT_MIGRATIONS_DIR): Promise<Migration[]> {
  return (await loadFolder(dir, false)).migrations;
}

/** A migration file that could not be loaded, and why (the MigrationFileError's message). */
export interface UnloadableFile {
  file: string;
  reason: string;
}

/**
 * As loadMigrations, but a file that cannot be loaded (bad name, bad section, a module that throws, a duplicate id,
 * an unreadable file)
 * does not stop the others: it is returned in `unloadable`. For lint, which should check what it can; upgrade and
 * downgrade keep the strict loader (they must not run with a migration missing).
 */
export async function loadMigrationsTolerant(
  dir: string = DEFAULT_MIGRATIONS_DIR,
): Promise<{ migrations: Migration[]; unloadable: UnloadableFile[] }> {
  return loadFolder(dir, true);
}

async function loadFolder(dir: string, tolerant: boolean): Promise<{ migrations: Migration[]; unloadable: UnloadableFile[] }> {
  const unloadable: UnloadableFile[] = [];
  if (!existsSync(dir)) return { migrations: [], unloadable };
  const names = readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile() && isMigrationFile(e.name))
    .map((e) => e.name)
    .sort();
  const byId = new Map<string, Migration>();
  for (const n of names) {
    const file = path.join(dir, n);
    try {
      const mig = await loadMigration(file);
      const other = byId.get(mig.id);
      if (other)
        throw new MigrationFileError(
          `${file}: duplicate migration id ${mig.id} (also ${other.file}); ids must be unique — rename one of them`,
        );
      byId.set(mig.id, mig);
    } catch (e) {
      if (!tolerant) throw e;
      // A MigrationFileError names the file already; anything else (e.g. EACCES from reading it) is named here.
      unloadable.push({
        file,
        reason: e instanceof MigrationFileError ? e.message : `${file}: ${e instanceof Error ? e.message : String(e)}`,
      });
    }
  }
  const migrations = [...byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { migrations, unloadable };
}

/**
 * Why `text`, the file of migration `m`, does not look made by `cockpit migrate create`, or null when it does: the
 * tool writes the description as the file's first comment line (after a `-- migrate:no-transaction` directive),
 * and the file's name is that description's slug after the timestamped id. A file written by hand has no such line;
 * a file renamed or copied after it was made has one whose slug is not its name.
 */
export function toolHeaderProblem(
  m: Pick<MigrationDef, 'id' | 'name' | 'kind'>,
  text: string,
): { rule: 'no-header' | 'header-mismatch'; message: string } | null {
  const marker = m.kind === 'sql' ? '--' : '//';
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const first = lines[0]?.trim() ?? '';
  const header = m.kind === 'sql' && NO_TX_RE.test(first) ? (lines[1]?.trim() ?? '') : first;
  const said = header.startsWith(marker) ? header.slice(marker.length).trim() : '';
  if (!said || DIRECTIVE_RE.test(header))
    return {
      rule: 'no-header',
      message: `no header: its first line is ${header ? `'${header.slice(0, 60)}'` : 'empty'}, where cockpit migrate create writes the description (${marker} <description>)`,
    };
  if (slugify(said) !== m.name)
    return {
      rule: 'header-mismatch',
      message: `its header says '${said.slice(0, 80)}', which cockpit migrate create would name ${m.id}_${slugify(said) || '?'}, not ${m.id}_${m.name}: renamed or copied after it was made`,
    };
  return null;
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

export type MigrationFormat = 'sql' | 'ts' | 'js';

/** The text of a new TypeScript (`ts`) or JavaScript (`js`) migration module. */
export function moduleTemplate(description: string, format: 'ts' | 'js', noTransaction = false): string {
  const ts = format === 'ts';
  const fn = (name: string, body: string[]) =>
    ts
      ? [`export async function ${name}(m: MigrationBuilder): Promise<void> {`, ...body, '}']
      : ['/** @param {MigrationBuilder} m */', `export async function ${name}(m) {`, ...body, '}'];
  return [
    `// ${description.replace(/\r?\n/g, ' ')}`,
    '//',
    noTransaction
      ? '// noTransaction: each statement runs on its own, without BEGIN/COMMIT; if one fails, the ones before it stay applied.'
      : '// Runs in one transaction: if any statement fails, none of it is applied.',
    '//',
    '// m.sql(text, values?) records SQL to run: one or more statements; $1, $2… are replaced by `values`, quoted.',
    "//   m.sql('ALTER TABLE listings ADD COLUMN note text');",
    '// m.query(text, values?) READS the database now and returns its rows, to build statements from data:',
    ts
      ? "//   for (const t of await m.query<{ id: number }>('SELECT id FROM tenants')) m.sql('INSERT INTO quotas (tenant_id) VALUES ($1)', [t.id]);"
      : "//   for (const t of await m.query('SELECT id FROM tenants')) m.sql('INSERT INTO quotas (tenant_id) VALUES ($1)', [t.id]);",
    '// A migration that calls m.query depends on the data: `cockpit migrate upgrade --sql` cannot show its statements and',
    '// lint cannot check them. Use m.sql alone where you can (INSERT … SELECT, UPDATE … FROM do the work in the database).',
    '// Zero-downtime: CREATE INDEX CONCURRENTLY needs `export const noTransaction = true`; add NOT NULL and foreign keys',
    '// as NOT VALID, then VALIDATE in a later migration; backfill large tables in batches (cockpit migrate backfill).',
    '//',
    '// The type import below is for your editor (release-cockpit installed in this project); the cockpit erases it.',
    ts
      ? "import type { MigrationBuilder } from 'release-cockpit/migrate.js';"
      : "/** @typedef {import('release-cockpit/migrate.js').MigrationBuilder} MigrationBuilder */",
    '',
    ...(noTransaction ? ['export const noTransaction = true;', ''] : []),
    ...fn('upgrade', ['']),
    '',
    ...fn('downgrade', ['  // Undo everything upgrade() did, in reverse order.']),
    '',
  ].join('\n');
}

/**
 * Write a new migration `<dir>/<id>_<slug>.<sql|ts|js>` (id = `now` in UTC): a .sql file with both sections, or a
 * module with upgrade(m) and downgrade(m), and a comment template; returns its path. Refuses an empty slug, an id
 * already used in `dir`, and never overwrites a file.
 */
export function createMigration(
  dir: string,
  description: string,
  now: Date,
  opts: { noTransaction?: boolean; format?: MigrationFormat } = {},
): string {
  const slug = slugify(description);
  if (!slug) throw new MigrationFileError(`cannot make a migration name from '${description}': use letters or digits`);
  const format = opts.format ?? 'sql';
  const id = migrationId(now);
  mkdirSync(dir, { recursive: true });
  const taken = readdirSync(dir).find((n) => n.startsWith(`${id}_`) && isMigrationFile(n));
  if (taken)
    throw new MigrationFileError(`${path.join(dir, taken)}: a migration with id ${id} already exists; wait a second and try again`);
  const file = path.join(dir, `${id}_${slug}.${format}`);
  writeFileSync(
    file,
    format === 'sql' ? migrationTemplate(description, opts.noTransaction) : moduleTemplate(description, format, opts.noTransaction),
    { flag: 'wx' },
  );
  return file;
}
