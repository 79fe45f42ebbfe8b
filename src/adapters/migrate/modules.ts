/**
 * TypeScript/JavaScript migrations (`<id>_<slug>.ts|.mts|.js|.mjs`): compiling, importing, and running their
 * `upgrade(m)`/`downgrade(m)` with a builder (the API is src/migrate-api.ts).
 *
 * - Compiling: esbuild bundles the file (its relative imports and packages included, Node's built-ins left out)
 *   into one ES module, written to a cache folder under a name that is the hash of the output, then `import()`ed.
 *   The same output is the same file (and, within a process, the same module); a changed file or a changed helper
 *   it imports is a new one. `import.meta.url`/`dirname`/`filename` are the source file's, and `require` resolves
 *   from it. Within a process a module is compiled again only when its file's checksum, or the size or mtime of
 *   a file it imports, changed (a run loads the migrations several times: verify, for one, on every step).
 * - Recording (at load time): each function runs once with a builder that only records `m.sql`. A function that
 *   calls `m.query` needs the database to build its SQL: recording stops there and that direction is *dynamic*
 *   (its statements are only known when it runs).
 * - Running a dynamic direction (runLive): `m.sql` statements are queued and sent, in order, before each
 *   `m.query` and when the function returns, so a read sees the writes before it.
 *
 * Lines: a recorded statement's line is that of the `m.sql(…)` call in the source (through esbuild's source map),
 * plus the statement's line inside the text; an error's line is that of its first stack frame in the source.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { splitStatements, tokenize, type SqlStatement } from '../../core/migrate/sql.js';
import type { MigrationBuilder, MigrationFunction, Row, SqlValue } from '../../migrate-api.js';
import { UsageError } from '../../core/errors.js';

export type { MigrationBuilder, MigrationFunction, Row, SqlValue };

/** A problem with a module migration; the message starts with `file:line:` (or `file:` when the line is unknown). */
export class ModuleError extends UsageError {}

/** A module migration, imported. */
export interface LoadedModule {
  upgrade: MigrationFunction;
  downgrade?: MigrationFunction;
  noTransaction: boolean;
  /** The 1-based line in the source file of the first stack frame of `stack` that is in it (0: none). */
  locate(stack: string | undefined): number;
}

export type Direction = 'up' | 'down';

const fnName = (d: Direction) => (d === 'up' ? 'upgrade' : 'downgrade');

// ───────────────────────────── SQL values ─────────────────────────────

/** Fully reserved PostgreSQL key words (and those reserved except as function or type names): quoted by sqlIdent. */
const RESERVED = new Set(
  (
    'all analyse analyze and any array as asc asymmetric authorization binary both case cast check collate collation column ' +
    'concurrently constraint create cross current_catalog current_date current_role current_schema current_time ' +
    'current_timestamp current_user default deferrable desc distinct do else end except false fetch for foreign freeze ' +
    'from full grant group having ilike in initially inner intersect into is isnull join lateral leading left like limit ' +
    'localtime localtimestamp natural not notnull null offset on only or order outer overlaps placing primary references ' +
    'returning right select session_user similar some symmetric system_user table tablesample then to trailing true union ' +
    'unique user using variadic verbose when where window with'
  ).split(' '),
);

/** `name` as an SQL identifier: bare when it is a plain lower-case name that is not reserved, else double-quoted. */
export function sqlIdent(name: string): string {
  if (typeof name !== 'string' || name === '') throw new TypeError(`m.ident() needs a non-empty name, not ${show(name)}`);
  if (name.includes('\0')) throw new TypeError('m.ident(): a name cannot contain a NUL character');
  return /^[a-z_][a-z0-9_$]*$/.test(name) && !RESERVED.has(name) ? name : `"${name.replace(/"/g, '""')}"`;
}

const quoteText = (s: string): string => {
  if (s.includes('\0')) throw new TypeError('m.literal(): text cannot contain a NUL character');
  // E'…' with doubled backslashes reads the same whatever standard_conforming_strings says.
  return s.includes('\\') ? `E'${s.replace(/\\/g, '\\\\').replace(/'/g, "''")}'` : `'${s.replace(/'/g, "''")}'`;
};

