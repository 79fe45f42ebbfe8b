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
  'drop-database': 'error',
  'rename-column': 'error',
  'rename-table': 'error',
  'change-column-type': 'error',
  'set-not-null': 'error',
  'add-required-column': 'error',
  // A rewrite of the whole table under ACCESS EXCLUSIVE: blocks reads and writes for as long as the table is big.
  'volatile-default': 'error',
  'index-not-concurrent': 'error',
  // ACCESS EXCLUSIVE on the index's table; waiting for it queues every read and write behind the DROP.
  'drop-index-not-concurrent': 'error',
  'concurrent-in-transaction': 'error',
  'constraint-not-valid': 'error',
  'unique-constraint': 'error',
  // REINDEX without CONCURRENTLY, VACUUM FULL, CLUSTER: ACCESS EXCLUSIVE for the whole rebuild.
  'blocking-maintenance': 'error',
  // Empties every table with a foreign key to the named ones, too — tables the migration does not name.
  'truncate-cascade': 'error',
  // Without it an ACCESS EXCLUSIVE lock that has to wait makes every later query on the table wait too.
  'no-lock-timeout': 'error',
  'backfill-in-migration': 'warning',
  'non-idempotent-no-transaction': 'warning',
  'json-type': 'warning',
  'char-type': 'warning',
  'drop-not-null': 'warning',
  'domain-constraint': 'warning',
  'dynamic-sql': 'warning',
  /** A migration file that could not be loaded (reported by the CLI's lint, never by lintMigration). */
  'unreadable-file': 'error',
} as const satisfies Readonly<Record<string, Severity>>;

/** A rule's id: a misspelt one does not compile. */
export type RuleId = keyof typeof RULES;

/**
 * Functions a DEFAULT may call without ADD COLUMN rewriting the table: IMMUTABLE or STABLE built-ins, evaluated once
 * when the column is added (PG11+ stores the value as a "fast default"). A call of any other function — random(),
 * gen_random_uuid(), clock_timestamp(), nextval(), or a function of the application's own whose volatility lint
 * cannot see — counts as volatile: Postgres evaluates it for every existing row, rewriting the table.
 * now() and its kin are STABLE; they are listed in NO_ARG_STABLE because they take no argument (now(123) is no
 * such function).
 */
const NON_VOLATILE_FUNCTIONS = new Set([
  // text
  'lower',
  'upper',
  'initcap',
  'length',
  'char_length',
  'character_length',
  'octet_length',
  'concat',
  'concat_ws',
  'format',
  'substr',
  'left',
  'right',
  'lpad',
  'rpad',
  'ltrim',
  'rtrim',
  'btrim',
  'repeat',
  'replace',
  'reverse',
  'split_part',
  'translate',
  'md5',
  'to_char',
  'to_number',
  'to_date',
  'to_timestamp',
  'chr',
  'ascii',
  'quote_ident',
  'quote_literal',
  'encode',
  'decode',
  // numbers
  'abs',
  'ceil',
  'ceiling',
  'floor',
  'round',
  'trunc',
  'mod',
  'power',
  'sqrt',
  'exp',
  'ln',
  'log',
  'sign',
  'div',
  // dates and times (STABLE ones that take arguments: evaluated once, like now())
  'date_trunc',
  'date_part',
  'make_date',
  'make_time',
  'make_timestamp',
  'make_timestamptz',
  'make_interval',
  'age',
  'timezone',
  'justify_days',
  'justify_hours',
  'justify_interval',
  // json and arrays
  'jsonb_build_object',
  'jsonb_build_array',
  'json_build_object',
  'json_build_array',
  'to_jsonb',
  'to_json',
  'jsonb_object',
  'json_object',
  'array_fill',
  'array_append',
  'array_prepend',
  'array_cat',
  'array_length',
  'cardinality',
  'int4range',
  'int8range',
  'numrange',
  'tsrange',
  'tstzrange',
  'daterange',
  'current_setting',
]);
/** STABLE built-ins called without arguments (a call with arguments is no such function, so counts as unknown). */
const NO_ARG_STABLE = new Set([
  'now',
  'transaction_timestamp',
  'statement_timestamp',
  'pi',
  'current_schema',
  'current_database',
  'version',
]);
/**
 * Words followed by `(` in an expression that are SQL syntax, not function calls: CAST(… AS …), COALESCE(…),
 * ARRAY(…), ROW(…), a type's modifier (numeric(10, 2), varchar(10), timestamp(3), current_timestamp(3)), …
 */
