/**
 * Zero-downtime lint for SQL migrations (PostgreSQL). Rules merge those of squawk and strong_migrations with the
 * release policy (docs/policy/release-management.md): every migration has a rollback, and
 * stays backward compatible with the previous code version. Pure: works on tokens from ./sql.ts.
 *
 * Operations on a table created earlier in the same migration's `up` are not flagged where the table being
 * new (hence empty and unused by the running code) makes them safe. Findings on `down` are not reported
 * (as strong_migrations' check_down=false), except that `down` must exist.
 */
import { renderTokens, tokenize, type SqlStatement, type Token } from './sql.js';

export type Severity = 'error' | 'warning';

export interface Finding {
  rule: RuleId;
  severity: Severity;
  /** Index into `up`; -1 for whole-migration findings. */
  statement: number;
  /** 1-based source line; for whole-migration findings the line of the statement concerned, or 0 when none. */
  line: number;
  /** What is wrong, concretely (names the table/column/index when it can). */
  message: string;
  /** The safe alternative, concretely. */
  fix: string;
}

export interface LintInput {
  id: string;
  up: SqlStatement[];
  down: SqlStatement[];
  noTransaction: boolean;
  /**
   * A module migration's directions that read the database (m.query) to build their SQL: nothing of them is known
   * before they run (`up`/`down` are empty then), so they cannot be checked. `line`: the first m.query (0 unknown).
   */
  dynamic?: { up?: { line: number }; down?: { line: number } };
}

export const RULES = {
  'missing-downgrade': 'error',
  'drop-column': 'error',
  'drop-table': 'error',
  'rename-column': 'error',
  'rename-table': 'error',
  'change-column-type': 'error',
  'set-not-null': 'error',
  'add-required-column': 'error',
  'volatile-default': 'warning',
  'index-not-concurrent': 'error',
  'drop-index-not-concurrent': 'warning',
  'concurrent-in-transaction': 'error',
  'constraint-not-valid': 'error',
  'unique-constraint': 'error',
  'no-lock-timeout': 'warning',
  'backfill-in-migration': 'warning',
  'non-idempotent-no-transaction': 'warning',
  'json-type': 'warning',
  'dynamic-sql': 'warning',
} as const satisfies Readonly<Record<string, Severity>>;

/** A rule's id: a misspelt one does not compile. */
export type RuleId = keyof typeof RULES;

/**
 * Functions whose value differs per row, so a DEFAULT using them makes ADD COLUMN rewrite the table.
 * now()/current_timestamp/transaction_timestamp()/statement_timestamp() are STABLE, not volatile: PG11+ evaluates
 * them once and stores the value as a "fast default", so they are deliberately not listed.
 */
const VOLATILE_FUNCTIONS = new Set([
  'random',
  'clock_timestamp',
  'timeofday',
  'gen_random_uuid',
  'uuid_generate_v1',
  'uuid_generate_v1mc',
  'uuid_generate_v4',
  'uuidv4',
  'uuidv7',
  'nextval',
  'random_normal',
  'setseed',
]);
const SERIAL_TYPES = new Set(['serial', 'serial2', 'serial4', 'serial8', 'smallserial', 'bigserial']);
/** Words that start a column constraint (so end a column's type or DEFAULT expression). */
const COLUMN_CONSTRAINT_WORDS = new Set([
  'constraint',
  'not',
  'null',
  'check',
  'default',
  'generated',
  'unique',
  'primary',
  'references',
  'collate',
  'deferrable',
  'initially',
]);
const TABLE_CONSTRAINT_WORDS = new Set(['constraint', 'primary', 'unique', 'foreign', 'check', 'exclude']);

interface Name {
  /** As written, e.g. public.users or "Users". */
  display: string;
  /** Lookup key: the last part, unquoted (Postgres folds unquoted names to lower case). Schemas are ignored. */
  key: string;
}

