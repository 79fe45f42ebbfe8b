import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import ts from 'typescript';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createMigration, loadMigration, loadMigrations, MigrationFileError } from '../../src/adapters/migrate/files.js';
import { MigrationRunner } from '../../src/adapters/migrate/runner.js';
import { lintMigration } from '../../src/core/migrate/lint.js';
import { cockpit, ROOT, tempRepo } from '../helpers/cli.js';
import { freshDatabase, pgTest } from '../helpers/pg.js';

// Migrations as TypeScript/JavaScript modules with a builder (src/migrate-api.ts): loaded, recorded, run on a real
// PostgreSQL, printed by --sql, linted — and the ones that read the database to build their SQL.

const pgInfo = pgTest();

// Compiled modules go to a cache folder of this file's own, not the user's ~/.cache.
const cache = mkdtempSync(path.join(os.tmpdir(), 'cockpit-migrate-cache-'));
process.env.XDG_CACHE_HOME = cache;
afterAll(() => rmSync(cache, { recursive: true, force: true }));

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'cockpit-migrate-mod-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const put = (name: string, text: string) => {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
};
const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
const lineOf = (file: string, needle: string) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .findIndex((l) => l.includes(needle)) + 1;

const TENANTS_SQL = `-- migrate:up
CREATE TABLE tenants (id int PRIMARY KEY, name text NOT NULL);
CREATE TABLE quotas (tenant_id int NOT NULL, note text);
INSERT INTO tenants VALUES (1, 'acme'), (2, 'o''brien');
-- migrate:down
DROP TABLE quotas;
DROP TABLE tenants;
`;

const STATIC_TS = `import type { MigrationBuilder } from 'release-cockpit/migrate.js';

export function upgrade(m: MigrationBuilder): void {
  m.sql("SET lock_timeout = '5s'");
  m.sql('ALTER TABLE tenants ADD COLUMN plan text');
  m.sql(\`
    UPDATE tenants SET plan = $1 WHERE id = $2;
    COMMENT ON COLUMN tenants.plan IS $3\`, ['gold', 1, "the tenant's plan"]);
}

export async function downgrade(m: MigrationBuilder): Promise<void> {
  m.sql('ALTER TABLE tenants DROP COLUMN plan');
}
`;

const STATIC_JS = `/** @param {import('release-cockpit/migrate.js').MigrationBuilder} m */
export function upgrade(m) {
  m.sql('CREATE TABLE invoices (id int PRIMARY KEY, tenant_id int NOT NULL)');
}

/** @param {import('release-cockpit/migrate.js').MigrationBuilder} m */
export function downgrade(m) {
  m.sql('DROP TABLE invoices');
}
`;

// Reads the tenants (after writing one: the read must see it), then inserts a quota row for each.
const DYNAMIC_TS = `import type { MigrationBuilder } from 'release-cockpit/migrate.js';

export async function upgrade(m: MigrationBuilder): Promise<void> {
  m.sql("INSERT INTO tenants VALUES (3, 'late')");
  const tenants = await m.query<{ id: number; name: string }>('SELECT id, name FROM tenants WHERE id > $1 ORDER BY id', [0]);
  for (const t of tenants) m.sql('INSERT INTO quotas (tenant_id, note) VALUES ($1, $2)', [t.id, t.name]);
}

export function downgrade(m: MigrationBuilder): void {
  m.sql('DELETE FROM quotas');
  m.sql('DELETE FROM tenants WHERE id = 3');
}
`;

// Its third statement, built after a read, fails.
const DYNAMIC_FAILING_TS = `import type { MigrationBuilder } from 'release-cockpit/migrate.js';

export async function upgrade(m: MigrationBuilder): Promise<void> {
  m.sql("INSERT INTO tenants VALUES (9, 'nine')");
  const [first] = await m.query<{ id: number }>('SELECT min(id) AS id FROM tenants');
  m.sql('INSERT INTO quotas (tenant_id) VALUES ($1)', [first.id]);
  m.sql('INSERT INTO no_such_table VALUES ($1)', [first.id]);
}

export function downgrade(m: MigrationBuilder): void {
  m.sql('DELETE FROM quotas');
  m.sql('DELETE FROM tenants WHERE id = 9');
}
`;