const EXPRESSION_SYNTAX = new Set([
  'cast',
  'coalesce',
  'nullif',
  'greatest',
  'least',
  'array',
  'row',
  'extract',
  'position',
  'substring',
  'trim',
  'overlay',
  'current_timestamp',
  'current_time',
  'localtimestamp',
  'localtime',
  'in',
  'and',
  'or',
  'not',
  'then',
  'else',
  'when',
  'case',
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
function columnType(toks: Token[]): { text: string; base: string; quoted: boolean; varying: boolean } {
  let end = 0;
  while (end < toks.length && !(toks[end].kind === 'word' && COLUMN_CONSTRAINT_WORDS.has(toks[end].value))) end++;
  const typeToks = toks.slice(0, end);
  // The base type name: the last name part before any '(' or '[' (pg_catalog.json → json).
  let base = '';
  let quoted = false;
  let varying = false;
  for (const t of typeToks) {
    if (isP(t, '(') || isP(t, '[')) break;
    if (t.kind === 'word' || t.kind === 'ident') {
      base = t.value;
      quoted = t.kind === 'ident';
      if (t.value === 'varying') varying = true;
    }
  }
  return { text: renderTokens(typeToks), base, quoted, varying };
}

/**
 * The first function call in a DEFAULT expression that is not known to be immutable or stable (so Postgres
 * evaluates it once per existing row), or null. Words before `(` that are syntax (CAST, COALESCE, ARRAY, …) or a
 * type's modifier (`::numeric(10, 2)`, `AS varchar(10)`) are not calls.
 */
function volatileCall(expr: Token[]): string | null {
  for (let k = 0; k < expr.length - 1; k++) {
    const t = expr[k];
    if ((t.kind !== 'word' && t.kind !== 'ident') || !isP(expr[k + 1], '(')) continue;
    const prev = expr[k - 1];
    // A type name: after ::, after AS (in CAST), or a schema-qualified one after ::.
    if (prev && (isP(prev, '::') || isW(prev, 'as'))) continue;
    if (prev && isP(prev, '.') && (isP(expr[k - 3], '::') || isW(expr[k - 3], 'as'))) continue;
    if (t.kind === 'word' && EXPRESSION_SYNTAX.has(t.value)) continue;
    if (NON_VOLATILE_FUNCTIONS.has(t.value)) continue;
    if (NO_ARG_STABLE.has(t.value) && isP(expr[k + 2], ')')) continue;
    return t.kind === 'word' ? t.value : t.raw;
  }
  return null;
}

/** The column of a CHECK body `(col IS NOT NULL)` (its key), or null for any other check. */
function notNullCheckColumn(body: Token[]): string | null {
  // ( col IS NOT NULL ) [NOT VALID]
  const [open, col, is, not, nul, close] = body;
  if (!isP(open, '(') || !isP(close, ')') || !isW(is, 'is') || !isW(not, 'not') || !isW(nul, 'null')) return null;
  if (!col || (col.kind !== 'word' && col.kind !== 'ident')) return null;
  return col.value;
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
  /** Keys of every constraint added in this migration. */
  private readonly addedConstraints = new Set<string>();
  /** CHECK (col IS NOT NULL) constraints added in this migration: key → table key and column key. */
  private readonly notNullChecks = new Map<string, { table: string; column: string }>();
  /** `table.column` pairs proven NOT NULL by a validated CHECK (col IS NOT NULL) earlier in this migration. */
  private readonly provenNotNull = new Set<string>();
  /**
   * Tables with a VALIDATE CONSTRAINT of a constraint added by an earlier migration: its definition is not visible
   * here, so a SET NOT NULL that follows is trusted to be the second half of the CHECK … NOT VALID pattern.
   */
  private readonly validatedElsewhere = new Set<string>();
  /** Constraint keys dropped with IF EXISTS earlier in this migration (a re-run can add them again). */
  private readonly droppedIfExists = new Set<string>();
  private lockTimeout = false;
  private firstLocking: LockingStatement | null = null;
  private stmtIndex = 0;
  private stmtLine = 1;

  constructor(
    private readonly m: LintInput,
    private readonly severity: SeverityOverrides = {},
    private readonly target: LintTarget = {},
  ) {}

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
        severity: RULES['missing-downgrade'],
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
        severity: RULES['no-lock-timeout'],
        statement: -1,
        line: first.line,
        message: `${first.what} (statement ${first.statement + 1}) takes a lock with no lock_timeout set before it: if it has to wait (e.g. behind a long-running query), every later read and write on that table queues behind it`,
        fix: `add \`SET lock_timeout = '5s';\` before statement ${first.statement + 1}${local} and retry the migration if it times out; the runner may also set a lock_timeout on its session, but the migration should not depend on that (it can be run by hand from \`cockpit migrate upgrade --sql\`)`,
      });
    }
    const out: Finding[] = [];
    for (const f of this.findings) {
      const level = this.severity[f.rule] ?? f.severity;
      if (level !== 'off') out.push({ ...f, severity: level });
    }
    return out.sort((a, b) => a.statement - b.statement);
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
    if (c.accept('drop', 'database')) return this.dropDatabase(c);
    if (c.accept('drop', 'type') || c.accept('drop', 'domain')) return this.dropType(c);
    if (c.is('truncate')) return this.truncate(c);
    if (c.is('reindex', 'vacuum', 'cluster')) return this.maintenance(c);
    if (c.accept('lock')) return this.lockTable(c);
    if (c.accept('alter', 'domain')) return this.alterDomain(c);
    if (c.accept('create')) {
      c.accept('or', 'replace');
      if (c.is('unique', 'index')) return this.createIndex(c);
      if (c.accept('domain')) return this.createDomain(c);
      if (!c.accept('global')) c.accept('local');
      const temp = c.accept('temporary') || c.accept('temp');
      if (!temp) c.accept('unlogged');
      if (c.accept('table')) return this.createTable(c, temp);
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

  private dropDatabase(c: Cursor): void {
    const head = c.toks[0];
    c.accept('if', 'exists');
    const db = c.name();
    this.add(
      'drop-database',
      head,
      `DROP DATABASE ${db?.display ?? ''} deletes a whole database and all its data; it has no place in an application's schema migration (and no rollback can bring the data back)`,
      `drop a database by hand, after a backup, outside the migrations; if the application stops using it, remove the code first and keep the database until that release is settled`,
    );
  }

  private dropType(c: Cursor): void {
    const what = c.toks[1]?.value === 'domain' ? 'DOMAIN' : 'TYPE';
    const ifExists = c.accept('if', 'exists');
    if (!this.m.noTransaction || ifExists) return;
    const names = renderTokens(c.rest().filter((t) => !isW(t, 'cascade', 'restrict')));
    this.add(
      'non-idempotent-no-transaction',
      c.toks[0],
      `DROP ${what} ${names} has no IF EXISTS: this migration runs without a transaction, so a re-run after a partial failure errors with "does not exist"`,
      `DROP ${what} IF EXISTS ${names};`,
    );
  }

  /** TRUNCATE: ACCESS EXCLUSIVE on the tables (lock_timeout); CASCADE also empties every table referencing them. */
  private truncate(c: Cursor): void {
    const head = c.toks[0];
    c.accept('truncate');
    c.accept('table');
    const names = splitTopLevel(c.rest())
      .map((p) => new Cursor(p))
      .map((pc) => (pc.accept('only'), pc.name()))
      .filter((n): n is Name => n !== null);
    const existing = names.filter((n) => this.exists(n));
    if (existing.length) this.locking(`TRUNCATE ${existing.map((n) => n.display).join(', ')}`, head);
    if (findWord(c.toks, 'cascade') < 0) return;
    const list = names.map((n) => n.display).join(', ');
    this.add(
      'truncate-cascade',
      head,
      `TRUNCATE ${list} CASCADE also empties every table with a foreign key to ${list} (and the tables referencing those, recursively): tables this migration does not name lose their data`,
      `TRUNCATE the tables by name, without CASCADE (Postgres then refuses if another table still references them), or delete the dependent rows explicitly`,
    );
  }

  /** REINDEX without CONCURRENTLY, VACUUM FULL and CLUSTER rebuild a table or index under ACCESS EXCLUSIVE. */
  private maintenance(c: Cursor): void {
    const head = c.toks[0];
    const verb = head.value;
    // Options in parentheses: REINDEX (CONCURRENTLY) …, VACUUM (FULL, ANALYZE) …
    const opts: Token[] = [];
    c.accept(verb);
    if (isP(c.peek(), '(')) {
      let depth = 0;
      for (; c.i < c.toks.length; c.i++) {
        const t = c.toks[c.i];
        if (isP(t, '(')) depth++;
        else if (isP(t, ')') && --depth === 0) {
          c.i++;
          break;
        } else opts.push(t);
      }
    }
    const optOn = (word: string): boolean => {
      const at = opts.findIndex((t) => isW(t, word));
      if (at < 0) return false;
      const v = opts[at + 1];
      return !(
        v &&
        (isW(v, 'false', 'off') || v.value === '0' || (v.kind === 'string' && ['false', 'off', '0'].includes(v.value.toLowerCase())))
      );
    };
    let what = '';
    if (verb === 'reindex') {
      c.accept('verbose');
      const target = c.peek()?.value ?? '';
      c.i++;
      if (target === 'system') return;
      if (optOn('concurrently') || c.accept('concurrently')) return;
      const name = c.name();
      if (target === 'table' && name && !this.exists(name)) return;
      if (target === 'index' && name && this.createdIndexes.has(name.key)) return;
      what = `REINDEX ${target.toUpperCase()} ${name?.display ?? ''}`.trim();
      this.locking(what, head);
      this.add(
        'blocking-maintenance',
        head,
        `${what} without CONCURRENTLY rebuilds the index${target === 'index' ? '' : 'es'} holding a lock that blocks every write (and, for an index the planner picks, reads) until it finishes`,
        `${what.replace(/^REINDEX (\w+)/, 'REINDEX $1 CONCURRENTLY')} (PG12+) in a migration declared noTransaction; on PG11, CREATE INDEX CONCURRENTLY a copy, then DROP INDEX CONCURRENTLY the old one`,
      );
      return;
    }
    if (verb === 'vacuum') {
      if (!(c.accept('full') || optOn('full'))) return;
      c.accept('freeze');
      c.accept('verbose');
      c.accept('analyze');
      const name = c.name();
      if (name && !this.exists(name)) return;
      what = `VACUUM FULL ${name?.display ?? '(every table)'}`;
    } else {
      c.accept('verbose');
      const name = c.name();
      if (name && !this.exists(name)) return;
      what = `CLUSTER ${name?.display ?? '(every clustered table)'}`;
    }
    this.locking(what, head);
    this.add(
      'blocking-maintenance',
      head,
      `${what} rewrites the table under ACCESS EXCLUSIVE, blocking reads and writes for the whole rewrite`,
      `do not rewrite a live table in a migration: plain VACUUM (no lock on reads or writes) reclaims space for reuse; to compact a table use pg_repack (or REPACK CONCURRENTLY on PG19+), run by hand`,
    );
  }

  /** LOCK TABLE: a lock like any other (lock_timeout). */
  private lockTable(c: Cursor): void {
    const head = c.toks[0];
    c.accept('table');
    c.accept('only');
    const name = c.name();
    if (name && this.exists(name)) this.locking(`LOCK TABLE ${name.display}`, head);
  }

  /** domain-constraint: ALTER DOMAIN … ADD CONSTRAINT checks every column of the domain, in every table. */
  private alterDomain(c: Cursor): void {
    const domain = c.name();
    const at = c.peek();
    if (!domain || !c.accept('add')) return;
    if (findPair(c.rest(), 'not', 'valid') >= 0) return;
    this.add(
      'domain-constraint',
      at,
      `ALTER DOMAIN ${domain.display} ADD CONSTRAINT checks every value of every column of type ${domain.display}, in every table, while holding locks that block writes to them`,
      `add the constraint NOT VALID, then ALTER DOMAIN ${domain.display} VALIDATE CONSTRAINT … in a later migration; or use a CHECK constraint on the table's column instead of one on the domain`,
    );
  }

  /** domain-constraint: a CREATE DOMAIN with a constraint can only be changed later with ALTER DOMAIN, which scans. */
  private createDomain(c: Cursor): void {
    const domain = c.name();
    if (!domain) return;
    const rest = c.rest();
    const at =
      rest.find((t) => isW(t, 'check', 'constraint')) ??
      (findPair(rest, 'not', 'null') >= 0 ? rest[findPair(rest, 'not', 'null')] : undefined);
    if (!at) return;
    this.add(
      'domain-constraint',
      at,
      `CREATE DOMAIN ${domain.display} with a constraint: changing that constraint later (ALTER DOMAIN … ADD CONSTRAINT) checks every column of the domain in every table, and Postgres does not check a domain's NOT NULL on every path (e.g. outer joins, a column added later)`,
      `create the domain without constraints and put CHECK constraints on the tables' columns (added NOT VALID, validated later), where they can be changed without scanning every table`,
    );
  }

  private createTable(c: Cursor, temp: boolean): void {
    const head = c.toks[0];
    const ifNotExists = c.accept('if', 'not', 'exists');
    const table = c.name();
    if (!table) return;
    this.created.add(table.key);
    // A temporary table dropped at commit is gone again before a re-run (each statement commits on its own here).
    const onCommitDrop = temp && findPair(c.toks, 'commit', 'drop') >= 0;
    if (this.m.noTransaction && !ifNotExists && !onCommitDrop) {
      this.add(
        'non-idempotent-no-transaction',
        head,
        `CREATE TABLE ${table.display} has no IF NOT EXISTS: this migration runs without a transaction, so if it fails after this statement a re-run errors with "already exists"`,
        `CREATE TABLE IF NOT EXISTS ${table.display} (…)`,
      );
    }
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
      this.columnTypeRules(table, first, el.slice(1));
    }
  }

  /** json-type and char-type: a column's type, in CREATE TABLE, ADD COLUMN or ALTER COLUMN … TYPE. */
  private columnTypeRules(table: Name, col: Token, typeAndRest: Token[]): void {
    const type = columnType(typeAndRest);
    const name = col.kind === 'word' ? col.value : col.raw;
    // char(n)/character(n)/bpchar/nchar (not "char", the one-byte internal type, nor character varying).
    if (!type.quoted && !type.varying && ['char', 'character', 'bpchar', 'nchar'].includes(type.base)) {
      this.add(
        'char-type',
        col,
        `column ${name} of ${table.display} is ${type.text}: char(n) pads every value with spaces to n characters (comparisons and length() then surprise), stores no less than text, and a later change of n is an ALTER COLUMN … TYPE under ACCESS EXCLUSIVE`,
        `use text for ${name} (with a CHECK (char_length(${name}) <= n) NOT VALID constraint if the length must be limited), or varchar(n)`,
      );
      return;
    }
    if (type.base !== 'json') return;
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
    const kind = unique ? 'UNIQUE INDEX' : 'INDEX';
    const idx = index ? `${index.display} ` : '';
    // An unnamed index gets a fresh name on a re-run, so it cannot fail with "already exists".
    const rerunFails = this.m.noTransaction && !ifNotExists && index !== null;
    if (!this.exists(table)) {
      if (rerunFails && !concurrently) {
        this.add(
          'non-idempotent-no-transaction',
          head,
          `CREATE ${kind} ${idx}has no IF NOT EXISTS: this migration runs without a transaction, so if it fails after this statement a re-run errors with "already exists"`,
          `CREATE ${kind} IF NOT EXISTS ${idx}ON ${table.display} …`,
        );
      }
      return;
    }
    this.locking(`CREATE ${kind} ${idx}ON ${table.display}`, head);
    if (!concurrently) {
      this.add(
        'index-not-concurrent',
        head,
        `CREATE ${kind} ${idx}on ${table.display} without CONCURRENTLY blocks every write to ${table.display} for the whole index build`,
        `CREATE ${kind} CONCURRENTLY IF NOT EXISTS ${idx}ON ${table.display} … in a migration declared noTransaction (not needed for a table created in the same migration)`,
      );
    }
    if (rerunFails) {
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
    const all = names.map((n) => n.display).join(', ');
    const cc = concurrently ? 'CONCURRENTLY ' : '';
    if (names.length && this.m.noTransaction && !ifExists) {
      this.add(
        'non-idempotent-no-transaction',
        head,
        `DROP INDEX ${cc}${all} has no IF EXISTS: this migration runs without a transaction, so a re-run after a partial failure errors with "does not exist"`,
        `DROP INDEX ${cc}IF EXISTS ${all};`,
      );
    }
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
    }
  }

  private dropTable(c: Cursor): void {
    const ifExists = c.accept('if', 'exists');
    const head = c.toks[0];
    if (this.m.noTransaction && !ifExists) {
      const names = renderTokens(c.rest().filter((t) => !isW(t, 'cascade', 'restrict')));
      this.add(
        'non-idempotent-no-transaction',
        head,
        `DROP TABLE ${names} has no IF EXISTS: this migration runs without a transaction, so a re-run after a partial failure errors with "does not exist"`,
        `DROP TABLE IF EXISTS ${names};`,
      );
    }
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
      const ifNotExists = a.accept('if', 'not', 'exists');
      const colTok = a.peek();
      const col = a.name();
      if (!col || !colTok) return;
      if (this.m.noTransaction && !ifNotExists) {
        this.add(
          'non-idempotent-no-transaction',
          at,
          `ADD COLUMN ${table.display}.${col.display} has no IF NOT EXISTS: this migration runs without a transaction, so if it fails after this statement a re-run errors with "already exists"`,
          `ALTER TABLE ${table.display} ADD COLUMN IF NOT EXISTS ${col.display} …`,
        );
      }
      return this.addColumn(table, existing, col, colTok, a.rest());
    }
    if (a.accept('drop')) {
      if (a.accept('constraint')) {
        const ifExists = a.accept('if', 'exists');
        const con = a.name();
        if (!con) return;
        if (ifExists) this.droppedIfExists.add(con.key);
        else if (this.m.noTransaction) {
          this.add(
            'non-idempotent-no-transaction',
            at,
            `DROP CONSTRAINT ${con.display} on ${table.display} has no IF EXISTS: this migration runs without a transaction, so a re-run after a partial failure errors with "does not exist"`,
            `ALTER TABLE ${table.display} DROP CONSTRAINT IF EXISTS ${con.display}`,
          );
        }
        return;
      }
      a.accept('column');
      const ifExists = a.accept('if', 'exists');
      const col = a.name();
      if (!col) return;
      if (this.m.noTransaction && !ifExists) {
        this.add(
          'non-idempotent-no-transaction',
          at,
          `DROP COLUMN ${table.display}.${col.display} has no IF EXISTS: this migration runs without a transaction, so a re-run after a partial failure errors with "does not exist"`,
          `ALTER TABLE ${table.display} DROP COLUMN IF EXISTS ${col.display}`,
        );
      }
      if (!existing) return;
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
      const check = this.notNullChecks.get(con.key);
      if (check && check.table === table.key) this.provenNotNull.add(`${table.key}.${check.column}`);
      else if (!this.addedConstraints.has(con.key)) this.validatedElsewhere.add(table.key);
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
        this.columnTypeRules(table, colTok, typeToks);
        if (!existing) return;
        this.add(
          'change-column-type',
          at,
          `changing the type of ${table.display}.${col.display} to ${type.text} rewrites ${table.display} and its indexes under ACCESS EXCLUSIVE (blocking reads and writes) unless it is varchar→text or a widening (longer varchar, more numeric precision), and the previous code version may not handle the new type`,
          `unless it is varchar→text or widening: expand/contract with a new column ${col.display}_new ${type.text}: add it, dual-write, backfill in batches, move reads, then drop ${col.display} in a later migration`,
        );
        return;
      }
      if (a.accept('drop', 'not', 'null')) {
        if (!existing) return;
        this.add(
          'drop-not-null',
          at,
          `DROP NOT NULL on ${table.display}.${col.display} lets new code write NULL there, which the previous code version (still running during the deploy) may not expect when it reads ${col.display}`,
          `make sure every reader of ${table.display}.${col.display} handles NULL and is deployed before this migration runs`,
        );
        return;
      }
      if (a.accept('set', 'not', 'null')) {
        if (!existing) return;
        const proven = this.provenNotNull.has(`${table.key}.${col.key}`) || this.validatedElsewhere.has(table.key);
        // PostgreSQL 12 skips SET NOT NULL's scan when a validated CHECK (col IS NOT NULL) proves it; 11 scans anyway.
        if (proven && (this.target.postgresMajor ?? LINT_DEFAULT_MAJOR) >= 12) return;
        if (proven) {
          this.add(
            'set-not-null',
            at,
            `SET NOT NULL on ${table.display}.${col.display} scans the whole table under ACCESS EXCLUSIVE on PostgreSQL ${this.target.postgresMajor}, even after a validated CHECK (${col.display} IS NOT NULL): only PostgreSQL 12+ uses that constraint to skip the scan`,
            `on PostgreSQL 11 keep the validated CHECK (${col.display} IS NOT NULL) as the guarantee and leave the column nullable until the server runs 12 or later`,
          );
          return;
        }
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
    this.columnTypeRules(table, colTok, def);
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
      let end = defaultAt + 1;
      for (; end < def.length; end++) {
        const t = def[end];
        if (isP(t, '(')) depth++;
        else if (isP(t, ')')) depth--;
        else if (depth === 0 && t.kind === 'word' && COLUMN_CONSTRAINT_WORDS.has(t.value)) break;
      }
      const fn = volatileCall(def.slice(defaultAt + 1, end));
      if (fn) volatile = `DEFAULT ${fn}() (a function not known to be immutable or stable)`;
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
    const refAt = findWord(def, 'references');
    if (refAt >= 0) {
      const rc = new Cursor(def);
      rc.i = refAt + 1;
      const ref = rc.name()?.display ?? '';
      this.add(
        'constraint-not-valid',
        def[refAt],
        `ADD COLUMN ${what} … REFERENCES ${ref} adds a validated foreign key: Postgres checks it while holding SHARE ROW EXCLUSIVE on ${table.display} and ${ref || 'the referenced table'}, blocking writes to both`,
        `add ${col.display} without REFERENCES, then ALTER TABLE ${table.display} ADD CONSTRAINT ${table.key}_${col.key}_fkey FOREIGN KEY (${col.display}) REFERENCES ${ref || '…'} NOT VALID, and VALIDATE CONSTRAINT ${table.key}_${col.key}_fkey in a later migration`,
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
    if (con) {
      this.addedConstraints.add(con.key);
      const column = kindTok.value === 'check' ? notNullCheckColumn(body.slice(1)) : null;
      if (column) {
        this.notNullChecks.set(con.key, { table: table.key, column });
        if (!notValid) this.provenNotNull.add(`${table.key}.${column}`);
      }
    }
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

/** Per rule: its severity instead of the default in RULES, or `off` to drop its findings (config `database.lint`). */
export type SeverityOverrides = Partial<Record<RuleId, Severity | 'off'>>;

/**
 * The server the migrations will run on. `postgresMajor` changes what is a hazard (PostgreSQL 11 scans for SET NOT NULL
 * even after a validated CHECK); unknown (an offline lint with no `database.postgresVersion`) lints for 12+.
 */
export interface LintTarget {
  postgresMajor?: number;
}

/** The major version an offline lint assumes when none is configured or read from the server. */
export const LINT_DEFAULT_MAJOR = 12;

export function lintMigration(m: LintInput, severity: SeverityOverrides = {}, target: LintTarget = {}): Finding[] {
  return new Linter(m, severity, target).run();
}