/** An element of a PostgreSQL array literal (`{…}`). */
function arrayElement(v: unknown): string {
  if (v === null || v === undefined) return 'NULL';
  if (Array.isArray(v)) return `{${v.map(arrayElement).join(',')}}`;
  const s = v instanceof Date ? v.toISOString() : typeof v === 'object' ? JSON.stringify(v) : String(v);
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/**
 * `value` as an SQL literal: NULL, a number (negative ones in parentheses, so `x - $1` never becomes a `--`
 * comment), TRUE/FALSE, a quoted string, a Date as its ISO text, a Buffer as bytea hex, an array as a PostgreSQL
 * array literal, any other object as JSON text.
 */
export function sqlLiteral(value: SqlValue): string {
  const v: unknown = value;
  if (v === null || v === undefined) return 'NULL';
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return `'${Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity'}'`;
    return v < 0 || Object.is(v, -0) ? `(${v})` : String(v);
  }
  if (typeof v === 'bigint') return v < 0n ? `(${v})` : String(v);
  if (typeof v === 'boolean') return v ? 'TRUE' : 'FALSE';
  if (typeof v === 'string') return quoteText(v);
  if (v instanceof Date) {
    if (Number.isNaN(v.getTime())) throw new TypeError('m.literal(): an invalid Date');
    return `'${v.toISOString()}'`;
  }
  if (Buffer.isBuffer(v)) return `'\\x${v.toString('hex')}'`;
  if (Array.isArray(v)) return quoteText(`{${v.map(arrayElement).join(',')}}`);
  if (typeof v === 'object') return quoteText(JSON.stringify(v));
  throw new TypeError(`m.literal(): cannot make an SQL literal of ${show(v)}`);
}

/** `text` with each `$n` outside quotes and comments replaced by `sqlLiteral(values[n-1])`. */
export function inlineValues(text: string, values: readonly SqlValue[]): string {
  let out = '';
  let at = 0;
  for (const t of tokenize(text)) {
    if (t.kind !== 'param') continue;
    const n = Number(t.raw.slice(1));
    if (n < 1 || n > values.length) throw new TypeError(`m.sql(): ${t.raw} has no value (${values.length} value(s) given)`);
    out += text.slice(at, t.start) + sqlLiteral(values[n - 1]);
    at = t.end;
  }
  return out + text.slice(at);
}

function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? `${v.slice(0, 60)}…` : v);
  if (typeof v === 'function') return 'a function';
  if (v === null) return 'null';
  return typeof v === 'object' ? (Array.isArray(v) ? 'an array' : 'an object') : `${typeof v} ${String(v)}`;
}

// ───────────────────────────── transactions ─────────────────────────────

/** BEGIN / START TRANSACTION / COMMIT / END / ROLLBACK (not ROLLBACK TO SAVEPOINT) / ABORT as a statement. */
const TX_CONTROL_RE = /^(?:begin|start\s+transaction|commit|end|abort|rollback(?!\s+(?:work\s+|transaction\s+)?to\b))\b/i;

/** Why `stmt` may not be in a migration (it controls the transaction itself), or null. */
export function txControlProblem(stmt: string, noTransaction: boolean, how: 'sql' | 'module'): string | null {
  if (!TX_CONTROL_RE.test(stmt)) return null;
  const opt =
    how === 'sql' ? 'a separate file starting with -- migrate:no-transaction' : 'a separate migration exporting `noTransaction = true`';
  return (
    `'${stmt.split(/\s+/).slice(0, 2).join(' ')}' — a migration must not control transactions itself: ` +
    (noTransaction
      ? 'split it into separate migrations (a transactional one for the statements that belong together)'
      : `each migration already runs in its own transaction; for statements that cannot, use ${opt}`)
  );
}

// ───────────────────────────── builders ─────────────────────────────

/** The statements of one `m.sql(text, values)` call made at source line `line` (0: unknown). */
function statementsOf(text: unknown, values: readonly SqlValue[] | undefined, line: number): SqlStatement[] {
  if (typeof text !== 'string') throw new TypeError(`m.sql() takes SQL text, not ${show(text)}`);
  if (values !== undefined && !Array.isArray(values))
    throw new TypeError(`m.sql(text, values): values must be an array, not ${show(values)}`);
  const full = values ? inlineValues(text, values) : text;
  return splitStatements(full).map((s) => ({ text: s.text, line: line ? line + s.line - 1 : 0 }));
}