const isW = (t: Token | undefined, ...words: string[]): boolean => t !== undefined && t.kind === 'word' && words.includes(t.value);
const isP = (t: Token | undefined, p: string): boolean => t !== undefined && (t.kind === 'punct' || t.kind === 'op') && t.raw === p;

/** A cursor over one statement's (or clause's) tokens. */
class Cursor {
  i = 0;
  constructor(readonly toks: Token[]) {}
  peek(o = 0): Token | undefined {
    return this.toks[this.i + o];
  }
  is(...words: string[]): boolean {
    return isW(this.peek(), ...words);
  }
  /** Consume the word sequence if it is next. */
  accept(...seq: string[]): boolean {
    for (let k = 0; k < seq.length; k++) if (!isW(this.peek(k), seq[k])) return false;
    this.i += seq.length;
    return true;
  }
  /** A possibly schema-qualified name. */
  name(): Name | null {
    const t = this.peek();
    if (!t || (t.kind !== 'word' && t.kind !== 'ident')) return null;
    const parts: Token[] = [t];
    this.i++;
    while (isP(this.peek(), '.') && (this.peek(1)?.kind === 'word' || this.peek(1)?.kind === 'ident')) {
      parts.push(this.peek(1) as Token);
      this.i += 2;
    }
    const last = parts[parts.length - 1];
    return { display: parts.map((p) => (p.kind === 'word' ? p.value : p.raw)).join('.'), key: last.value };
  }
  rest(): Token[] {
    return this.toks.slice(this.i);
  }
}

/** Split tokens at commas outside parentheses. */
function splitTopLevel(toks: Token[]): Token[][] {
  const parts: Token[][] = [[]];
  let depth = 0;
  for (const t of toks) {
    if (isP(t, '(') || isP(t, '[')) depth++;
    else if (isP(t, ')') || isP(t, ']')) depth--;
    if (depth === 0 && isP(t, ',')) {
      parts.push([]);
      continue;
    }
    parts[parts.length - 1].push(t);
  }
  return parts.filter((p) => p.length > 0);
}

/** Index of the word pair `a b` outside parentheses, or -1. */
function findPair(toks: Token[], a: string, b: string): number {
  let depth = 0;
  for (let k = 0; k < toks.length - 1; k++) {
    const t = toks[k];
    if (isP(t, '(')) depth++;
    else if (isP(t, ')')) depth--;
    else if (depth === 0 && isW(t, a) && isW(toks[k + 1], b)) return k;
  }
  return -1;
}
function findWord(toks: Token[], w: string): number {
  let depth = 0;
  for (let k = 0; k < toks.length; k++) {
    const t = toks[k];
    if (isP(t, '(')) depth++;
    else if (isP(t, ')')) depth--;
    else if (depth === 0 && isW(t, w)) return k;
  }
  return -1;
}

/** The column type at the start of `toks` (up to the first constraint word), e.g. `varchar(255)`. */
function columnType(toks: Token[]): { text: string; base: string } {
  let end = 0;
  while (end < toks.length && !(toks[end].kind === 'word' && COLUMN_CONSTRAINT_WORDS.has(toks[end].value))) end++;
  const typeToks = toks.slice(0, end);
  // The base type name: the last name part before any '(' or '[' (pg_catalog.json → json).
  let base = '';
  for (const t of typeToks) {
    if (isP(t, '(') || isP(t, '[')) break;
    if (t.kind === 'word' || t.kind === 'ident') base = t.value;
  }
  return { text: renderTokens(typeToks), base };
}

interface LockingStatement {
  statement: number;
  line: number;
  what: string;
  covered: boolean;
}

class Linter {
  readonly findings: Finding[] = [];
  /** Keys of tables created so far in `up`. */
  private readonly created = new Set<string>();
  /** Keys of indexes created so far in `up`. */
  private readonly createdIndexes = new Set<string>();
  /** Constraints added NOT VALID in this migration: key → table display. */
  private readonly notValid = new Map<string, string>();
  /** Tables that had a VALIDATE CONSTRAINT earlier in this migration. */
  private readonly validated = new Set<string>();
  private lockTimeout = false;
  private firstLocking: LockingStatement | null = null;
  private stmtIndex = 0;
  private stmtLine = 1;