describe('module migrations: loading', () => {
  it('a static module records its statements at load time, with the lines of its m.sql calls; values are inlined as literals', async () => {
    const file = put('20240102000000_plan.ts', STATIC_TS);
    const js = put('20240103000000_invoices.js', STATIC_JS);
    const [m, j] = await loadMigrations(dir);
    expect(m).toMatchObject({
      id: '20240102000000',
      name: 'plan',
      kind: 'module',
      noTransaction: false,
      hasDown: true,
      dynamic: {},
      checksum: sha256(file),
    });
    expect(m.up).toEqual([
      { text: "SET lock_timeout = '5s'", line: lineOf(file, 'SET lock_timeout') },
      { text: 'ALTER TABLE tenants ADD COLUMN plan text', line: lineOf(file, 'ADD COLUMN plan') },
      { text: "UPDATE tenants SET plan = 'gold' WHERE id = 1", line: lineOf(file, 'UPDATE tenants') },
      { text: "COMMENT ON COLUMN tenants.plan IS 'the tenant''s plan'", line: lineOf(file, 'COMMENT ON') },
    ]);
    expect(m.down).toEqual([{ text: 'ALTER TABLE tenants DROP COLUMN plan', line: lineOf(file, 'DROP COLUMN plan') }]);
    expect(j).toMatchObject({
      id: '20240103000000',
      kind: 'module',
      checksum: sha256(js),
      up: [{ text: 'CREATE TABLE invoices (id int PRIMARY KEY, tenant_id int NOT NULL)', line: 3 }],
    });
    // lint reads them like a .sql file's sections, with their lines
    expect(lintMigration({ id: m.id, up: m.up, down: m.down, noTransaction: m.noTransaction, dynamic: m.dynamic })).toMatchObject([
      { rule: 'backfill-in-migration', statement: 2, line: lineOf(file, 'UPDATE tenants') },
    ]);
  });

  it('compiled modules are cached by the hash of their output: loading again reuses the file; an edit makes a new one', async () => {
    const file = put('20240102000000_plan.ts', STATIC_TS);
    const compiled = () => readdirSync(path.join(cache, 'release-cockpit', 'migrations')).filter((n) => n.endsWith('.mjs'));
    await loadMigration(file);
    const before = compiled();
    await loadMigration(file);
    expect(compiled()).toEqual(before);
    writeFileSync(file, STATIC_TS.replace("'gold'", "'silver'"));
    const m = await loadMigration(file);
    expect(m.up[2].text).toBe("UPDATE tenants SET plan = 'silver' WHERE id = 1");
    expect(compiled().length).toBe(before.length + 1);
  });

  it('a module that reads the database (m.query) is dynamic in that direction: nothing recorded, the line of its first read kept; lint warns dynamic-sql', async () => {
    const file = put('20240104000000_quotas.ts', DYNAMIC_TS);
    const m = await loadMigration(file);
    expect(m.dynamic).toEqual({ up: { line: lineOf(file, 'await m.query') } });
    expect(m.up).toEqual([]);
    expect(m.down.map((s) => s.text)).toEqual(['DELETE FROM quotas', 'DELETE FROM tenants WHERE id = 3']);
    const findings = lintMigration({ id: m.id, up: m.up, down: m.down, noTransaction: false, dynamic: m.dynamic });
    expect(findings).toMatchObject([{ rule: 'dynamic-sql', severity: 'warning', line: lineOf(file, 'await m.query') }]);
    expect(findings[0].message).toMatch(/upgrade\(\) reads the database \(m\.query\)/);
    expect(findings[0].fix).toMatch(/INSERT … SELECT/);
  });

  it('errors name the file and, where known, the line: syntax, a throw, exports, transaction control', async () => {
    const cases: Array<[string, string, RegExp]> = [
      ['20240101000000_syntax.ts', 'export function upgrade(m) {\n  m.sql("SELECT 1"\n}\n', /_syntax\.ts:3:1: Expected "\)" but found "}"/],
      [
        '20240101000000_boom.ts',
        'export function upgrade(m: any) {\n  m.sql("SELECT 1");\n  throw new Error("no way");\n}\nexport function downgrade() {}\n',
        /_boom\.ts:3: upgrade\(\) failed: no way/,
      ],
      [
        '20240101000000_atload.mjs',
        'const x = 1;\nthrow new Error("at load");\nexport function upgrade() {}\n',
        /_atload\.mjs:2: loading it failed: at load/,
      ],
      ['20240101000000_noup.ts', 'export function downgrade() {}\n', /_noup\.ts: no upgrade\(\) export/],
      [
        '20240101000000_typo.ts',
        'export function upgrade() {}\nexport const noTransactions = true;\n',
        /_typo\.ts: unknown export 'noTransactions'/,
      ],
      [
        '20240101000000_commit.ts',
        'export function upgrade(m: any) {\n  m.sql("UPDATE t SET a = 1; COMMIT");\n}\n',
        /_commit\.ts:2: 'COMMIT' — a migration must not control transactions/,
      ],
      [
        '20240101000000_missing.ts',
        "import { helper } from './lib/nope.js';\nexport function upgrade(m: any) { helper(m); }\n",
        /_missing\.ts:1:\d+: Could not resolve "\.\/lib\/nope\.js"/,
      ],
    ];
    for (const [name, text, re] of cases) {
      const file = put(name, text);
      const err = await loadMigration(file).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err, name).toBeInstanceOf(MigrationFileError);
      expect((err as Error).message).toMatch(re);
      rmSync(file);
    }
    // a helper module in a subfolder is not a migration; a bad name at the top is refused
    mkdirSync(path.join(dir, 'lib'));
    put('lib/tenants.ts', 'export const TABLE = "tenants";\n');
    put(
      '20240101000000_uses_helper.ts',
      "import { TABLE } from './lib/tenants.js';\nexport function upgrade(m: any) { m.sql(`DROP TABLE ${TABLE}`); }\n",
    );
    expect((await loadMigrations(dir)).map((m) => m.up[0].text)).toEqual(['DROP TABLE tenants']);
    put('helpers.ts', 'export {};\n');
    await expect(loadMigrations(dir)).rejects.toThrow(/helpers\.ts: bad migration file name .*a helper module belongs in a subfolder/);
  });

  it('createMigration --ts/--js templates load, and type-check against the public API (release-cockpit/migrate.js)', async () => {
    const now = new Date(Date.UTC(2024, 4, 6, 7, 8, 9));
    const tsFile = createMigration(dir, 'Tenant quotas', now, { format: 'ts' });
    const jsFile = createMigration(dir, 'Tenant plans', new Date(now.getTime() + 1000), { format: 'js', noTransaction: true });
    expect(path.basename(tsFile)).toBe('20240506070809_tenant_quotas.ts');
    expect(path.basename(jsFile)).toBe('20240506070810_tenant_plans.js');
    const t = readFileSync(tsFile, 'utf8');
    expect(t).toMatch(
      /export async function upgrade\(m: MigrationBuilder\): Promise<void> \{[\s\S]*export async function downgrade\(m: MigrationBuilder\)/,
    );
    expect(t).toMatch(/m\.sql\(.*\n.*m\.query/);
    expect(readFileSync(jsFile, 'utf8')).toMatch(
      /export const noTransaction = true;[\s\S]*@param \{MigrationBuilder\} m \*\/\nexport async function upgrade\(m\)/,
    );
    const [a, b] = await loadMigrations(dir);
    expect(a).toMatchObject({ kind: 'module', up: [], down: [], hasDown: true, noTransaction: false, dynamic: {} });
    expect(b).toMatchObject({ kind: 'module', noTransaction: true });

    // Filled in, both type-check with the type import resolved from an installed release-cockpit.
    writeFileSync(
      tsFile,
      t.replace(
        'export async function upgrade(m: MigrationBuilder): Promise<void> {\n',
        "$&  const rows = await m.query<{ id: number }>('SELECT id FROM tenants');\n  for (const r of rows) m.sql('INSERT INTO quotas VALUES ($1)', [r.id]);\n",
      ),
    );
    writeFileSync(
      jsFile,
      readFileSync(jsFile, 'utf8').replace('export async function upgrade(m) {\n', "$&  m.sql('CREATE INDEX CONCURRENTLY i ON t (a)');\n"),
    );
    mkdirSync(path.join(dir, 'node_modules'));
    symlinkSync(ROOT, path.join(dir, 'node_modules', 'release-cockpit'), 'dir');
    writeFileSync(path.join(dir, 'package.json'), '{"type":"module"}');
    const program = ts.createProgram([tsFile, jsFile], {
      strict: true,
      noEmit: true,
      allowJs: true,
      checkJs: true,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      target: ts.ScriptTarget.ES2022,
      skipLibCheck: true,
      types: ['node'],
      typeRoots: [path.join(ROOT, 'node_modules', '@types')],
    });
    const diags = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    expect(diags).toEqual([]);
    // and a type error is caught: m.sql takes text
    writeFileSync(tsFile, readFileSync(tsFile, 'utf8').replace("m.sql('INSERT INTO quotas VALUES ($1)', [r.id])", 'm.sql(42)'));
    const again = ts
      .getPreEmitDiagnostics(ts.createProgram([tsFile], program.getCompilerOptions()))
      .map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    expect(again.join('\n')).toMatch(/'number' is not assignable to parameter of type 'string'/);
  });
});

describe.skipIf(!pgInfo.url)(`module migrations on PostgreSQL${pgInfo.skipReason}`, () => {
  let url: string;
  beforeEach(async () => {
    url = await freshDatabase('migrate_mod');
  });
  const runner = () => new MigrationRunner({ connection: url, dir, operator: 'tester', host: 'box' });
  const rows = async (text: string) => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      return (await c.query(text)).rows;
    } finally {
      await c.end();
    }
  };

  it('static .ts and .js modules: --sql prints exactly what upgrade executes; status lists them with their checksums; downgrade reverts them', async () => {
    put('20240101000000_tenants.sql', TENANTS_SQL);
    const tsFile = put('20240102000000_plan.ts', STATIC_TS);
    const jsFile = put('20240103000000_invoices.js', STATIC_JS);
    const r = runner();
    const text = r.sqlFor((await r.plan()).pending, 'up');
    expect(text).toContain(
      "BEGIN;\nSET lock_timeout = '5s';\nALTER TABLE tenants ADD COLUMN plan text;\nUPDATE tenants SET plan = 'gold' WHERE id = 1;\nCOMMENT ON COLUMN tenants.plan IS 'the tenant''s plan';\nINSERT INTO cockpit_schema_migrations",
    );
    const up = await r.upgrade({ operator: 'tester' });
    expect(up.ok, JSON.stringify(up.failed)).toBe(true);
    const printed = text.split('\n').filter((l) => l !== '' && !l.startsWith('--'));
    expect(up.executed.map((s) => `${s.replace(/'tester', \d+, 'applied'\)/, ":operator, :duration_ms, 'applied')")};`)).toEqual(printed);
    expect(await rows('SELECT id, plan FROM tenants ORDER BY id')).toEqual([
      { id: 1, plan: 'gold' },
      { id: 2, plan: null },
    ]);

    const st = await r.status();
    expect(st.problems).toEqual([]);
    expect(st.applied.map((a) => [a.id, a.name, a.checksum])).toEqual([
      ['20240101000000', 'tenants', sha256(path.join(dir, '20240101000000_tenants.sql'))],
      ['20240102000000', 'plan', sha256(tsFile)],
      ['20240103000000', 'invoices', sha256(jsFile)],
    ]);

    const downText = r.sqlFor((await r.migrations()).slice(1).reverse(), 'down');
    const down = await r.downgrade({ steps: 2 });
    expect(down.ok).toBe(true);
    expect(down.applied.map((a) => a.id)).toEqual(['20240103000000', '20240102000000']);
    expect(down.executed.map((s) => `${s};`)).toEqual(downText.split('\n').filter((l) => l !== '' && !l.startsWith('--')));
    expect(
      (await rows("SELECT column_name FROM information_schema.columns WHERE table_name = 'tenants' ORDER BY 1")).map((x) => x.column_name),
    ).toEqual(['id', 'name']);
    expect((await r.status()).pending.map((m) => m.id)).toEqual(['20240102000000', '20240103000000']);

    // an edited module is refused like an edited .sql file
    await r.upgrade({ operator: 'tester' });
    writeFileSync(jsFile, `// reviewed\n${STATIC_JS}`);
    expect((await r.status()).problems).toMatchObject([{ id: '20240103000000', kind: 'checksum-changed' }]);
  });

  it('a dynamic module reads (seeing its own earlier write) and builds its inserts, inside its transaction; --sql says it cannot show them', async () => {
    put('20240101000000_tenants.sql', TENANTS_SQL);
    const file = put('20240104000000_quotas.ts', DYNAMIC_TS);
    const r = runner();
    const text = r.sqlFor((await r.plan()).pending, 'up');
    const block = text.slice(text.indexOf('-- 20240104000000_quotas'));
    expect(block).toContain(
      `-- NOT SHOWN: upgrade() reads the database (m.query, ${file}:${lineOf(file, 'await m.query')}) to build its SQL`,
    );
    expect(block).toMatch(/cannot be printed without running it/);
    // nothing of it that could run — not even the history row that would call it applied
    expect(block.split('\n').filter((l) => l !== '' && !l.startsWith('--'))).toEqual([]);

    const up = await r.upgrade({ operator: 'tester' });
    expect(up.ok, JSON.stringify(up.failed)).toBe(true);
    expect(await rows('SELECT tenant_id, note FROM quotas ORDER BY tenant_id')).toEqual([
      { tenant_id: 1, note: 'acme' },
      { tenant_id: 2, note: "o'brien" },
      { tenant_id: 3, note: 'late' },
    ]);
    const from = up.executed.lastIndexOf('BEGIN');
    expect(up.executed.slice(from)).toEqual([
      'BEGIN',
      "INSERT INTO tenants VALUES (3, 'late')",
      "INSERT INTO quotas (tenant_id, note) VALUES (1, 'acme')",
      "INSERT INTO quotas (tenant_id, note) VALUES (2, 'o''brien')",
      "INSERT INTO quotas (tenant_id, note) VALUES (3, 'late')",
      expect.stringMatching(/^INSERT INTO cockpit_schema_migrations .*'20240104000000', 'quotas', '[0-9a-f]{64}'/),
      'COMMIT',
    ]);
    expect((await r.status()).applied.find((a) => a.id === '20240104000000')?.checksum).toBe(sha256(file));
    // its downgrade is static: shown, and run
    expect(r.sqlFor((await r.migrations()).slice(1), 'down')).toContain(
      'BEGIN;\nDELETE FROM quotas;\nDELETE FROM tenants WHERE id = 3;\nDELETE FROM cockpit_schema_migrations',
    );
    expect((await r.downgrade()).ok).toBe(true);
    expect(await rows('SELECT count(*)::int AS n FROM quotas')).toEqual([{ n: 0 }]);
  });

  it('a failing statement of a dynamic module rolls the whole migration back and is reported by number, line and text', async () => {
    put('20240101000000_tenants.sql', TENANTS_SQL);
    const file = put('20240105000000_bad_quotas.ts', DYNAMIC_FAILING_TS);
    const r = runner();
    const res = await r.upgrade({ operator: 'tester' });
    expect(res.ok).toBe(false);
    expect(res.applied.map((a) => a.id)).toEqual(['20240101000000']);
    expect(res.failed).toMatchObject({
      id: '20240105000000',
      direction: 'up',
      statement: 3,
      of: 3,
      dynamic: true,
      line: lineOf(file, 'no_such_table'),
      sql: 'INSERT INTO no_such_table VALUES (1)',
      code: '42P01',
      recorded: false,
    });
    expect(res.executed.at(-1)).toBe('ROLLBACK');
    // the statements before it, even the write before the read, are rolled back with it
    expect(await rows('SELECT id FROM tenants ORDER BY id')).toEqual([{ id: 1 }, { id: 2 }]);
    expect(await rows('SELECT count(*)::int AS n FROM quotas')).toEqual([{ n: 0 }]);
    expect((await r.status()).pending.map((m) => m.id)).toEqual(['20240105000000']);
  });

  it("a dynamic module's own error and a failing read are failures too (rolled back), with the line of the code", async () => {
    put('20240101000000_tenants.sql', TENANTS_SQL);
    const file = put(
      '20240106000000_oops.ts',
      "export async function upgrade(m: any) {\n  m.sql(\"INSERT INTO tenants VALUES (7, 'seven')\");\n  const rows = await m.query('SELECT id FROM tenants');\n  if (rows.length > 1) throw new Error('too many tenants');\n}\nexport function downgrade(m: any) {\n  m.sql('DELETE FROM tenants WHERE id = 7');\n}\n",
    );
    const res = await runner().upgrade({ operator: 'tester' });
    expect(res.failed).toMatchObject({
      id: '20240106000000',
      statement: 0,
      dynamic: true,
      line: lineOf(file, 'throw new Error'),
      error: 'upgrade() failed: too many tenants',
      recorded: false,
    });
    expect(await rows('SELECT id FROM tenants WHERE id = 7')).toEqual([]);

    writeFileSync(
      file,
      "export async function upgrade(m: any) {\n  await m.query('SELECT nope FROM tenants');\n}\nexport function downgrade() {}\n",
    );
    const res2 = await runner().upgrade({ operator: 'tester' });
    expect(res2.failed).toMatchObject({
      id: '20240106000000',
      statement: 0,
      sql: 'SELECT nope FROM tenants',
      code: '42703',
      recorded: false,
    });
    expect(res2.failed!.error).toMatch(/^a read \(m\.query\) failed: column "nope" does not exist/);
  });

  it('values given to m.sql reach the database as they were (quotes, backslashes, negatives, arrays, JSON, bytes, dates)', async () => {
    put(
      '20240101000000_values.ts',
      String.raw`export function upgrade(m: any) {
  m.sql('CREATE TABLE v (t text, b text, n int, a text[], j jsonb, y bytea, d timestamptz)');
  m.sql('INSERT INTO v VALUES ($1, $2, 0 - $3, $4, $5, $6, $7)', ["it's", 'back\\slash', -5, ['a', 'b"c', null], { k: "v'" }, Buffer.from([0, 255]), new Date(Date.UTC(2024, 1, 29, 12))]);
}
export function downgrade(m: any) {
  m.sql('DROP TABLE v');
}
`,
    );
    const res = await runner().upgrade({ operator: 'tester' });
    expect(res.ok, JSON.stringify(res.failed)).toBe(true);
    expect(await rows('SELECT t, b, n, a, j, y, d FROM v')).toEqual([
      {
        t: "it's",
        b: 'back\\slash',
        n: 5,
        a: ['a', 'b"c', null],
        j: { k: "v'" },
        y: Buffer.from([0, 255]),
        d: new Date(Date.UTC(2024, 1, 29, 12)),
      },
    ]);
  });

  it('a dynamic noTransaction module runs statement by statement; a failure leaves a failed row with the statement number', async () => {
    put('20240101000000_tenants.sql', TENANTS_SQL);
    put(
      '20240107000000_index_per_tenant.ts',
      "export const noTransaction = true;\nexport async function upgrade(m: any) {\n  for (const t of await m.query('SELECT id FROM tenants ORDER BY id')) m.sql(`CREATE INDEX CONCURRENTLY quotas_t${t.id}_idx ON quotas (note) WHERE tenant_id = ${t.id}`);\n  m.sql('SELECT 1/0');\n}\nexport function downgrade(m: any) {\n  m.sql('DROP INDEX CONCURRENTLY IF EXISTS quotas_t1_idx; DROP INDEX CONCURRENTLY IF EXISTS quotas_t2_idx');\n}\n",
    );
    const r = runner();
    const res = await r.upgrade({ operator: 'tester' });
    expect(res.failed).toMatchObject({ id: '20240107000000', statement: 3, of: 3, sql: 'SELECT 1/0', code: '22012', recorded: true });
    expect(res.executed.slice(res.executed.indexOf('COMMIT') + 1)).not.toContain('BEGIN');
    expect(await rows("SELECT indexrelid::regclass::text AS i FROM pg_index WHERE indrelid = 'quotas'::regclass ORDER BY 1")).toEqual([
      { i: 'quotas_t1_idx' },
      { i: 'quotas_t2_idx' },
    ]);
    const problem = (await r.status()).problems.find((p) => p.kind === 'failed')!;
    expect(problem.message).toMatch(/failed during upgrade at statement 3: division by zero; statement\(s\) 1–2 before it completed/);
  });
});

