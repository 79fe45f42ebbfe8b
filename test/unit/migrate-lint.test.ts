import { describe, it, expect } from 'vitest';
import { normalize, splitStatements, tokenize } from '../../src/core/migrate/sql.js';
import { lintMigration, RULES, type Finding } from '../../src/core/migrate/lint.js';

const DOWN = splitStatements('SELECT 1;');
const LT = "SET lock_timeout = '5s';\n";

function lint(up: string, opts: { noTransaction?: boolean; down?: string; postgresMajor?: number } = {}): Finding[] {
  return lintMigration(
    {
      id: '20240101_test',
      up: splitStatements(up),
      down: opts.down === undefined ? DOWN : splitStatements(opts.down),
      noTransaction: opts.noTransaction ?? false,
    },
    {},
    { postgresMajor: opts.postgresMajor },
  );
}
const rules = (fs: Finding[]): string[] => fs.map((f) => f.rule);
const only = (fs: Finding[], rule: string): Finding[] => fs.filter((f) => f.rule === rule);
function one(fs: Finding[], rule: string): Finding {
  const got = only(fs, rule);
  expect(got, `findings: ${rules(fs).join(', ')}`).toHaveLength(1);
  return got[0];
}

describe('splitStatements', () => {
  it('splits on ; and drops empty statements', () => {
    expect(splitStatements('SELECT 1; ;;\n  SELECT 2;\n')).toEqual([
      { text: 'SELECT 1', line: 1 },
      { text: 'SELECT 2', line: 2 },
    ]);
    expect(splitStatements('  -- only a comment;\n/* and; this */ ;')).toEqual([]);
    expect(splitStatements('SELECT 3')).toEqual([{ text: 'SELECT 3', line: 1 }]);
  });

  it("does not split on ; inside '…' strings, with '' escapes", () => {
    const s = splitStatements("INSERT INTO t VALUES (';', 'it''s; fine');\nSELECT 'x'");
    expect(s.map((x) => x.text)).toEqual(["INSERT INTO t VALUES (';', 'it''s; fine')", "SELECT 'x'"]);
  });

  it("handles E'…' strings with backslash escapes (\\' does not close the string)", () => {
    const s = splitStatements("SELECT E'a\\'; b', e'\\\\';\nSELECT 2;");
    expect(s.map((x) => x.text)).toEqual(["SELECT E'a\\'; b', e'\\\\'", 'SELECT 2']);
    // In a standard string a backslash is literal, so 'a\' is a complete string.
    expect(splitStatements("SELECT 'a\\'; SELECT 2").map((x) => x.text)).toEqual(["SELECT 'a\\'", 'SELECT 2']);
  });

  it('handles "quoted identifiers" containing ; and ""', () => {
    const s = splitStatements('CREATE TABLE "we;ird ""t""" (id int); SELECT 1');
    expect(s.map((x) => x.text)).toEqual(['CREATE TABLE "we;ird ""t""" (id int)', 'SELECT 1']);
  });

  it('handles $$ and $tag$ dollar quoting (an inner $$ does not close $tag$)', () => {
    const s = splitStatements("SELECT $$a;b$$; SELECT $fn$ x $$ ; 'y $fn$; SELECT $1, a$b$c;");
    expect(s.map((x) => x.text)).toEqual(['SELECT $$a;b$$', "SELECT $fn$ x $$ ; 'y $fn$", 'SELECT $1, a$b$c']);
  });

  it('handles -- line comments and nested /* */ block comments', () => {
    const sql = ['SELECT 1 -- not here; no', ', 2 /* outer /* inner; */ still; */ ;', 'SELECT 3 /* ; */;'].join('\n');
    const s = splitStatements(sql);
    expect(s).toHaveLength(2);
    expect(s[0].text).toBe('SELECT 1 -- not here; no\n, 2');
    expect(s[1]).toEqual({ text: 'SELECT 3', line: 3 });
  });

  it('keeps a CREATE FUNCTION body with ; inside $$ as one statement', () => {
    const sql = `CREATE OR REPLACE FUNCTION touch() RETURNS trigger AS $$
BEGIN
  NEW.updated_at := now();
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER t BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION touch();`;
    const s = splitStatements(sql);
    expect(s).toHaveLength(2);
    expect(s[0].text.startsWith('CREATE OR REPLACE FUNCTION touch()')).toBe(true);
    expect(s[0].text.endsWith('$$ LANGUAGE plpgsql')).toBe(true);
    expect(s[1]).toEqual({ text: 'CREATE TRIGGER t BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION touch()', line: 8 });
  });

  it('keeps a SQL-standard BEGIN ATOMIC … END body (with CASE … END) as one statement', () => {
    const sql =
      'CREATE FUNCTION f() RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n  SELECT CASE WHEN true THEN 1 END;\n  SELECT 2;\nEND;\nSELECT 3;';
    const s = splitStatements(sql);
    expect(s.map((x) => x.line)).toEqual([1, 6]);
    expect(s[0].text.endsWith('SELECT 2;\nEND')).toBe(true);
    // An ordinary transaction BEGIN does not start a block.
    expect(splitStatements('BEGIN; SELECT 1; END;')).toHaveLength(3);
  });

  it('reports the 1-based line of each statement’s first token (not of comments before it)', () => {
    const sql = "-- header\n\nSELECT 'a\nb';\n/* c\n */ SELECT 2;   SELECT 3;\n\n\n  DROP TABLE x";
    expect(splitStatements(sql).map((s) => s.line)).toEqual([3, 6, 6, 9]);
  });
});