/** Thrown by the recording builder's `query`: the function needs the database. */
class NeedsDatabase extends Error {
  constructor() {
    super('m.query() reads the database: this migration builds its SQL from data, so it is only known when it runs');
    this.name = 'NeedsDatabase';
  }
}

const late = (what: string, d: Direction) =>
  new Error(`m.${what}() was called after ${fnName(d)}() had finished (a missing await?): nothing after that is run`);

export type Recorded = { statements: SqlStatement[] } | { dynamic: { line: number } };

/**
 * Run `fn` with a recording builder. Its statements, or — when it calls `m.query` (even if it catches what that
 * throws) — `dynamic` with the line of that first call. Anything else it throws is a ModuleError.
 */
export async function record(fn: MigrationFunction, d: Direction, file: string, mod: Pick<LoadedModule, 'locate'>): Promise<Recorded> {
  const statements: SqlStatement[] = [];
  let queried: number | null = null;
  let open = true;
  const b: MigrationBuilder = {
    sql(text, values) {
      if (!open) throw late('sql', d);
      statements.push(...statementsOf(text, values, mod.locate(new Error().stack)));
    },
    query() {
      if (!open) throw late('query', d);
      queried ??= mod.locate(new Error().stack);
      throw new NeedsDatabase();
    },
    literal: sqlLiteral,
    ident: sqlIdent,
  };
  try {
    await fn(b);
  } catch (e) {
    if (queried === null) throw new ModuleError(`${at(file, mod.locate(stackOf(e)))} ${fnName(d)}() failed: ${errorText(e)}`);
  } finally {
    open = false;
  }
  return queried !== null ? { dynamic: { line: queried } } : { statements };
}

/** What runLive needs from the runner: send one statement (recorded and numbered there), and read. */
export interface LiveHooks {
  exec(stmt: SqlStatement): Promise<void>;
  read(text: string, values: readonly SqlValue[] | undefined): Promise<Row[]>;
}

/**
 * Run `fn` against the database: `m.sql` queues statements, which are sent in order (through `hooks.exec`) before
 * each `m.query` and after `fn` returns. Rejects with what `fn` or a statement threw.
 */
export async function runLive(
  fn: MigrationFunction,
  d: Direction,
  mod: Pick<LoadedModule, 'locate'>,
  noTransaction: boolean,
  hooks: LiveHooks,
): Promise<void> {
  const queue: SqlStatement[] = [];
  let open = true;
  let reading = 0;
  const flush = async () => {
    while (queue.length) await hooks.exec(queue.shift()!);
  };
  const b: MigrationBuilder = {
    sql(text, values) {
      if (!open) throw late('sql', d);
      const stmts = statementsOf(text, values, mod.locate(new Error().stack));
      for (const s of stmts) {
        const problem = txControlProblem(s.text, noTransaction, 'module');
        if (problem) throw new Error(problem);
      }
      queue.push(...stmts);
    },
    async query<R extends Row = Row>(text: string, values?: readonly SqlValue[]): Promise<R[]> {
      if (!open) throw late('query', d);
      if (typeof text !== 'string') throw new TypeError(`m.query() takes SQL text, not ${show(text)}`);
      reading++;
      try {
        await flush();
        return (await hooks.read(text, values)) as R[];
      } finally {
        reading--;
      }
    },
    literal: sqlLiteral,
    ident: sqlIdent,
  };
  try {
    await fn(b);
    if (reading) throw new Error(`${fnName(d)}() returned while an m.query() was still running (a missing await?)`);
  } finally {
    open = false;
  }
  await flush();
}

// ───────────────────────────── errors and lines ─────────────────────────────

const stackOf = (e: unknown): string | undefined => (e instanceof Error ? e.stack : undefined);

export function errorText(e: unknown): string {
  if (e instanceof Error) return `${e.name && e.name !== 'Error' ? `${e.name}: ` : ''}${e.message}`;
  return String(e);
}