describe('cockpit migrate create --js', () => {
  it('writes a JavaScript module (noTransaction with --no-transaction) that lint loads; --ts with --js is refused', () => {
    const repo = tempRepo();
    try {
      const env = { XDG_CACHE_HOME: cache };
      const c = cockpit(['--repo', repo.dir, 'migrate', 'create', 'Index tenants by name', '--js', '--no-transaction'], {
        cwd: repo.dir,
        env,
      });
      expect(c.code).toBe(0);
      const [name] = readdirSync(path.join(repo.dir, 'migrations'));
      expect(name).toMatch(/^\d{14}_index_tenants_by_name\.js$/);
      expect(readFileSync(path.join(repo.dir, 'migrations', name), 'utf8')).toContain('export const noTransaction = true;');
      const l = cockpit(['--repo', repo.dir, 'migrate', 'lint'], { cwd: repo.dir, env });
      expect(l.stdout).toMatch(/✖ error missing-downgrade/);
      expect(l.stdout).toMatch(/1 migration\(s\) checked: 1 error\(s\), 0 warning\(s\)/);
      const both = cockpit(['--repo', repo.dir, 'migrate', 'create', 'x', '--ts', '--js'], { cwd: repo.dir, env });
      expect(both.code).toBe(2);
      expect(both.stderr).toMatch(/--ts or --js, not both/);
    } finally {
      repo.cleanup();
    }
  });
});