  constructor(private readonly m: LintInput) {}

  run(): Finding[] {
    const dyn = this.m.dynamic ?? {};
    if (dyn.up || dyn.down) {
      const fns = [dyn.up && 'upgrade()', dyn.down && 'downgrade()'].filter(Boolean).join(' and ');
      this.findings.push({
        rule: 'dynamic-sql',
        severity: RULES['dynamic-sql'],
        statement: -1,
        line: dyn.up?.line || dyn.down?.line || 0,
        message:
          `migration ${this.m.id}'s ${fns} ${dyn.up && dyn.down ? 'read' : 'reads'} the database (m.query) to build its SQL: its statements are only known when it runs, ` +
          'so lint cannot check them and `upgrade --sql` cannot show them for review',
        fix:
          'let the database do the data-dependent part in plain SQL recorded with m.sql (INSERT … SELECT, UPDATE … FROM, a DO block), so the statements are known before it runs; ' +
          'a large data change belongs in a backfill (cockpit migrate backfill) rather than a migration. If it must read first, review the code and test it with `cockpit migrate verify`',
      });
    }
    if (this.m.down.length === 0 && !dyn.down) {
      this.findings.push({
        rule: 'missing-downgrade',
        severity: 'error',
        statement: -1,
        line: 0,
        message: `migration ${this.m.id} has no down (rollback) statements; the release policy requires every migration to have a rollback implementation`,
        fix: `write the down migration that undoes ${this.m.id}'s up (e.g. DROP the column/index/table it adds), and check it with \`cockpit migrate downgrade -1\` on a scratch database`,
      });
    }
    this.m.up.forEach((s, idx) => {
      this.stmtIndex = idx;
      this.stmtLine = s.line;
      this.statement(tokenize(s.text));
    });
    const first = this.firstLocking;
    if (first && !first.covered) {
      const local = this.m.noTransaction
        ? ' (a plain SET, not SET LOCAL: this migration runs without a transaction, so SET LOCAL would end with its own statement)'
        : '';
      this.findings.push({
        rule: 'no-lock-timeout',
        severity: 'warning',
        statement: -1,
        line: first.line,
        message: `${first.what} (statement ${first.statement + 1}) takes a lock with no lock_timeout set before it: if it has to wait (e.g. behind a long-running query), every later read and write on that table queues behind it`,
        fix: `add \`SET lock_timeout = '5s';\` before statement ${first.statement + 1}${local} and retry the migration if it times out; the runner may also set a lock_timeout on its session, but the migration should not depend on that (it can be run by hand from \`cockpit migrate upgrade --sql\`)`,
      });
    }
    return this.findings.sort((a, b) => a.statement - b.statement);
  }

  private add(rule: RuleId, at: Token | undefined, message: string, fix: string): void {
    this.findings.push({
      rule,
      severity: RULES[rule],
      statement: this.stmtIndex,
      line: at ? this.stmtLine + at.line - 1 : this.stmtLine,
      message,
      fix,
    });
  }

  private exists(table: Name): boolean {
    return !this.created.has(table.key);
  }

  private locking(what: string, at: Token | undefined): void {
    if (this.firstLocking) return;
    this.firstLocking = {
      statement: this.stmtIndex,
      line: at ? this.stmtLine + at.line - 1 : this.stmtLine,
      what,
      covered: this.lockTimeout,
    };
  }

  private statement(toks: Token[]): void {
    if (toks.length === 0) return;
    this.concurrently(toks);
    const c = new Cursor(toks);
    if (c.accept('set')) return this.set(c);
    if (c.accept('select')) return this.selectSetConfig(c);
    if (c.is('update', 'with')) return this.update(toks);
    if (c.accept('alter', 'table')) return this.alterTable(c);
    if (c.accept('drop', 'table')) return this.dropTable(c);
    if (c.accept('drop', 'index')) return this.dropIndex(c);
    if (c.accept('create')) {
      c.accept('or', 'replace');
      if (c.is('unique', 'index')) return this.createIndex(c);
      if (!c.accept('global')) c.accept('local');
      if (!c.accept('temporary') && !c.accept('temp')) c.accept('unlogged');
      if (c.accept('table')) return this.createTable(c);
    }
  }

