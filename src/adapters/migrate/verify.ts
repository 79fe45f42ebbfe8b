/**
 * `cockpit migrate verify`: prove, on a scratch database, that every migration can be rolled back and re-applied.
 *
 * Policy (release-management.md, "Database Migration Guidelines"): every migration must have a rollback
 * implementation, and migrations should be idempotent. For each migration, in order, on top of the ones before it:
 *
 *   S0 = snapshot → upgrade it → S1 → downgrade it → S2 (must equal S0: the rollback undoes it)
 *      → upgrade it again → S3 (must equal S1: re-applying after a rollback gives the same schema)
 *
 * The scratch database is either created here (`cockpit_verify_<random>`, on the server of the given URL, through a
 * connection to its maintenance database; needs CREATEDB) and always dropped at the end, or an existing EMPTY
 * database (`scratchUrl`), refused when it holds anything. The application database named by the given URL is
 * never connected to: its URL only says which server to use.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { currentIdentity } from '../identity.js';
import { loadMigrations, noDownReason, type Migration } from './files.js';
import { HISTORY_TABLE, MigrateError, MigrationRunner, type Failure } from './runner.js';
import { CockpitError, ignoreCleanupError } from '../../core/errors.js';
import { connectClient, withConnectTimeout } from '../pg-connect.js';

/** Tables of the cockpit's own bookkeeping: not part of the application's schema. */
export const BOOKKEEPING_TABLES = [HISTORY_TABLE, 'cockpit_backfills'];

// ───────────────────────────── snapshot ─────────────────────────────

export type ObjectKind = 'schema' | 'table' | 'column' | 'index' | 'constraint' | 'sequence' | 'view' | 'enum' | 'function' | 'trigger';

/** One catalog object: `kind` + `name` identify it, `def` is what must not change. */
export interface SnapshotEntry {
  kind: ObjectKind;
  /** `table.column`, `table.constraint`, `index`, `function(args)`…; schema-qualified unless in `public`. */
  name: string;
  def: string;
}

/** A schema's objects, sorted by kind (in the order of ObjectKind) then name: two equal schemas give equal arrays. */
export interface Snapshot {
  entries: SnapshotEntry[];
}

const KIND_ORDER: ObjectKind[] = ['schema', 'table', 'column', 'index', 'constraint', 'sequence', 'view', 'enum', 'function', 'trigger'];

/** Schemas that are the server's, not the application's. */
const USER_SCHEMA = (n: string) =>
  `${n}.nspname NOT IN ('pg_catalog', 'information_schema') AND ${n}.nspname NOT LIKE 'pg\\_toast%' AND ${n}.nspname NOT LIKE 'pg\\_temp\\_%'`;

/** `name` with its schema unless it is `public`. */
const Q = (schema: string, name: string) => (schema === 'public' ? name : `${schema}.${name}`);

type Queryable = Pick<pg.ClientBase, 'query'>;

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The schema of the database `client` is connected to, from the catalog: every non-system schema, with the
 * bookkeeping tables (`cockpit_schema_migrations`, `cockpit_backfills`) and what belongs to them left out.
 * Data is not compared, and neither are things a re-run legitimately changes (sequence values, column order).
 */