describe('normalize / tokenize', () => {
  it('removes comments, collapses whitespace, lower-cases words and blanks string literals', () => {
    expect(normalize(`ALTER  TABLE "Users" /* c */ ADD COLUMN Foo\n  text DEFAULT E'x;\\'y' -- trailing`)).toBe(
      `alter table "Users" add column foo text default '…'`,
    );
    expect(normalize('SELECT $body$ A $body$, 1.5e3::int')).toBe("select '…', 1.5e3::int");
  });

  it('tokenizes idents, strings and operators with values', () => {
    const toks = tokenize(`"My""T" U&'x' $$q$$ >= -1`);
    expect(toks.map((t) => [t.kind, t.value])).toEqual([
      ['ident', 'My"T'],
      ['string', 'x'],
      ['string', 'q'],
      ['op', '>='],
      ['op', '-'],
      ['number', '1'],
    ]);
  });
});

describe('lintMigration: whole migration', () => {
  it('every finding carries a known rule, its severity, a message and a fix', () => {
    const fs = lint('ALTER TABLE users DROP COLUMN a; CREATE INDEX i ON users(b); UPDATE users SET c = 1;', { down: '' });
    expect(fs.length).toBeGreaterThan(3);
    for (const f of fs) {
      expect(RULES[f.rule]).toBe(f.severity);
      expect(f.message.length).toBeGreaterThan(10);
      expect(f.fix.length).toBeGreaterThan(10);
    }
  });

  it('missing-downgrade: error when down is empty (or only comments)', () => {
    const f = one(lint(`${LT}ALTER TABLE users ADD COLUMN nick text;`, { down: '-- nothing to undo\n' }), 'missing-downgrade');
    expect(f).toMatchObject({ severity: 'error', statement: -1 });
    expect(f.message).toContain('20240101_test');
    expect(f.fix).toMatch(/down/);
    expect(rules(lint(`${LT}ALTER TABLE users ADD COLUMN nick text;`, { down: 'ALTER TABLE users DROP COLUMN nick;' }))).toEqual([]);
  });

  it('dynamic-sql: a warning (not an error) for a module that reads the database to build its SQL; a dynamic down is not a missing one', () => {
    const input = { id: '20240101_test', noTransaction: false };
    const up = lintMigration({ ...input, up: [], down: splitStatements('DELETE FROM quotas;'), dynamic: { up: { line: 5 } } });
    expect(up).toMatchObject([{ rule: 'dynamic-sql', severity: 'warning', statement: -1, line: 5 }]);
    expect(up[0].message).toMatch(/upgrade\(\) reads the database \(m\.query\).*lint cannot check them/);
    const both = lintMigration({ ...input, up: [], down: [], dynamic: { up: { line: 5 }, down: { line: 12 } } });
    expect(rules(both)).toEqual(['dynamic-sql']);
    expect(both[0].message).toMatch(/upgrade\(\) and downgrade\(\) read the database/);
    // a static up is still checked; only the dynamic down is unknown
    expect(
      rules(
        lintMigration({ ...input, up: splitStatements(`${LT}ALTER TABLE users DROP COLUMN a;`), down: [], dynamic: { down: { line: 0 } } }),
      ),
    ).toEqual(['dynamic-sql', 'drop-column']);
  });

  it('does not report findings on down statements', () => {
    expect(lint('CREATE TABLE t (id int);', { down: 'DROP TABLE users; CREATE INDEX i ON users (a);' })).toEqual([]);
  });

  it('no-lock-timeout: error (blocks) when DDL on an existing table comes before SET lock_timeout', () => {
    const fs = lint("ALTER TABLE users ADD COLUMN nick text;\nSET lock_timeout = '5s';");
    const f = one(fs, 'no-lock-timeout');
    expect(f).toMatchObject({ severity: 'error', statement: -1, line: 1 });
    expect(f.message).toContain('ALTER TABLE users');
    expect(f.fix).toContain("SET lock_timeout = '5s';");
    expect(f.fix).toContain('runner');
  });

  it('no-lock-timeout: SET [LOCAL] lock_timeout first is fine; DDL only on new tables is fine', () => {
    expect(lint("SET lock_timeout = '5s';\nALTER TABLE users ADD COLUMN nick text;")).toEqual([]);
    expect(lint("SET LOCAL lock_timeout TO '3s'; DROP INDEX IF EXISTS idx_old_unused_sorry;").map((f) => f.rule)).not.toContain(
      'no-lock-timeout',
    );
    expect(lint("SELECT set_config('lock_timeout', '5s', true); ALTER TABLE users ADD COLUMN nick text;")).toEqual([]);
    expect(lint('CREATE TABLE t (id int); CREATE INDEX t_id ON t (id); ALTER TABLE t ADD COLUMN x int NOT NULL;')).toEqual([]);
  });

  it('no-lock-timeout: SET LOCAL does not count in a noTransaction migration, lock_timeout = 0 never counts', () => {
    const f = one(
      lint("SET LOCAL lock_timeout = '5s';\nCREATE INDEX CONCURRENTLY IF NOT EXISTS i ON users (a);", { noTransaction: true }),
      'no-lock-timeout',
    );
    expect(f.line).toBe(2);
    expect(f.fix).toContain('SET LOCAL');
    expect(rules(lint('SET lock_timeout = 0; ALTER TABLE users ADD COLUMN nick text;'))).toEqual(['no-lock-timeout']);
  });
});