  /** concurrent-in-transaction: CONCURRENTLY cannot run in a transaction block (REFRESH MATERIALIZED VIEW … CONCURRENTLY can). */
  private concurrently(toks: Token[]): void {
    if (this.m.noTransaction) return;
    const at = toks.find((t) => isW(t, 'concurrently'));
    if (!at || isW(toks[0], 'refresh')) return;
    const text = renderTokens(toks);
    const shown = text.length > 80 ? `${text.slice(0, 79)}…` : text;
    this.add(
      'concurrent-in-transaction',
      at,
      `\`${shown}\` uses CONCURRENTLY, which cannot run inside a transaction block, and migration ${this.m.id} runs in one (Postgres rejects it)`,
      `declare the migration noTransaction (its statements then run one per query, outside a transaction); keep it to the CONCURRENTLY statements plus SET lock_timeout`,
    );
  }

  private set(c: Cursor): void {
    const local = c.accept('local');
    c.accept('session');
    if (!c.accept('lock_timeout')) return;
    if (isP(c.peek(), '=') || c.is('to')) c.i++;
    const v = c.peek();
    const off = !v || isW(v, 'default') || v.value.trim() === '0';
    if (off) return;
    // SET LOCAL outside a transaction lasts only for its own statement.
    if (local && this.m.noTransaction) return;
    this.lockTimeout = true;
  }

  /** SELECT set_config('lock_timeout', '5s', false) */
  private selectSetConfig(c: Cursor): void {
    if (c.is('set_config') && isP(c.peek(1), '(') && c.peek(2)?.kind === 'string' && c.peek(2)?.value === 'lock_timeout') {
      const v = c.peek(4);
      if (v && v.value.trim() !== '0') this.lockTimeout = true;
    }
  }

  /** backfill-in-migration: UPDATE (also in a WITH statement) in a transactional migration. */
  private update(toks: Token[]): void {
    if (this.m.noTransaction) return;
    let at = -1;
    if (isW(toks[0], 'update')) at = 0;
    else {
      // WITH …: the main UPDATE follows a ')' at depth 0; a data-modifying CTE is `AS ( UPDATE`.
      let depth = 0;
      for (let k = 1; k < toks.length && at < 0; k++) {
        const t = toks[k];
        if (isP(t, '(')) depth++;
        else if (isP(t, ')')) depth--;
        else if (isW(t, 'update') && ((depth === 0 && isP(toks[k - 1], ')')) || isP(toks[k - 1], '('))) at = k;
      }
    }
    if (at < 0) return;
    const c = new Cursor(toks);
    c.i = at + 1;
    c.accept('only');
    const table = c.name();
    if (!table || !this.exists(table)) return;
    this.add(
      'backfill-in-migration',
      toks[at],
      `UPDATE ${table.display} changes data inside the schema migration's transaction: it holds row locks on ${table.display} (and any DDL locks taken earlier) until the whole migration commits`,
      `move the data change to a batched backfill (\`cockpit migrate backfill\`): small batches, each committed, resumable; keep only the schema change here`,
    );
  }

  private createTable(c: Cursor): void {
    c.accept('if', 'not', 'exists');
    const table = c.name();
    if (!table) return;
    this.created.add(table.key);
    if (!isP(c.peek(), '(')) return;
    // Column definitions: the parenthesised list right after the name.
    let depth = 0;
    let end = c.i;
    for (; end < c.toks.length; end++) {
      if (isP(c.toks[end], '(')) depth++;
      else if (isP(c.toks[end], ')') && --depth === 0) break;
    }
    for (const el of splitTopLevel(c.toks.slice(c.i + 1, end))) {
      const first = el[0];
      if (first.kind === 'word' && (TABLE_CONSTRAINT_WORDS.has(first.value) || first.value === 'like')) continue;
      this.jsonColumn(table, first, el.slice(1));
    }
  }