export async function schemaSnapshot(client: Queryable): Promise<Snapshot> {
  const entries: SnapshotEntry[] = [];
  const add = (kind: ObjectKind, name: string, def: string) => entries.push({ kind, name, def });
  const skip = BOOKKEEPING_TABLES;

  const schemas = await client.query<{ s: string }>(`SELECT n.nspname AS s FROM pg_namespace n WHERE ${USER_SCHEMA('n')}`);
  for (const r of schemas.rows) add('schema', r.s, '');

  // tables (ordinary, partitioned, foreign), views and materialized views
  const rels = await client.query<{ s: string; t: string; kind: string; persistence: string; viewdef: string | null }>(
    `SELECT n.nspname AS s, c.relname AS t, c.relkind AS kind, c.relpersistence AS persistence,
            CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid, true) END AS viewdef
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE ${USER_SCHEMA('n')} AND c.relkind IN ('r', 'p', 'f', 'v', 'm') AND NOT (c.relname = ANY($1))`,
    [skip],
  );
  for (const r of rels.rows) {
    if (r.kind === 'v' || r.kind === 'm') add('view', Q(r.s, r.t), `${r.kind === 'm' ? 'materialized ' : ''}${(r.viewdef ?? '').trim()}`);
    else {
      const what = r.kind === 'p' ? 'partitioned table' : r.kind === 'f' ? 'foreign table' : 'table';
      add('table', Q(r.s, r.t), `${r.persistence === 'u' ? 'unlogged ' : r.persistence === 't' ? 'temporary ' : ''}${what}`);
    }
  }

  const cols = await client.query<{
    s: string;
    t: string;
    c: string;
    type: string;
    notnull: boolean;
    def: string | null;
    identity: string;
    generated: string;
    collation: string | null;
  }>(
    `SELECT n.nspname AS s, c.relname AS t, a.attname AS c, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS notnull,
            pg_get_expr(d.adbin, d.adrelid) AS def, a.attidentity AS identity, a.attgenerated AS generated,
            CASE WHEN a.attcollation <> 0 AND a.attcollation <> ty.typcollation THEN co.collname END AS collation
       FROM pg_attribute a
       JOIN pg_class c ON c.oid = a.attrelid
       JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_type ty ON ty.oid = a.atttypid
       LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
       LEFT JOIN pg_collation co ON co.oid = a.attcollation
      WHERE ${USER_SCHEMA('n')} AND c.relkind IN ('r', 'p', 'f', 'v', 'm') AND a.attnum > 0 AND NOT a.attisdropped AND NOT (c.relname = ANY($1))`,
    [skip],
  );
  for (const r of cols.rows) {
    let def = r.type;
    if (r.collation) def += ` COLLATE "${r.collation}"`;
    if (r.notnull) def += ' NOT NULL';
    if (r.identity) def += r.identity === 'a' ? ' GENERATED ALWAYS AS IDENTITY' : ' GENERATED BY DEFAULT AS IDENTITY';
    if (r.generated === 's') def += ` GENERATED ALWAYS AS (${r.def}) STORED`;
    else if (r.def !== null) def += ` DEFAULT ${r.def}`;
    add('column', `${Q(r.s, r.t)}.${r.c}`, def);
  }

  const idx = await client.query<{ s: string; i: string; def: string; valid: boolean }>(
    `SELECT n.nspname AS s, ic.relname AS i, pg_get_indexdef(x.indexrelid) AS def, x.indisvalid AS valid
       FROM pg_index x
       JOIN pg_class ic ON ic.oid = x.indexrelid
       JOIN pg_class t ON t.oid = x.indrelid
       JOIN pg_namespace n ON n.oid = ic.relnamespace
      WHERE ${USER_SCHEMA('n')} AND NOT (t.relname = ANY($1))`,
    [skip],
  );
  for (const r of idx.rows) add('index', Q(r.s, r.i), `${r.def}${r.valid ? '' : ' (INVALID)'}`);

  const cons = await client.query<{ s: string; t: string; c: string; def: string }>(
    `SELECT n.nspname AS s, t.relname AS t, k.conname AS c, pg_get_constraintdef(k.oid) AS def
       FROM pg_constraint k
       JOIN pg_class t ON t.oid = k.conrelid
       JOIN pg_namespace n ON n.oid = t.relnamespace
      WHERE ${USER_SCHEMA('n')} AND NOT (t.relname = ANY($1))`,
    [skip],
  );
  for (const r of cons.rows) add('constraint', `${Q(r.s, r.t)}.${r.c}`, r.def);

  // sequences: their shape, not their current value (that changes whenever a row is inserted)
  const seqs = await client.query<{
    s: string;
    q: string;
    type: string;
    start: string;
    inc: string;
    min: string;
    max: string;
    cycle: boolean;
    owner: string | null;
  }>(
    `SELECT n.nspname AS s, c.relname AS q, format_type(sq.seqtypid, NULL) AS type, sq.seqstart::text AS start, sq.seqincrement::text AS inc,
            sq.seqmin::text AS min, sq.seqmax::text AS max, sq.seqcycle AS cycle,
            (SELECT t.relname || '.' || a.attname FROM pg_depend d
               JOIN pg_class t ON t.oid = d.refobjid
               JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
              WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
              LIMIT 1) AS owner
       FROM pg_sequence sq
       JOIN pg_class c ON c.oid = sq.seqrelid
       JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE ${USER_SCHEMA('n')}`,
  );
  for (const r of seqs.rows) {
    if (r.owner && skip.includes(r.owner.split('.')[0])) continue;
    add(
      'sequence',
      Q(r.s, r.q),
      `${r.type} start ${r.start} increment ${r.inc} min ${r.min} max ${r.max}${r.cycle ? ' cycle' : ''}${r.owner ? ` owned by ${r.owner}` : ''}`,
    );
  }

  const enums = await client.query<{ s: string; t: string; labels: string[] }>(
    `SELECT n.nspname AS s, ty.typname AS t, array_agg(e.enumlabel::text ORDER BY e.enumsortorder) AS labels
       FROM pg_type ty
       JOIN pg_namespace n ON n.oid = ty.typnamespace
       JOIN pg_enum e ON e.enumtypid = ty.oid
      WHERE ${USER_SCHEMA('n')}
      GROUP BY n.nspname, ty.typname`,
  );
  for (const r of enums.rows) add('enum', Q(r.s, r.t), r.labels.map((l) => `'${l.replace(/'/g, "''")}'`).join(', '));

  // functions and procedures, not those an extension brought
  const fns = await client.query<{ s: string; f: string; args: string; kind: string; result: string | null; lang: string; body: string }>(
    `SELECT n.nspname AS s, p.proname AS f, pg_get_function_identity_arguments(p.oid) AS args, p.prokind AS kind,
            pg_get_function_result(p.oid) AS result, l.lanname AS lang, md5(coalesce(p.prosrc, '')) AS body
       FROM pg_proc p
       JOIN pg_namespace n ON n.oid = p.pronamespace
       JOIN pg_language l ON l.oid = p.prolang
      WHERE ${USER_SCHEMA('n')}
        AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')`,
  );
  for (const r of fns.rows) {
    const what = r.kind === 'p' ? 'procedure' : r.kind === 'a' ? 'aggregate' : r.kind === 'w' ? 'window function' : 'function';
    add('function', `${Q(r.s, r.f)}(${r.args})`, `${what}${r.result ? ` returns ${r.result}` : ''} language ${r.lang} body md5 ${r.body}`);
  }

  const trg = await client.query<{ s: string; t: string; g: string; def: string }>(
    `SELECT n.nspname AS s, t.relname AS t, g.tgname AS g, pg_get_triggerdef(g.oid) AS def
       FROM pg_trigger g
       JOIN pg_class t ON t.oid = g.tgrelid
       JOIN pg_namespace n ON n.oid = t.relnamespace
      WHERE ${USER_SCHEMA('n')} AND NOT g.tgisinternal AND NOT (t.relname = ANY($1))`,
    [skip],
  );
  for (const r of trg.rows) add('trigger', `${Q(r.s, r.t)}.${r.g}`, r.def);

  entries.sort((a, b) => KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind) || cmp(a.name, b.name) || cmp(a.def, b.def));
  return { entries };
}