describe.skipIf(!pgInfo.url)(`cockpit migrate with module migrations${pgInfo.skipReason}`, () => {
  let repo: ReturnType<typeof tempRepo>;
  let url: string;
  const env = () => ({ COCKPIT_OPERATOR: 'alice', XDG_CACHE_HOME: cache });
  const run = (...args: string[]) =>
    cockpit(['--repo', repo.dir, 'migrate', ...args, '--database-url', url], { cwd: repo.dir, env: env() });
  beforeEach(async () => {
    repo = tempRepo();
    url = await freshDatabase('migrate_mod_cli');
  });
  afterEach(() => repo.cleanup());

  it('create --ts / --js write modules that load and lint; filled in, upgrade --sql shows them (or says it cannot), upgrade and status run them', () => {
    const c1 = cockpit(['--repo', repo.dir, 'migrate', 'create', 'tenants', '--ts'], { cwd: repo.dir, env: env() });
    expect(c1.code).toBe(0);
    expect(c1.stdout).toMatch(/created migrations\/\d{14}_tenants\.ts: write its upgrade\(m\) and its downgrade\(m\)/);
    const [tsName] = readdirSync(path.join(repo.dir, 'migrations'));
    // the empty template loads; lint asks for the downgrade, as for a .sql file
    const l0 = cockpit(['--repo', repo.dir, 'migrate', 'lint'], { cwd: repo.dir, env: env() });
    expect(l0.stdout).toMatch(/✖ error missing-downgrade/);
    expect(l0.code).toBe(1);
    const tsFile = path.join(repo.dir, 'migrations', tsName);
    writeFileSync(
      tsFile,
      readFileSync(tsFile, 'utf8')
        .replace(
          'export async function upgrade(m: MigrationBuilder): Promise<void> {\n',
          "$&  m.sql('CREATE TABLE tenants (id int PRIMARY KEY, name text)');\n  m.sql(\"INSERT INTO tenants VALUES (1, 'acme'), (2, 'globex')\");\n",
        )
        .replace('  // Undo everything upgrade() did, in reverse order.\n', "$&  m.sql('DROP TABLE tenants');\n"),
    );
    expect(cockpit(['--repo', repo.dir, 'migrate', 'lint'], { cwd: repo.dir, env: env() }).stdout).toMatch(
      /1 migration\(s\) checked: 0 error\(s\), 0 warning\(s\)/,
    );

    // a second migration, in JS, that reads the tenants
    const jsName = '29990101000000_per_tenant.js';
    repo.write(
      `migrations/${jsName}`,
      "/** @param {import('release-cockpit/migrate.js').MigrationBuilder} m */\nexport async function upgrade(m) {\n  m.sql('CREATE TABLE counters (tenant_id int)');\n  for (const t of await m.query('SELECT id FROM tenants')) m.sql('INSERT INTO counters VALUES ($1)', [t.id]);\n}\n/** @param {import('release-cockpit/migrate.js').MigrationBuilder} m */\nexport function downgrade(m) {\n  m.sql('DROP TABLE counters');\n}\n",
    );
    const l = cockpit(['--repo', repo.dir, 'migrate', 'lint'], { cwd: repo.dir, env: env() });
    expect(l.stdout).toMatch(new RegExp(`▲ warning dynamic-sql \\(${jsName.replace('.', '\\.')}:4\\)`));
    expect(l.code).toBe(0);

    const sql = run('upgrade', '--sql');
    expect(sql.code).toBe(0);
    expect(sql.stdout).toContain(
      "BEGIN;\nCREATE TABLE tenants (id int PRIMARY KEY, name text);\nINSERT INTO tenants VALUES (1, 'acme'), (2, 'globex');\nINSERT INTO cockpit_schema_migrations",
    );
    expect(sql.stdout).toMatch(
      new RegExp(`-- NOT SHOWN: upgrade\\(\\) reads the database \\(m\\.query, .*${jsName.replace('.', '\\.')}:4\\)`),
    );
    expect(sql.stderr).toMatch(new RegExp(`note: ${jsName.replace('.', '\\.')} reads the database to build its SQL`));

    const up = run('upgrade');
    expect(up.code, up.stderr).toBe(0);
    expect(up.stdout).toMatch(/2 migration\(s\) applied/);
    const st = run('status');
    expect(st.stdout).toMatch(/✔ \d{14} tenants {2}applied .* by alice/);
    expect(st.stdout).toMatch(/✔ \d{14} per_tenant {2}applied .* by alice/);
    expect(run('downgrade', '-2').code).toBe(0);
    // verify runs them too: upgrade, downgrade, upgrade again on a scratch database
    const v = cockpit(['--repo', repo.dir, 'migrate', 'verify', '--database-url', url], { cwd: repo.dir, env: env() });
    expect(v.stdout).toMatch(/2 of 2 migration\(s\) verified/);
    expect(v.code).toBe(0);
  });

  it('a failing dynamic statement is reported with its text; a module with a syntax error stops every command but lint with exit 2, naming file and line', () => {
    repo.write('migrations/20240101000000_tenants.sql', TENANTS_SQL);
    repo.write('migrations/20240105000000_bad_quotas.ts', DYNAMIC_FAILING_TS);
    const up = run('upgrade');
    expect(up.code).toBe(1);
    expect(up.stderr).toMatch(
      /20240105000000 bad_quotas: statement 3 \(20240105000000_bad_quotas\.ts:7\) failed: relation "no_such_table" does not exist \[42P01\]; the statement, built as it ran: INSERT INTO no_such_table VALUES \(1\) — rolled back/,
    );

    repo.write('migrations/20240105000000_bad_quotas.ts', 'export function upgrade(m) {\n  m.sql("SELECT 1"\n}\n');
    for (const args of [['status'], ['upgrade'], ['upgrade', '--sql']]) {
      const r = run(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/migrations\/20240105000000_bad_quotas\.ts:3:1: Expected "\)" but found "}"/);
    }
    // lint reports the unloadable file as an error finding of its own (exit 1) and still checks the others.
    const lint = cockpit(['--repo', repo.dir, 'migrate', 'lint'], { cwd: repo.dir, env: env() });
    expect(lint.code).toBe(1);
    expect(lint.stdout).toMatch(
      /✖ error unreadable-file \(20240105000000_bad_quotas\.ts\): .*migrations\/20240105000000_bad_quotas\.ts:3:1: Expected "\)" but found "}"/,
    );
    expect(lint.stdout).toMatch(/1 migration\(s\) checked, 1 file\(s\) not loaded: \d+ error\(s\)/);
  });
});