const at = (file: string, line: number) => (line ? `${file}:${line}:` : `${file}:`);

function locator(compiledFile: string, map: SourceMap | null, source: string): (stack: string | undefined) => number {
  const href = pathToFileURL(compiledFile).href;
  const dir = path.dirname(compiledFile);
  const isSource = (s: string) => (s.startsWith('file:') ? s === pathToFileURL(source).href : path.resolve(dir, s) === source);
  return (stack) => {
    if (!map || !stack) return 0;
    for (const frame of stack.split('\n')) {
      let i = frame.indexOf(href);
      let len = href.length;
      if (i < 0) {
        i = frame.indexOf(compiledFile);
        len = compiledFile.length;
      }
      if (i < 0) continue;
      const pos = /^:(\d+):(\d+)/.exec(frame.slice(i + len));
      if (!pos) continue;
      const e = map.findEntry(Number(pos[1]) - 1, Number(pos[2]) - 1) as { originalSource?: string; originalLine?: number };
      if (e.originalSource !== undefined && e.originalLine !== undefined && isSource(e.originalSource)) return e.originalLine + 1;
    }
    return 0;
  };
}

// ───────────────────────────── compiling and importing ─────────────────────────────

type Esbuild = typeof import('esbuild');
let esbuildModule: Promise<Esbuild> | null = null;

/**
 * esbuild, from node_modules, loaded only when a module migration is compiled. It is external to the cockpit's own
 * bundle (scripts/build.mjs): its JS API runs its native binary from its package folder and cannot be bundled.
 */
function loadEsbuild(): Promise<Esbuild> {
  esbuildModule ??= (import('esbuild') as Promise<Esbuild & { default?: Esbuild }>).then((m) => m.default ?? m);
  return esbuildModule;
}

/** $XDG_CACHE_HOME/release-cockpit/migrations (else ~/.cache/…); a private folder under the temp dir when that cannot be made. */
function cacheDir(): string {
  const home = path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'release-cockpit', 'migrations');
  try {
    mkdirSync(home, { recursive: true, mode: 0o700 });
    return home;
  } catch {
    const tmp = path.join(os.tmpdir(), `release-cockpit-${os.userInfo().uid}`, 'migrations');
    mkdirSync(tmp, { recursive: true, mode: 0o700 });
    return tmp;
  }
}

/** Write `text` to `file` unless it already holds exactly that (atomically: a reader never sees half a file). */
function writeOnce(file: string, text: string): void {
  if (existsSync(file)) {
    try {
      if (readFileSync(file, 'utf8') === text) return;
    } catch {
      // unreadable: write it anew
    }
  }
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  writeFileSync(tmp, text, { mode: 0o600 });
  renameSync(tmp, file);
}

const KNOWN_EXPORTS = new Set(['upgrade', 'downgrade', 'noTransaction']);

/** Modules imported by this process, by source path: reused while `stamp` is unchanged. */
const imported = new Map<string, { stamp: string; others: string[]; mod: LoadedModule }>();

/** The entry's checksum, then the size and mtime of every other file it bundles (null: one is gone). */
function stampOf(checksum: string, others: string[]): string | null {
  try {
    const stats = others.map((f) => {
      const st = statSync(f);
      return `${f}:${st.size}:${st.mtimeMs}`;
    });
    return [checksum, ...stats].join('\n');
  } catch {
    return null;
  }
}

/**
 * Compile and import the module migration `file` (shown in messages as given; `checksum`: of its bytes). Throws
 * ModuleError for a file that does not compile, throws while loading, or does not export what a migration exports.
 */
export async function importModule(file: string, checksum: string): Promise<LoadedModule> {
  const source = path.resolve(file);
  const seen = imported.get(source);
  if (seen && stampOf(checksum, seen.others) === seen.stamp) return seen.mod;
  const mod = await compileAndImport(file, source);
  const stamp = stampOf(checksum, mod.others);
  if (stamp !== null) imported.set(source, { stamp, others: mod.others, mod: mod.mod });
  return mod.mod;
}