/**
 * Human-readable differences from `a` (before) to `b` (after `phase`, e.g. 'downgrade'), in snapshot order:
 *   "column listings.price_cents: missing after downgrade (bigint NOT NULL)"
 *   "index listings_city_idx: extra after downgrade (CREATE INDEX … )"
 *   "index x: definition differs: <a> vs <b>"
 * Empty when the schemas are equal. A column, index… of a table that is missing or extra as a whole is not listed
 * again on its own.
 */
export function diffSnapshots(a: Snapshot, b: Snapshot, phase = 'the change'): string[] {
  const key = (e: SnapshotEntry) => `${e.kind} ${e.name}`;
  const ma = new Map(a.entries.map((e) => [key(e), e]));
  const mb = new Map(b.entries.map((e) => [key(e), e]));
  const onlyA = new Set(a.entries.filter((e) => !mb.has(key(e)) && (e.kind === 'table' || e.kind === 'view')).map((e) => e.name));
  const onlyB = new Set(b.entries.filter((e) => !ma.has(key(e)) && (e.kind === 'table' || e.kind === 'view')).map((e) => e.name));
  // columns, constraints and triggers are named `<table>.<name>`: covered by their table's line
  const ofTable = (e: SnapshotEntry, tables: Set<string>) =>
    (e.kind === 'column' || e.kind === 'constraint' || e.kind === 'trigger') && tables.has(e.name.slice(0, e.name.lastIndexOf('.')));
  const show = (e: SnapshotEntry) => (e.def ? ` (${e.def})` : '');

  const all = [...a.entries, ...b.entries.filter((e) => !ma.has(key(e)))];
  all.sort((x, y) => KIND_ORDER.indexOf(x.kind) - KIND_ORDER.indexOf(y.kind) || cmp(x.name, y.name));
  const out: string[] = [];
  for (const e of all) {
    const x = ma.get(key(e));
    const y = mb.get(key(e));
    if (x && !y) {
      if (!ofTable(x, onlyA)) out.push(`${key(x)}: missing after ${phase}${show(x)}`);
    } else if (!x && y) {
      if (!ofTable(y, onlyB)) out.push(`${key(y)}: extra after ${phase}${show(y)}`);
    } else if (x && y && x.def !== y.def) {
      out.push(`${key(x)}: definition differs: ${x.def} vs ${y.def}`);
    }
  }
  return out;
}