  private jsonColumn(table: Name, col: Token, typeAndRest: Token[]): void {
    const type = columnType(typeAndRest);
    if (type.base !== 'json') return;
    const name = col.kind === 'word' ? col.value : col.raw;
    this.add(
      'json-type',
      col,
      `column ${name} of ${table.display} is json: json has no equality operator, so SELECT DISTINCT, UNION and GROUP BY on it fail, and it is re-parsed on every read`,
      `use jsonb for ${name}`,
    );
  }

  private createIndex(c: Cursor): void {
    const unique = c.accept('unique');
    c.accept('index');
    const concurrently = c.accept('concurrently');
    const ifNotExists = c.accept('if', 'not', 'exists');
    const head = c.toks[0];
    let index: Name | null = null;
    if (!c.is('on')) index = c.name();
    if (!c.accept('on')) return;
    c.accept('only');
    const table = c.name();
    if (!table) return;
    if (index) this.createdIndexes.add(index.key);
    if (!this.exists(table)) return;
    const kind = unique ? 'UNIQUE INDEX' : 'INDEX';
    const idx = index ? `${index.display} ` : '';
    this.locking(`CREATE ${kind} ${idx}ON ${table.display}`, head);
    if (!concurrently) {
      this.add(
        'index-not-concurrent',
        head,
        `CREATE ${kind} ${idx}on ${table.display} without CONCURRENTLY blocks every write to ${table.display} for the whole index build`,
        `CREATE ${kind} CONCURRENTLY IF NOT EXISTS ${idx}ON ${table.display} … in a migration declared noTransaction (not needed for a table created in the same migration)`,
      );
    } else if (this.m.noTransaction && !ifNotExists) {
      this.add(
        'non-idempotent-no-transaction',
        head,
        `CREATE ${kind} CONCURRENTLY ${idx}on ${table.display} has no IF NOT EXISTS: this migration runs without a transaction, so if it fails after this statement a re-run errors with "already exists"`,
        `CREATE ${kind} CONCURRENTLY IF NOT EXISTS ${idx}ON ${table.display} …; a failed CREATE INDEX CONCURRENTLY leaves an INVALID index that IF NOT EXISTS would skip, so the runner checks pg_index.indisvalid before re-running and drops an invalid index first`,
      );
    }
  }

  private dropIndex(c: Cursor): void {
    const head = c.toks[0];
    const concurrently = c.accept('concurrently');
    const ifExists = c.accept('if', 'exists');
    const names: Name[] = [];
    for (;;) {
      const n = c.name();
      if (!n) break;
      names.push(n);
      if (!isP(c.peek(), ',')) break;
      c.i++;
    }
    const existing = names.filter((n) => !this.createdIndexes.has(n.key));
    for (const n of names) this.createdIndexes.delete(n.key);
    if (existing.length === 0) return;
    const list = existing.map((n) => n.display).join(', ');
    this.locking(`DROP INDEX ${list}`, head);
    if (!concurrently) {
      this.add(
        'drop-index-not-concurrent',
        head,
        `DROP INDEX ${list} without CONCURRENTLY takes an ACCESS EXCLUSIVE lock on the index's table, blocking reads and writes while it waits and runs`,
        `DROP INDEX CONCURRENTLY IF EXISTS ${list}; in a migration declared noTransaction (one index per statement)`,
      );
    } else if (this.m.noTransaction && !ifExists) {
      this.add(
        'non-idempotent-no-transaction',
        head,
        `DROP INDEX CONCURRENTLY ${list} has no IF EXISTS: this migration runs without a transaction, so a re-run after a partial failure errors with "does not exist"`,
        `DROP INDEX CONCURRENTLY IF EXISTS ${list};`,
      );
    }
  }