describe('lintMigration: rules', () => {
  it('drop-column: error naming the table and column; fine on a table created in this migration', () => {
    const f = one(lint(`${LT}ALTER TABLE public.users DROP COLUMN IF EXISTS legacy_flag;`), 'drop-column');
    expect(f).toMatchObject({ severity: 'error', statement: 1, line: 2 });
    expect(f.message).toContain('public.users.legacy_flag');
    expect(f.fix).toContain('stop using legacy_flag in the code');
    expect(f.fix).toContain('later migration');
    expect(lint('CREATE TABLE t (a int, b int); ALTER TABLE t DROP COLUMN b;')).toEqual([]);
    // DROP CONSTRAINT is not a column drop.
    expect(lint(`${LT}ALTER TABLE users DROP CONSTRAINT users_x_check;`)).toEqual([]);
  });

  it('drop-table: error per existing table', () => {
    const fs = lint(`${LT}DROP TABLE IF EXISTS audit_old, sessions CASCADE;`);
    expect(only(fs, 'drop-table').map((f) => f.message.split(' ')[2])).toEqual(['audit_old', 'sessions']);
    expect(only(fs, 'drop-table')[0].fix).toContain('contract step');
    expect(lint('CREATE TABLE tmp (a int); DROP TABLE tmp;')).toEqual([]);
  });

  it('rename-column and rename-table: error with the expand/contract fix', () => {
    const c = one(lint(`${LT}ALTER TABLE users RENAME COLUMN name TO full_name;`), 'rename-column');
    expect(c.message).toContain('users.name');
    expect(c.message).toContain('full_name');
    expect(c.fix).toMatch(/dual-write.*backfill.*move reads/);
    const t = one(lint(`${LT}ALTER TABLE users RENAME TO accounts;`), 'rename-table');
    expect(t.message).toContain('users');
    expect(t.message).toContain('accounts');
    expect(t.fix).toContain('dual-write');
    expect(
      lint('CREATE TABLE t (a int); ALTER TABLE t RENAME COLUMN a TO b; ALTER TABLE t RENAME TO t2; CREATE INDEX i ON t2 (b);'),
    ).toEqual([]);
    expect(lint(`${LT}ALTER TABLE users RENAME CONSTRAINT a TO b;`)).toEqual([]);
  });

  it('change-column-type: error for TYPE and SET DATA TYPE, mentioning the safe exceptions', () => {
    const f = one(lint(`${LT}ALTER TABLE orders ALTER COLUMN total TYPE numeric(12,2) USING total::numeric;`), 'change-column-type');
    expect(f.message).toContain('orders.total');
    expect(f.message).toContain('numeric(12,2)');
    expect(f.message).toContain('varchar→text');
    expect(f.fix).toContain('expand/contract');
    one(lint(`${LT}ALTER TABLE orders ALTER total SET DATA TYPE bigint;`), 'change-column-type');
    expect(lint('CREATE TABLE t (a int); ALTER TABLE t ALTER COLUMN a TYPE bigint;')).toEqual([]);
  });

  it('set-not-null: error on an existing table; fine after VALIDATE CONSTRAINT, or on a new table', () => {
    const f = one(lint(`${LT}ALTER TABLE users ALTER COLUMN email SET NOT NULL;`), 'set-not-null');
    expect(f.message).toContain('users.email');
    expect(f.fix).toContain('CHECK (email IS NOT NULL) NOT VALID');
    expect(f.fix).toContain('VALIDATE CONSTRAINT');
    // The safe pattern: CHECK … NOT VALID in one migration, then VALIDATE + SET NOT NULL in the next.
    expect(lint(`${LT}ALTER TABLE users ADD CONSTRAINT users_email_nn CHECK (email IS NOT NULL) NOT VALID;`)).toEqual([]);
    expect(
      lint(
        `${LT}ALTER TABLE users VALIDATE CONSTRAINT users_email_nn;\nALTER TABLE users ALTER COLUMN email SET NOT NULL;\nALTER TABLE users DROP CONSTRAINT users_email_nn;`,
      ),
    ).toEqual([]);
    expect(lint('CREATE TABLE t (a int); ALTER TABLE t ALTER COLUMN a SET NOT NULL;')).toEqual([]);
  });

  it('set-not-null on PostgreSQL 11: a validated CHECK does not spare the scan there, so it is still an error', () => {
    const up = `${LT}ALTER TABLE users VALIDATE CONSTRAINT users_email_nn;\nALTER TABLE users ALTER COLUMN email SET NOT NULL;`;
    expect(lint(up, { postgresMajor: 12 })).toEqual([]);
    expect(lint(up)).toEqual([]);
    const f = one(lint(up, { postgresMajor: 11 }), 'set-not-null');
    expect(f.severity).toBe('error');
    expect(f.message).toContain('PostgreSQL 11');
    expect(f.fix).toContain('keep the validated CHECK (email IS NOT NULL)');
    // Proven in the same migration (ADD … CHECK, VALIDATE, SET NOT NULL) is the same on 11.
    const same = `${LT}ALTER TABLE users ADD CONSTRAINT users_email_nn CHECK (email IS NOT NULL) NOT VALID;\nALTER TABLE users VALIDATE CONSTRAINT users_email_nn;\nALTER TABLE users ALTER COLUMN email SET NOT NULL;`;
    expect(only(lint(same, { postgresMajor: 11, noTransaction: true }), 'set-not-null')).toHaveLength(1);
    expect(only(lint(same, { postgresMajor: 15, noTransaction: true }), 'set-not-null')).toHaveLength(0);
  });

  it('add-required-column: NOT NULL without DEFAULT on an existing table', () => {
    const f = one(lint(`${LT}ALTER TABLE users ADD COLUMN tenant_id bigint NOT NULL REFERENCES tenants(id);`), 'add-required-column');
    expect(f).toMatchObject({ severity: 'error', statement: 1 });
    expect(f.message).toContain('users.tenant_id');
    expect(f.fix).toContain('DEFAULT');
    expect(lint(`${LT}ALTER TABLE users ADD COLUMN active boolean NOT NULL DEFAULT true;`)).toEqual([]);
    expect(lint(`${LT}ALTER TABLE users ADD COLUMN nick text;`)).toEqual([]);
    expect(lint('CREATE TABLE t (a int); ALTER TABLE t ADD COLUMN b int NOT NULL;')).toEqual([]);
  });

  it('volatile-default: error (blocks) for gen_random_uuid()/random()/clock_timestamp(), serial; not for constants or now()', () => {
    const f = one(lint(`${LT}ALTER TABLE users ADD COLUMN public_id uuid NOT NULL DEFAULT gen_random_uuid();`), 'volatile-default');
    expect(f.severity).toBe('error');
    expect(f.message).toContain('users.public_id');
    expect(f.message).toContain('gen_random_uuid()');
    expect(f.fix).toContain('backfill');
    one(lint(`${LT}ALTER TABLE t1 ADD COLUMN r float8 DEFAULT (random() * 10);`), 'volatile-default');
    one(lint(`${LT}ALTER TABLE t1 ADD seen timestamptz DEFAULT clock_timestamp();`), 'volatile-default');
    one(lint(`${LT}ALTER TABLE t1 ADD COLUMN n bigserial;`), 'volatile-default');
    // Constant and STABLE defaults (now() is evaluated once per statement) use PG11+ fast defaults: no rewrite.
    expect(
      lint(`${LT}ALTER TABLE t1 ADD COLUMN status text NOT NULL DEFAULT 'new', ADD COLUMN created_at timestamptz NOT NULL DEFAULT now();`),
    ).toEqual([]);
    expect(lint('CREATE TABLE t (a int); ALTER TABLE t ADD COLUMN id uuid DEFAULT gen_random_uuid();')).toEqual([]);
  });

  it('index-not-concurrent: error on an existing table', () => {
    const f = one(lint(`${LT}CREATE UNIQUE INDEX idx_users_email ON users USING btree (lower(email));`), 'index-not-concurrent');
    expect(f.message).toContain('idx_users_email');
    expect(f.message).toContain('users');
    expect(f.fix).toContain('CREATE UNIQUE INDEX CONCURRENTLY');
    expect(f.fix).toContain('noTransaction');
    // Safe: CONCURRENTLY in a noTransaction migration.
    expect(
      lint(`SET lock_timeout = '5s';\nCREATE INDEX CONCURRENTLY IF NOT EXISTS idx_users_email ON users (email);`, { noTransaction: true }),
    ).toEqual([]);
    // Safe: a table created in the same migration, indexed without CONCURRENTLY.
    expect(lint('CREATE TABLE IF NOT EXISTS events (id bigint, at timestamptz);\nCREATE INDEX events_at ON events (at);')).toEqual([]);
  });

  it('drop-index-not-concurrent: error (blocks); fine with CONCURRENTLY or for an index created in this migration', () => {
    const f = one(lint(`${LT}DROP INDEX idx_users_legacy;`), 'drop-index-not-concurrent');
    expect(f.severity).toBe('error');
    expect(f.message).toContain('idx_users_legacy');
    expect(f.fix).toContain('DROP INDEX CONCURRENTLY');
    expect(lint(`${LT}DROP INDEX CONCURRENTLY IF EXISTS idx_users_legacy;`, { noTransaction: true })).toEqual([]);
    expect(lint('CREATE TABLE t (a int); CREATE INDEX t_a ON t (a); DROP INDEX t_a;')).toEqual([]);
  });

  it('concurrent-in-transaction: CONCURRENTLY in a transactional migration', () => {
    const fs = lint(`${LT}CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_orders_user ON orders (user_id);`);
    const f = one(fs, 'concurrent-in-transaction');
    expect(f.message).toContain('idx_orders_user');
    expect(f.fix).toContain('noTransaction');
    one(lint(`${LT}DROP INDEX CONCURRENTLY IF EXISTS idx_x;`), 'concurrent-in-transaction');
    one(lint('REINDEX INDEX CONCURRENTLY idx_x;'), 'concurrent-in-transaction');
    // Even on a table created in the same migration (Postgres rejects it regardless).
    one(lint('CREATE TABLE t (a int); CREATE INDEX CONCURRENTLY t_a ON t (a);'), 'concurrent-in-transaction');
    // REFRESH MATERIALIZED VIEW CONCURRENTLY may run in a transaction.
    expect(lint('REFRESH MATERIALIZED VIEW CONCURRENTLY mv;')).toEqual([]);
    expect(rules(lint(`${LT}CREATE INDEX CONCURRENTLY IF NOT EXISTS i ON orders (user_id);`, { noTransaction: true }))).toEqual([]);
  });

  it('constraint-not-valid: FOREIGN KEY or CHECK without NOT VALID on an existing table', () => {
    const fk = one(
      lint(`${LT}ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id);`),
      'constraint-not-valid',
    );
    expect(fk.message).toContain('orders_user_fk');
    expect(fk.message).toContain('orders');
    expect(fk.message).toContain('users');
    expect(fk.fix).toContain('NOT VALID');
    expect(fk.fix).toContain('VALIDATE CONSTRAINT orders_user_fk');
    const ck = one(lint(`${LT}ALTER TABLE orders ADD CHECK (total >= 0);`), 'constraint-not-valid');
    expect(ck.message).toContain('CHECK on orders');
    // Safe: NOT VALID now, VALIDATE in a later migration.
    expect(lint(`${LT}ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;`)).toEqual(
      [],
    );
    expect(lint(`${LT}ALTER TABLE orders VALIDATE CONSTRAINT orders_user_fk;`)).toEqual([]);
    // On a table created in this migration a validated FK is fine.
    expect(
      lint('CREATE TABLE items (order_id int); ALTER TABLE items ADD CONSTRAINT items_fk FOREIGN KEY (order_id) REFERENCES orders (id);'),
    ).toEqual([]);
  });

  it('constraint-not-valid: NOT VALID and VALIDATE in the same transaction defeats the point', () => {
    const f = one(
      lint(`${LT}ALTER TABLE orders ADD CONSTRAINT c_total CHECK (total >= 0) NOT VALID;\nALTER TABLE orders VALIDATE CONSTRAINT c_total;`),
      'constraint-not-valid',
    );
    expect(f).toMatchObject({ statement: 2, line: 3 });
    expect(f.fix).toContain('later migration');
    expect(
      lint(
        `SET lock_timeout = '5s';\nALTER TABLE orders ADD CONSTRAINT c_total CHECK (total >= 0) NOT VALID;\nALTER TABLE orders VALIDATE CONSTRAINT c_total;`,
        {
          noTransaction: true,
        },
      ),
    ).toEqual([]);
  });

  it('unique-constraint: ADD CONSTRAINT … UNIQUE / ADD UNIQUE on an existing table', () => {
    const f = one(lint(`${LT}ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email);`), 'unique-constraint');
    expect(f.message).toContain('users_email_key');
    expect(f.message).toContain('(email)');
    expect(f.fix).toContain('CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS users_email_key ON users (email)');
    expect(f.fix).toContain('UNIQUE USING INDEX users_email_key');
    one(lint(`${LT}ALTER TABLE users ADD UNIQUE (email, tenant_id);`), 'unique-constraint');
    // Safe: the constraint adopts an index built concurrently.
    expect(lint(`${LT}ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE USING INDEX users_email_key;`)).toEqual([]);
    expect(lint('CREATE TABLE t (a int); ALTER TABLE t ADD CONSTRAINT t_a UNIQUE (a);')).toEqual([]);
  });

  it('backfill-in-migration: UPDATE in a transactional migration', () => {
    const f = one(lint(`${LT}UPDATE users SET locale = 'en' WHERE locale IS NULL;`), 'backfill-in-migration');
    expect(f.severity).toBe('warning');
    expect(f.message).toContain('UPDATE users');
    expect(f.fix).toContain('cockpit migrate backfill');
    one(lint(`${LT}WITH x AS (SELECT id FROM users) UPDATE users SET a = 1 FROM x WHERE users.id = x.id;`), 'backfill-in-migration');
    // FOR UPDATE / ON UPDATE are not data changes.
    expect(lint('SELECT id FROM users FOR UPDATE;')).toEqual([]);
    expect(lint('CREATE TABLE t (a int REFERENCES users(id) ON UPDATE CASCADE);')).toEqual([]);
    expect(lint(`UPDATE users SET a = 1 WHERE id < 1000;`, { noTransaction: true })).toEqual([]);
  });

  it('non-idempotent-no-transaction: CIC without IF NOT EXISTS, DROP INDEX CONCURRENTLY without IF EXISTS', () => {
    const f = one(
      lint(`${LT}CREATE INDEX CONCURRENTLY idx_orders_user ON orders (user_id);`, { noTransaction: true }),
      'non-idempotent-no-transaction',
    );
    expect(f.message).toContain('idx_orders_user');
    expect(f.fix).toContain('IF NOT EXISTS');
    expect(f.fix).toContain('INVALID');
    expect(f.fix).toContain('runner');
    const d = one(lint(`${LT}DROP INDEX CONCURRENTLY idx_orders_old;`, { noTransaction: true }), 'non-idempotent-no-transaction');
    expect(d.fix).toContain('IF EXISTS idx_orders_old');
    expect(lint(`${LT}CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_orders_user ON orders (user_id);`, { noTransaction: true })).toEqual([]);
  });

  it('json-type: json columns in CREATE TABLE, ADD COLUMN and ALTER … TYPE; jsonb is fine', () => {
    const c = one(lint('CREATE TABLE events (id bigint PRIMARY KEY, payload json NOT NULL, tags jsonb);'), 'json-type');
    expect(c.message).toContain('payload');
    expect(c.message).toContain('events');
    expect(c.fix).toContain('jsonb');
    one(lint(`${LT}ALTER TABLE users ADD COLUMN prefs pg_catalog.json;`), 'json-type');
    expect(rules(lint(`${LT}ALTER TABLE users ALTER COLUMN prefs TYPE json USING prefs::json;`)).sort()).toEqual([
      'change-column-type',
      'json-type',
    ]);
    expect(lint(`${LT}ALTER TABLE users ADD COLUMN prefs jsonb;`)).toEqual([]);
  });

  it('points at the line of the offending action in a multi-line statement', () => {
    const sql = `SET lock_timeout = '5s';\nALTER TABLE users\n  ADD COLUMN nick text,\n  DROP COLUMN legacy;`;
    expect(one(lint(sql), 'drop-column')).toMatchObject({ statement: 1, line: 4 });
  });

  it('is not fooled by keywords inside strings, comments or quoted identifiers', () => {
    expect(
      lint(
        `${LT}INSERT INTO notes (body) VALUES ('DROP TABLE users; ALTER TABLE x DROP COLUMN y');\n-- DROP TABLE users;\n/* UPDATE users */ SELECT 1;`,
      ),
    ).toEqual([]);
  });

  it('severity overrides: a rule made a warning, or turned off; the rest keep their defaults', () => {
    const up = splitStatements('ALTER TABLE users ADD COLUMN id2 uuid DEFAULT gen_random_uuid();');
    const m = { id: '20240101_test', up, down: DOWN, noTransaction: false };
    expect(lintMigration(m).map((f) => `${f.rule}:${f.severity}`)).toEqual(['no-lock-timeout:error', 'volatile-default:error']);
    expect(lintMigration(m, { 'volatile-default': 'warning', 'no-lock-timeout': 'off' }).map((f) => `${f.rule}:${f.severity}`)).toEqual([
      'volatile-default:warning',
    ]);
  });

  it('set-not-null: a validated CHECK for another column does not count; one for this column does', () => {
    const add = `${LT}ALTER TABLE foo ADD CONSTRAINT baz_nn CHECK (baz IS NOT NULL) NOT VALID;\nALTER TABLE foo VALIDATE CONSTRAINT baz_nn;\n`;
    one(lint(`${add}ALTER TABLE foo ALTER COLUMN bar SET NOT NULL;`, { noTransaction: true }), 'set-not-null');
    expect(only(lint(`${add}ALTER TABLE foo ALTER COLUMN baz SET NOT NULL;`, { noTransaction: true }), 'set-not-null')).toEqual([]);
  });

  it('drop-database: an error, IF EXISTS or not', () => {
    const f = one(lint('DROP DATABASE IF EXISTS "old";'), 'drop-database');
    expect(f.severity).toBe('error');
    expect(f.fix).toContain('by hand');
  });
});