// ───────────────────────────── scratch database ─────────────────────────────

/** `url` with its database replaced. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(database)}`;
  return u.toString();
}

/** The database a URL names ('' when none). */
export function databaseOf(url: string): string {
  return decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
}

const SERVER_OF = (url: string) => {
  const u = new URL(url);
  return `${u.hostname}:${u.port || '5432'}${u.searchParams.get('host') ?? ''}`;
};

/** Why verify could not start. exitCode 2: bad input (no URL, a scratch database that is not empty); 1: the server said no. */
export class VerifyError extends CockpitError {
  constructor(message: string, exitCode: 1 | 2 = 2) {
    super(message, exitCode);
  }
}

/** What the database at `client` holds besides the server's own schemas (an empty `public` is empty). */
export async function scratchContents(client: Queryable): Promise<string[]> {
  const found: string[] = [];
  const rels = await client.query<{ s: string; n: string; k: string }>(
    `SELECT n.nspname AS s, c.relname AS n, c.relkind AS k FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE ${USER_SCHEMA('n')} ORDER BY 1, 2 LIMIT 20`,
  );
  for (const r of rels.rows)
    found.push(`${r.k === 'i' ? 'index' : r.k === 'S' ? 'sequence' : r.k === 'v' || r.k === 'm' ? 'view' : 'table'} ${Q(r.s, r.n)}`);
  const other = await client.query<{ what: string }>(
    `SELECT 'schema ' || n.nspname AS what FROM pg_namespace n WHERE ${USER_SCHEMA('n')} AND n.nspname <> 'public'
     UNION ALL
     SELECT 'type ' || n.nspname || '.' || t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
      WHERE ${USER_SCHEMA('n')} AND t.typtype IN ('e', 'd', 'r', 'm')
     UNION ALL
     SELECT 'function ' || n.nspname || '.' || p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE ${USER_SCHEMA('n')}
     ORDER BY 1 LIMIT 20`,
  );
  for (const r of other.rows) found.push(r.what);
  return found;
}

async function connect(url: string, appName: string): Promise<pg.Client> {
  const c = new pg.Client(withConnectTimeout({ connectionString: url, application_name: appName }));
  c.on('error', () => undefined);
  await connectClient(c);
  return c;
}

/** A connection to the server's maintenance database (`postgres`, else `template1`), never to the one `url` names. */
async function maintenance(url: string, appName: string): Promise<pg.Client> {
  let first: unknown;
  for (const db of ['postgres', 'template1']) {
    try {
      return await connect(withDatabase(url, db), appName);
    } catch (e) {
      first ??= e;
    }
  }
  throw new VerifyError(`cannot connect to the server's maintenance database (postgres, template1): ${(first as Error).message}`, 1);
}