  private dropTable(c: Cursor): void {
    c.accept('if', 'exists');
    const head = c.toks[0];
    for (;;) {
      const t = c.peek();
      const table = c.name();
      if (!table) break;
      if (this.exists(table)) {
        this.locking(`DROP TABLE ${table.display}`, head);
        this.add(
          'drop-table',
          t,
          `DROP TABLE ${table.display} is backward-incompatible: the previous code version still reads and writes ${table.display}, and its data is lost`,
          `stop using ${table.display} in the code, deploy, then drop it in a later migration (contract step)`,
        );
      }
      this.created.delete(table.key);
      if (!isP(c.peek(), ',')) break;
      c.i++;
    }
  }

  private alterTable(c: Cursor): void {
    if (c.is('all')) return; // ALTER TABLE ALL IN TABLESPACE
    c.accept('if', 'exists');
    c.accept('only');
    const table = c.name();
    if (!table) return;
    if (isP(c.peek(), '*')) c.i++;
    const existing = this.exists(table);
    if (existing) this.locking(`ALTER TABLE ${table.display}`, c.toks[0]);
    if (c.is('rename')) return this.rename(c, table, existing);
    for (const action of splitTopLevel(c.rest())) this.alterAction(table, existing, new Cursor(action));
  }

  private rename(c: Cursor, table: Name, existing: boolean): void {
    const at = c.peek();
    c.accept('rename');
    if (c.accept('to')) {
      const to = c.name();
      if (!to) return;
      if (!existing) {
        this.created.delete(table.key);
        this.created.add(to.key);
        return;
      }
      this.add(
        'rename-table',
        at,
        `renaming table ${table.display} to ${to.display} breaks the previous code version, which still uses ${table.display}`,
        `expand/contract: create ${to.display}, dual-write to both, backfill ${to.display} in batches, move reads to ${to.display}, stop writing ${table.display}, then drop ${table.display} in a later migration (or keep a view named ${table.display} during the transition)`,
      );
      return;
    }
    if (c.is('constraint')) return;
    c.accept('column');
    const col = c.name();
    if (!col || !c.accept('to')) return;
    const to = c.name();
    if (!to || !existing) return;
    this.add(
      'rename-column',
      at,
      `renaming column ${table.display}.${col.display} to ${to.display} breaks the previous code version, which still reads and writes ${col.display}`,
      `expand/contract: add ${to.display}, dual-write ${col.display} and ${to.display}, backfill ${to.display} in batches, move reads to ${to.display}, stop writing ${col.display}, then drop ${col.display} in a later migration`,
    );
  }

