/**
 * The SQL text of migrations, pure: the history table's statements, literals, and `sqlFor` (what `--sql` prints and
 * the migration screen shows: exactly what upgrade or downgrade would send). The runner sends the same statements.
 */
import type { Direction, MigrationDef } from './plan.js';

export const HISTORY_TABLE = 'cockpit_schema_migrations';

export const HISTORY_COLS = 'id, name, checksum, applied_at, applied_by, duration_ms, state';

/** A statement with its parameters, as the runner sends it. */
export interface SqlStep {
  text: string;
  values?: unknown[];
  /** Rendering of `values` for sqlFor (placeholders such as :operator). */
  shown?: string[];
}

export function quoteLiteral(v: unknown): string {
  if (v === null || v === undefined) return 'NULL';
  if (typeof v === 'number') return String(v);
  return `'${String(v).replace(/'/g, "''")}'`;
}

/** `text` with $n replaced by `values` rendered as literals (or by `shown[n-1]` when given). */
export function inlineParams(text: string, values: unknown[] = [], shown?: string[]): string {
  return text.replace(/\$(\d+)/g, (_, n: string) => shown?.[Number(n) - 1] ?? quoteLiteral(values[Number(n) - 1]));
}

export function insertApplied(m: MigrationDef, operator: string, durationMs: number): SqlStep {
  return {
    text: `INSERT INTO ${HISTORY_TABLE} (${HISTORY_COLS}) VALUES ($1, $2, $3, now(), $4, $5, 'applied')`,
    values: [m.id, m.name, m.checksum, operator, durationMs],
    shown: [quoteLiteral(m.id), quoteLiteral(m.name), quoteLiteral(m.checksum), ':operator', ':duration_ms'],
  };
}

export function deleteRow(m: MigrationDef): SqlStep {
  return { text: `DELETE FROM ${HISTORY_TABLE} WHERE id = $1`, values: [m.id], shown: [quoteLiteral(m.id)] };
}

export function sessionSettings(lockTimeout: string, statementTimeout: string): string[] {
  return [`SET lock_timeout = ${quoteLiteral(lockTimeout)}`, `SET statement_timeout = ${quoteLiteral(statementTimeout)}`];
}

/** Append `;` unless the statement already ends with one. */
export function terminated(sql: string): string {
  const t = sql.trimEnd();
  return t.endsWith(';') ? t : `${t};`;
}

export interface SqlForOptions {
  lockTimeout?: string;
  statementTimeout?: string;
}

/**
 * The SQL `upgrade` (direction 'up') or `downgrade` ('down') would send for `migrations`, in the given order:
 * per migration `BEGIN;`, its statements, the history write, `COMMIT;` — or, for a no-transaction migration, a
 * `-- no transaction: each statement runs on its own` marker and no BEGIN/COMMIT. The history insert shows
 * `:operator`, `now()` and `:duration_ms` for the values only known at run time. A module migration that reads
 * the database to build its SQL (dynamic in that direction) gets a comment block saying so, and no SQL at all —
 * not even its history write, so the text never records as applied what it does not contain.
 */
export function sqlFor(migrations: MigrationDef[], direction: Direction, opts: SqlForOptions = {}): string {
  const out: string[] = [];
  out.push(`-- cockpit migrate ${direction === 'up' ? 'upgrade' : 'downgrade'}: ${migrations.length} migration(s)`);
  for (const s of sessionSettings(opts.lockTimeout ?? '5s', opts.statementTimeout ?? '1h')) out.push(terminated(s));
  for (const m of migrations) {
    out.push('', `-- ${m.id}_${m.name} (${m.file}) ${direction}`);
    const dyn = m.dynamic[direction];
    if (dyn) {
      const fn = direction === 'up' ? 'upgrade' : 'downgrade';
      const where = dyn.line ? `${m.file}:${dyn.line}` : m.file;
      out.push(
        `-- NOT SHOWN: ${fn}() reads the database (m.query, ${where}) to build its SQL, so its statements are only known`,
        `-- when it runs and cannot be printed without running it. Review ${m.file} itself.`,
        m.noTransaction
          ? `-- When it runs: no transaction, each statement on its own, then the history ${direction === 'up' ? 'INSERT' : 'DELETE'}.`
          : `-- When it runs: BEGIN; its statements; the history ${direction === 'up' ? 'INSERT' : 'DELETE'}; COMMIT — one transaction.`,
      );
      continue;
    }
    const stmts = direction === 'up' ? m.up : m.down;
    if (m.noTransaction) out.push('-- no transaction: each statement runs on its own');
    else out.push('BEGIN;');
    for (const s of stmts) {
      const idx = direction === 'up' && m.noTransaction ? concurrentIndexTarget(s.text) : null;
      if (idx)
        out.push(
          `-- before the next statement, if index ${idx.qualified} exists and is INVALID (a failed earlier build): DROP INDEX CONCURRENTLY ${idx.qualified};`,
        );
      out.push(terminated(s.text));
    }
    const h = direction === 'up' ? insertApplied(m, '', 0) : deleteRow(m);
    out.push(terminated(inlineParams(h.text, h.values, h.shown)));
    if (!m.noTransaction) out.push('COMMIT;');
  }
  return `${out.join('\n')}\n`;
}

const IDENT = String.raw`(?:"(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)`;
const CIC_RE = new RegExp(
  String.raw`^CREATE\s+(?:UNIQUE\s+)?INDEX\s+CONCURRENTLY\s+(?:IF\s+NOT\s+EXISTS\s+)?(${IDENT})\s+ON\s+(?:ONLY\s+)?(?:(${IDENT})\s*\.\s*)?${IDENT}`,
  'i',
);

/** Strip leading whitespace and comments. */
function leadingCode(sql: string): string {
  let s = sql;
  for (;;) {
    const t = s.replace(/^\s+/, '');
    if (t.startsWith('--')) {
      const nl = t.indexOf('\n');
      s = nl < 0 ? '' : t.slice(nl + 1);
    } else if (t.startsWith('/*')) {
      const end = t.indexOf('*/');
      s = end < 0 ? '' : t.slice(end + 2);
    } else return t;
  }
}

/** The index a `CREATE INDEX CONCURRENTLY name ON [schema.]table` statement builds, as SQL text (schema-qualified when the table is). */
export function concurrentIndexTarget(sql: string): { name: string; qualified: string } | null {
  const m = CIC_RE.exec(leadingCode(sql));
  if (!m) return null;
  return { name: m[1], qualified: m[2] ? `${m[2]}.${m[1]}` : m[1] };
}