async function compileAndImport(file: string, source: string): Promise<{ mod: LoadedModule; others: string[] }> {
  const es = await loadEsbuild();
  const dir = cacheDir();
  let built: Awaited<ReturnType<Esbuild['build']>>;
  try {
    built = await es.build({
      entryPoints: [source],
      absWorkingDir: path.dirname(source),
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      write: false,
      outfile: path.join(dir, 'migration.mjs'), // names the output only (write: false)
      sourcemap: 'external',
      sourcesContent: false,
      metafile: true,
      logLevel: 'silent',
      define: {
        'import.meta.url': JSON.stringify(pathToFileURL(source).href),
        'import.meta.filename': JSON.stringify(source),
        'import.meta.dirname': JSON.stringify(path.dirname(source)),
      },
      banner: {
        js: `import { createRequire as __cockpitCreateRequire } from 'node:module'; const require = __cockpitCreateRequire(${JSON.stringify(source)});`,
      },
    });
  } catch (e) {
    const errors = (e as { errors?: Array<{ text: string; location?: { file: string; line: number; column: number } | null }> }).errors;
    if (!errors?.length) throw new ModuleError(`${file}: cannot compile it: ${errorText(e)}`);
    const lines = errors.slice(0, 5).map((m) => {
      const loc = m.location;
      if (!loc) return `${file}: ${m.text}`;
      const where = path.resolve(path.dirname(source), loc.file) === source ? file : loc.file;
      return `${where}:${loc.line}:${loc.column + 1}: ${m.text}`;
    });
    throw new ModuleError(`${lines.join('\n')}${errors.length > 5 ? `\n… and ${errors.length - 5} more error(s)` : ''}`);
  }
  const outputs = built.outputFiles ?? [];
  const js = outputs.find((f) => f.path.endsWith('.mjs'))?.text;
  if (js === undefined) throw new ModuleError(`${file}: cannot compile it: esbuild gave no output`);
  const mapText = outputs.find((f) => f.path.endsWith('.map'))?.text;
  const hash = createHash('sha256').update(js).digest('hex').slice(0, 32);
  const compiled = path.join(dir, `${hash}.mjs`);
  writeOnce(compiled, js);
  let map: SourceMap | null = null;
  try {
    map = mapText ? new SourceMap(JSON.parse(mapText)) : null;
  } catch {
    map = null;
  }
  const locate = locator(compiled, map, source);
  const others = Object.keys(built.metafile?.inputs ?? {})
    .map((p) => path.resolve(path.dirname(source), p))
    .filter((p) => p !== source && existsSync(p));

  let ns: Record<string, unknown>;
  try {
    ns = (await import(pathToFileURL(compiled).href)) as Record<string, unknown>;
  } catch (e) {
    throw new ModuleError(`${at(file, locate(stackOf(e)))} loading it failed: ${errorText(e)}`);
  }
  const unknown = Object.keys(ns).filter((k) => !KNOWN_EXPORTS.has(k));
  if (unknown.length) {
    throw new ModuleError(
      `${file}: unknown export${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `'${k}'`).join(', ')}: a migration module exports upgrade(m), downgrade(m) and optionally noTransaction = true` +
        (unknown.includes('default') ? ' as named exports (not a default export)' : '') +
        '; put helpers in a module of their own (e.g. in a subfolder) and import them',
    );
  }
  if (typeof ns.upgrade !== 'function') {
    throw new ModuleError(
      `${file}: ${ns.upgrade === undefined ? 'no upgrade() export' : `its upgrade export is ${show(ns.upgrade)}, not a function`}: a migration module exports function upgrade(m) (and downgrade(m))`,
    );
  }
  if (ns.downgrade !== undefined && typeof ns.downgrade !== 'function')
    throw new ModuleError(`${file}: its downgrade export is ${show(ns.downgrade)}, not a function`);
  if (ns.noTransaction !== undefined && typeof ns.noTransaction !== 'boolean')
    throw new ModuleError(`${file}: noTransaction must be true or false, not ${show(ns.noTransaction)}`);
  const mod: LoadedModule = {
    upgrade: ns.upgrade as MigrationFunction,
    downgrade: ns.downgrade as MigrationFunction | undefined,
    noTransaction: ns.noTransaction === true,
    locate,
  };
  return { mod, others };
}