  private alterAction(table: Name, existing: boolean, a: Cursor): void {
    const at = a.peek();
    if (a.accept('add')) {
      if (a.is(...TABLE_CONSTRAINT_WORDS)) return this.addConstraint(table, existing, a, at);
      a.accept('column');
      a.accept('if', 'not', 'exists');
      const colTok = a.peek();
      const col = a.name();
      if (!col || !colTok) return;
      return this.addColumn(table, existing, col, colTok, a.rest());
    }
    if (a.accept('drop')) {
      if (a.is('constraint')) return;
      a.accept('column');
      a.accept('if', 'exists');
      const col = a.name();
      if (!col || !existing) return;
      this.add(
        'drop-column',
        at,
        `dropping column ${table.display}.${col.display} is backward-incompatible: the previous code version still reads it (SELECT * and ORMs that list every column break)`,
        `stop using ${col.display} in the code (ignore it in the ORM), deploy, then drop it in a later migration (contract step)`,
      );
      return;
    }
    if (a.accept('validate', 'constraint')) {
      const con = a.name();
      if (!con) return;
      this.validated.add(table.key);
      if (this.notValid.has(con.key) && !this.m.noTransaction) {
        this.add(
          'constraint-not-valid',
          at,
          `constraint ${con.display} on ${table.display} is added NOT VALID and validated in the same transaction, so the validation scan runs while the lock taken by ADD CONSTRAINT is still held`,
          `move ALTER TABLE ${table.display} VALIDATE CONSTRAINT ${con.display} to a later migration`,
        );
      }
      return;
    }
    if (a.accept('alter')) {
      a.accept('column');
      const colTok = a.peek();
      const col = a.name();
      if (!col || !colTok) return;
      if (a.accept('type') || a.accept('set', 'data', 'type')) {
        const rest = a.rest();
        const using = findWord(rest, 'using');
        const typeToks = using >= 0 ? rest.slice(0, using) : rest;
        const type = columnType(typeToks);
        if (type.base === 'json') this.jsonColumn(table, colTok, typeToks);
        if (!existing) return;
        this.add(
          'change-column-type',
          at,
          `changing the type of ${table.display}.${col.display} to ${type.text} rewrites ${table.display} and its indexes under ACCESS EXCLUSIVE (blocking reads and writes) unless it is varchar→text or a widening (longer varchar, more numeric precision), and the previous code version may not handle the new type`,
          `unless it is varchar→text or widening: expand/contract with a new column ${col.display}_new ${type.text}: add it, dual-write, backfill in batches, move reads, then drop ${col.display} in a later migration`,
        );
        return;
      }
      if (a.accept('set', 'not', 'null')) {
        if (!existing || this.validated.has(table.key)) return;
        this.add(
          'set-not-null',
          at,
          `SET NOT NULL on ${table.display}.${col.display} scans the whole table under ACCESS EXCLUSIVE (blocking reads and writes), fails if any row is NULL, and the previous code version may still write NULL`,
          `migration 1: ALTER TABLE ${table.display} ADD CONSTRAINT ${col.display}_not_null CHECK (${col.display} IS NOT NULL) NOT VALID; backfill NULLs; migration 2: ALTER TABLE ${table.display} VALIDATE CONSTRAINT ${col.display}_not_null; then ALTER COLUMN ${col.display} SET NOT NULL (PG12+ skips the scan) and DROP CONSTRAINT ${col.display}_not_null`,
        );
      }
    }
  }

  private addColumn(table: Name, existing: boolean, col: Name, colTok: Token, def: Token[]): void {
    const type = columnType(def);
    if (type.base === 'json') this.jsonColumn(table, colTok, def);
    if (!existing) return;
    const what = `${table.display}.${col.display}`;
    const defaultAt = findWord(def, 'default');
    const generated = findWord(def, 'generated');
    const serial = SERIAL_TYPES.has(type.base);
    const identity = generated >= 0 && findWord(def.slice(generated), 'identity') >= 0;
    const stored = generated >= 0 && !identity;
    const notNull = findPair(def, 'not', 'null') >= 0 || findPair(def, 'primary', 'key') >= 0;

    if (notNull && defaultAt < 0 && !serial && generated < 0) {
      this.add(
        'add-required-column',
        colTok,
        `ADD COLUMN ${what} is NOT NULL without a DEFAULT: it fails if ${table.display} has any rows, and the previous code version inserts rows without it`,
        `add ${col.display} with a non-volatile DEFAULT (PG11+ does not rewrite the table), or add it nullable, backfill it in batches, then set NOT NULL with the CHECK … NOT VALID / VALIDATE pattern`,
      );
    }
    let volatile: string | null = null;
    if (defaultAt >= 0) {
      // The DEFAULT expression runs until the next column-constraint keyword outside parentheses.
      let depth = 0;
      for (let k = defaultAt + 1; k < def.length; k++) {
        const t = def[k];
        if (isP(t, '(')) depth++;
        else if (isP(t, ')')) depth--;
        else if (depth === 0 && t.kind === 'word' && COLUMN_CONSTRAINT_WORDS.has(t.value)) break;
        else if (t.kind === 'word' && VOLATILE_FUNCTIONS.has(t.value) && isP(def[k + 1], '(')) {
          volatile = `DEFAULT ${t.value}()`;
          break;
        }
      }
    }
    if (!volatile && serial) volatile = `type ${type.base} (a nextval() default)`;
    if (!volatile && identity) volatile = 'GENERATED … AS IDENTITY';
    if (!volatile && stored) volatile = 'GENERATED ALWAYS AS (…) STORED';
    if (volatile) {
      this.add(
        'volatile-default',
        colTok,
        `ADD COLUMN ${what} with ${volatile} computes a value for every existing row, rewriting ${table.display} under ACCESS EXCLUSIVE (blocking reads and writes)`,
        `add ${col.display} nullable with no default (or a constant default), set the default for new rows with ALTER COLUMN ${col.display} SET DEFAULT …, and fill existing rows with a batched backfill (\`cockpit migrate backfill\`)`,
      );
    }
    if (findWord(def, 'unique') >= 0 || findPair(def, 'primary', 'key') >= 0) {
      this.add(
        'unique-constraint',
        colTok,
        `ADD COLUMN ${what} with UNIQUE/PRIMARY KEY builds a unique index on ${table.display} while holding ACCESS EXCLUSIVE`,
        `add ${col.display} without the constraint, CREATE UNIQUE INDEX CONCURRENTLY in a noTransaction migration, then ALTER TABLE ${table.display} ADD CONSTRAINT … UNIQUE USING INDEX …`,
      );
    }
  }