async function dropDatabase(admin: pg.Client, name: string): Promise<void> {
  try {
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`); // PostgreSQL ≥ 13
  } catch {
    await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [name]);
    await admin.query(`DROP DATABASE IF EXISTS "${name}"`);
  }
}

// ───────────────────────────── verify ─────────────────────────────

export interface VerifyDurations {
  /** Each phase's own time (ms), when it ran. */
  upMs?: number;
  downMs?: number;
  reUpMs?: number;
}

export interface Verdict {
  id: string;
  name: string;
  file: string;
  /** Every check held. */
  ok: boolean;
  /** False when it was not checked at all (an earlier migration left the scratch database in an unknown state). */
  verified: boolean;
  /** What did not hold, one line each (empty when ok). */
  problems: string[];
  durations: VerifyDurations;
}

export type VerifyEvent =
  | { type: 'scratch.created'; database: string; server: string }
  | { type: 'scratch.using'; database: string; server: string }
  | { type: 'migration.checking'; id: string; name: string }
  | { type: 'migration.verified'; verdict: Verdict }
  | { type: 'scratch.dropped'; database: string }
  | { type: 'scratch.drop-failed'; database: string; error: string }
  | { type: 'scratch.kept'; database: string };

export interface VerifyOptions {
  /** Any URL on the server to use (typically the application database's): only its server is used, never its database. */
  adminUrl?: string;
  /** An existing, EMPTY database to verify in instead of creating one (refused when it holds anything). */
  scratchUrl?: string;
  /** Migrations folder. */
  dir: string;
  operator?: string;
  onEvent?: (e: VerifyEvent) => void;
}

export interface VerifyResult {
  ok: boolean;
  verdicts: Verdict[];
  /** The scratch database's name, and whether this run created (and then dropped) it. */
  scratch: { database: string; created: boolean; dropped: boolean; dropError?: string };
}

function describe(f: Failure): string {
  const where = f.line ? `${f.file.replace(/^.*[\\/]/, '')}:${f.line}` : f.file.replace(/^.*[\\/]/, '');
  const at = f.statement ? `statement ${f.statement}${f.dynamic ? '' : ` of ${f.of}`} (${where})` : where;
  const text =
    f.dynamic && f.sql
      ? ` — ${f.statement ? 'the statement' : 'the read'}, built as it ran: ${f.sql.length > 300 ? `${f.sql.slice(0, 300)}…` : f.sql}`
      : '';
  return `${at}: ${f.error}${f.code ? ` [${f.code}]` : ''}${text}`;
}

/**
 * Verify every migration in `dir` (see the file comment). Throws VerifyError for what stops it before any migration
 * runs (no URL, cannot create the scratch database, scratch database not empty); a migration that fails is a verdict.
 */
export async function verifyMigrations(opts: VerifyOptions): Promise<VerifyResult> {
  const emit = opts.onEvent ?? (() => undefined);
  const operator = opts.operator ?? currentIdentity().operator;
  const appName = `cockpit migrate verify (${operator})`;
  const migrations = await loadMigrations(opts.dir);

  let scratchUrl: string;
  let created = false;
  let admin: pg.Client | null = null;
  const database = opts.scratchUrl ? databaseOf(opts.scratchUrl) : `cockpit_verify_${randomBytes(6).toString('hex')}`;

  if (opts.scratchUrl) {
    if (opts.adminUrl && SERVER_OF(opts.adminUrl) === SERVER_OF(opts.scratchUrl) && databaseOf(opts.adminUrl) === database) {
      throw new VerifyError(`the scratch database is the application database (${database}): give an empty database of its own`);
    }
    scratchUrl = opts.scratchUrl;
    const c = await connect(scratchUrl, appName).catch((e: Error) => {
      throw new VerifyError(`cannot connect to the scratch database ${database}: ${e.message}`, 1);
    });
    try {
      const found = await scratchContents(c);
      if (found.length) {
        throw new VerifyError(
          `the scratch database ${database} is not empty (${found.slice(0, 5).join(', ')}${found.length > 5 ? ', …' : ''}): verify needs an empty database, as it applies and reverts every migration there`,
        );
      }
    } finally {
      await c.end().catch(ignoreCleanupError('closing a connection to a scratch database; the server drops it when we exit'));
    }
    emit({ type: 'scratch.using', database, server: SERVER_OF(scratchUrl) });
  } else {
    if (!opts.adminUrl)
      throw new VerifyError('no server to verify on: give a database URL (only its server is used) or a scratch database URL');
    admin = await maintenance(opts.adminUrl, appName);
    try {
      await admin.query(`CREATE DATABASE "${database}"`);
    } catch (e) {
      await admin.end().catch(ignoreCleanupError('closing the maintenance connection; the error being reported matters more'));
      const err = e as { message: string; code?: string };
      throw new VerifyError(
        `cannot create the scratch database ${database}: ${err.message}` +
          (err.code === '42501' ? ' — the user needs CREATEDB, or pass --scratch-url with an empty database to use instead' : ''),
        1,
      );
    }
    created = true;
    scratchUrl = withDatabase(opts.adminUrl, database);
    emit({ type: 'scratch.created', database, server: SERVER_OF(scratchUrl) });
  }

  const result: VerifyResult = { ok: false, verdicts: [], scratch: { database, created, dropped: false } };
  try {
    result.verdicts = await verifyEach(scratchUrl, opts.dir, migrations, operator, appName, emit);
    result.ok = result.verdicts.every((v) => v.ok);
  } finally {
    if (admin) {
      try {
        await dropDatabase(admin, database);
        result.scratch.dropped = true;
        emit({ type: 'scratch.dropped', database });
      } catch (e) {
        result.scratch.dropError = (e as Error).message;
        result.ok = false;
        emit({ type: 'scratch.drop-failed', database, error: (e as Error).message });
      } finally {
        await admin.end().catch(ignoreCleanupError('closing the maintenance connection; the error being reported matters more'));
      }
    } else emit({ type: 'scratch.kept', database });
  }
  return result;
}

async function verifyEach(
  url: string,
  dir: string,
  migrations: Migration[],
  operator: string,
  appName: string,
  emit: (e: VerifyEvent) => void,
): Promise<Verdict[]> {
  const runner = new MigrationRunner({ connection: url, dir, operator, lockTimeoutMs: 10_000 });
  const reader = await connect(url, appName);
  const verdicts: Verdict[] = [];
  let broken: string | null = null; // why later migrations cannot be verified
  try {
    for (const m of migrations) {
      const v: Verdict = { id: m.id, name: m.name, file: m.file, ok: false, verified: false, problems: [], durations: {} };
      if (broken) {
        v.problems.push(`not verified: ${broken}`);
        verdicts.push(v);
        emit({ type: 'migration.verified', verdict: v });
        continue;
      }
      emit({ type: 'migration.checking', id: m.id, name: m.name });
      v.verified = true;
      const up = async (phase: 'upgrade' | 're-upgrade'): Promise<boolean> => {
        const t0 = performance.now();
        try {
          const r = await runner.upgrade({ to: m.id, operator, onFailure: 'stop' });
          const ms = r.applied[0]?.durationMs ?? Math.round(performance.now() - t0);
          if (phase === 'upgrade') v.durations.upMs = ms;
          else v.durations.reUpMs = ms;
          if (r.failed) {
            v.problems.push(`${phase} failed: ${describe(r.failed)}`);
            return false;
          }
          if (!r.applied.some((d) => d.id === m.id)) {
            v.problems.push(`${phase} did not apply it (applied: ${r.applied.map((d) => d.id).join(', ') || 'nothing'})`);
            return false;
          }
          return true;
        } catch (e) {
          if (!(e instanceof MigrateError)) throw e;
          v.problems.push(`${phase} refused: ${e.message}`);
          return false;
        }
      };

      const s0 = await schemaSnapshot(reader);
      if (!(await up('upgrade'))) {
        broken = `${m.id} ${m.name} could not be applied`;
        verdicts.push(v);
        emit({ type: 'migration.verified', verdict: v });
        continue;
      }
      const s1 = await schemaSnapshot(reader);

      let downOk = false;
      if (!m.hasDown) {
        v.problems.push(`no rollback: ${noDownReason(m)}`);
      } else {
        const t0 = performance.now();
        try {
          const r = await runner.downgrade({ steps: 1, operator });
          v.durations.downMs = r.applied[0]?.durationMs ?? Math.round(performance.now() - t0);
          if (r.failed) {
            v.problems.push(
              `downgrade failed: ${describe(r.failed)}${r.failed.recorded ? ' (no transaction: statements before it stay applied)' : ' (rolled back)'}`,
            );
            if (r.failed.recorded) broken = `the downgrade of ${m.id} ${m.name} failed half-way outside a transaction`;
          } else downOk = true;
        } catch (e) {
          if (!(e instanceof MigrateError)) throw e;
          v.problems.push(`downgrade refused: ${e.message}`);
        }
      }

      if (downOk) {
        const s2 = await schemaSnapshot(reader);
        v.problems.push(...diffSnapshots(s0, s2, 'downgrade'));
        if (await up('re-upgrade')) {
          const s3 = await schemaSnapshot(reader);
          v.problems.push(...diffSnapshots(s1, s3, 're-upgrade'));
        } else broken = `${m.id} ${m.name} could not be applied again after its downgrade`;
      } else if (!broken) {
        // still applied (the failed downgrade was rolled back, or there is none): later ones build on it as is
        const now = await schemaSnapshot(reader);
        const drift = diffSnapshots(s1, now, 'the failed downgrade');
        if (drift.length) {
          v.problems.push(...drift);
          broken = `the failed downgrade of ${m.id} ${m.name} left the schema changed`;
        }
      }
      v.ok = v.problems.length === 0;
      verdicts.push(v);
      emit({ type: 'migration.verified', verdict: v });
    }
  } finally {
    await reader.end().catch(ignoreCleanupError('closing a read-only connection'));
  }
  return verdicts;
}