  private addConstraint(table: Name, existing: boolean, a: Cursor, at: Token | undefined): void {
    let con: Name | null = null;
    if (a.accept('constraint')) con = a.name();
    const kindTok = a.peek();
    if (!kindTok || kindTok.kind !== 'word') return;
    const body = a.rest();
    const notValid = findPair(body, 'not', 'valid') >= 0;
    const label = con ? `${con.display} ` : '';
    const conName = con?.display ?? '<name>';
    if (kindTok.value === 'foreign' || kindTok.value === 'check') {
      if (notValid) {
        if (con) this.notValid.set(con.key, table.display);
        return;
      }
      if (!existing) return;
      const refAt = findWord(body, 'references');
      let ref = '';
      if (refAt >= 0) {
        const rc = new Cursor(body);
        rc.i = refAt + 1;
        ref = rc.name()?.display ?? '';
      }
      const kind = kindTok.value === 'foreign' ? 'FOREIGN KEY' : 'CHECK';
      const blocks =
        kind === 'FOREIGN KEY'
          ? `blocking writes to ${table.display}${ref ? ` and ${ref}` : ''}`
          : `under ACCESS EXCLUSIVE, blocking reads and writes on ${table.display}`;
      this.add(
        'constraint-not-valid',
        at,
        `ADD CONSTRAINT ${label}${kind} on ${table.display} without NOT VALID checks every existing row while holding its lock, ${blocks}`,
        `ALTER TABLE ${table.display} ADD CONSTRAINT ${conName} ${kind} … NOT VALID in this migration, then ALTER TABLE ${table.display} VALIDATE CONSTRAINT ${conName} in a later migration`,
      );
      return;
    }
    if (kindTok.value === 'unique' || kindTok.value === 'primary') {
      if (!existing || findPair(body, 'using', 'index') >= 0) return;
      const kind = kindTok.value === 'unique' ? 'UNIQUE' : 'PRIMARY KEY';
      const cols = body.slice(kindTok.value === 'unique' ? 1 : 2);
      const colText = isP(cols[0], '(') ? renderTokens(cols.slice(0, cols.findIndex((t) => isP(t, ')')) + 1)) : '(…)';
      const idxName = con ? con.display : `${table.key}_…_key`;
      this.add(
        'unique-constraint',
        at,
        `ADD ${con ? `CONSTRAINT ${label}` : ''}${kind} ${colText} on ${table.display} builds its index while holding ACCESS EXCLUSIVE, blocking reads and writes for the whole build`,
        `CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS ${idxName} ON ${table.display} ${colText} in a noTransaction migration, then ALTER TABLE ${table.display} ADD CONSTRAINT ${idxName} ${kind} USING INDEX ${idxName}`,
      );
    }
  }
}

export function lintMigration(m: LintInput): Finding[] {
  return new Linter(m).run();
}
