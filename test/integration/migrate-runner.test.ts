import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createMigration, loadMigrations, MigrationFileError, parseMigration } from '../../src/adapters/migrate/files.js';
import { MigrationRunner, type MigrateEvent, type RunnerOptions } from '../../src/adapters/migrate/runner.js';
import { freshDatabase, pgTest } from '../helpers/pg.js';

const pgInfo = pgTest();

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'cockpit-migrate-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function write(id: string, slug: string, up: string, down = '', opts: { noTransaction?: boolean } = {}): string {
  const file = path.join(dir, `${id}_${slug}.sql`);
  writeFileSync(file, `${opts.noTransaction ? '-- migrate:no-transaction\n' : ''}-- migrate:up\n${up}\n\n-- migrate:down\n${down}\n`);
  return file;
}

describe('migration files', () => {
  it('createMigration writes both sections; loadMigrations parses them sorted, with checksum and file lines', async () => {
    const b = createMigration(dir, 'Add users e-mail!', new Date(Date.UTC(2024, 0, 31, 12, 0, 5)));
    expect(path.basename(b)).toBe('20240131120005_add_users_e_mail.sql');
    const a = createMigration(dir, 'create users', new Date(Date.UTC(2024, 0, 30, 9, 8, 7)));
    expect(() => createMigration(dir, 'again', new Date(Date.UTC(2024, 0, 30, 9, 8, 7)))).toThrow(/already exists/);
    expect(() => createMigration(dir, '!!!', new Date())).toThrow(MigrationFileError);
    const text = readFileSync(a, 'utf8');
    expect(text).toMatch(/-- migrate:up\n[\s\S]*-- migrate:down/);
    writeFileSync(
      a,
      text.replace('-- migrate:up\n', "-- migrate:up\nCREATE TABLE users (id int);\nINSERT INTO users VALUES (1); -- ';'\n"),
    );
    const list = await loadMigrations(dir);
    expect(list.map((m) => [m.id, m.name])).toEqual([
      ['20240130090807', 'create_users'],
      ['20240131120005', 'add_users_e_mail'],
    ]);
    const lines = readFileSync(a, 'utf8').split('\n');
    expect(list[0].up.map((s) => s.text)).toEqual(['CREATE TABLE users (id int)', 'INSERT INTO users VALUES (1)']);
    expect(list[0].up[0].line).toBe(lines.indexOf('CREATE TABLE users (id int);') + 1);
    expect(list[0].checksum).toMatch(/^[0-9a-f]{64}$/);
    expect(list[0].noTransaction).toBe(false);
    expect(list[1].up).toEqual([]);
  });

  it('refuses a bad name, a missing up section, a duplicate id — naming file and line', async () => {
    expect(() => parseMigration('m/2024_x.sql', '-- migrate:up\n')).toThrow(/m\/2024_x\.sql: bad migration file name/);
    expect(() => parseMigration('m/20241301000000_x.sql', '-- migrate:up\n')).toThrow(/bad migration file name/);
    expect(() => parseMigration('m/20240101000000_x.sql', 'SELECT 1;\n')).toThrow(/20240101000000_x\.sql:1: no '-- migrate:up' section/);
    expect(() => parseMigration('m/20240101000000_x.sql', '-- migrate:up\nSELECT 1;\n-- migrate:no-transaction\n')).toThrow(
      /_x\.sql:3: '-- migrate:no-transaction' must be the first line/,
    );
    expect(() => parseMigration('m/20240101000000_x.sql', 'SELECT 1;\n-- migrate:up\n')).toThrow(/_x\.sql:1: SQL before/);
    expect(parseMigration('m/20240101000000_x.sql', '-- migrate:no-transaction\n-- migrate:up\nSELECT 1;\n').noTransaction).toBe(true);
    expect(() => parseMigration('m/20240101000000_x.sql', '-- migrate:up\nSELECT 1;\nCOMMIT;\n-- migrate:down\n')).toThrow(
      /_x\.sql:3: 'COMMIT' — a migration must not control transactions/,
    );
    expect(() => parseMigration('m/20240101000000_x.sql', '-- migrate:no-transaction\n-- migrate:up\nBEGIN;\n')).toThrow(
      /_x\.sql:3: 'BEGIN' .*split it/,
    );
    expect(parseMigration('m/20240101000000_x.sql', '-- migrate:up\nSAVEPOINT a;\nROLLBACK TO SAVEPOINT a;\n').up).toHaveLength(2);
    write('20240101000000', 'one', 'SELECT 1;');
    write('20240101000000', 'two', 'SELECT 2;');
    await expect(loadMigrations(dir)).rejects.toThrow(/duplicate migration id 20240101000000/);
  });
});

describe.skipIf(!pgInfo.url)(`migrations on PostgreSQL${pgInfo.skipReason}`, () => {
  let url: string;
  const clients: pg.Client[] = [];
  beforeEach(async () => {
    url = await freshDatabase('migrate');
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.end().catch(() => undefined)));
  });

  const runner = (o: Partial<RunnerOptions> = {}) => new MigrationRunner({ connection: url, dir, operator: 'tester', host: 'box', ...o });
  const sql = async (text: string, values: unknown[] = []) => {
    const c = new pg.Client({ connectionString: url });
    clients.push(c);
    await c.connect();
    const { rows } = await c.query(text, values);
    await c.end();
    clients.splice(clients.indexOf(c), 1);
    return rows;
  };
  const tables = async () =>
    (await sql(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`)).map(
      (r) => r.table_name as string,
    );
  const columns = async (t: string) =>
    (
      await sql(
        `SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position`,
        [t],
      )
    ).map((r) => r.column_name as string);

  const twoMigrations = () => {
    write('20240101000000', 'create_users', 'CREATE TABLE users (id int PRIMARY KEY);', 'DROP TABLE users;');
    write(
      '20240102000000',
      'add_email',
      "ALTER TABLE users ADD COLUMN email text;\nCOMMENT ON COLUMN users.email IS 'a;b';",
      'ALTER TABLE users DROP COLUMN email;',
    );
  };

  it('upgrade applies pending migrations; status shows them; downgrade -1 then upgrade again', async () => {
    twoMigrations();
    const r = runner();
    expect((await r.status()).pending.map((m) => m.id)).toEqual(['20240101000000', '20240102000000']);
    const events: MigrateEvent[] = [];
    const up = await r.upgrade({ operator: 'alice', onEvent: (e) => events.push(e) });
    expect(up.ok).toBe(true);
    expect(up.applied.map((a) => a.id)).toEqual(['20240101000000', '20240102000000']);
    expect(events.filter((e) => e.type.startsWith('migration.')).map((e) => e.type)).toEqual([
      'migration.started',
      'migration.finished',
      'migration.started',
      'migration.finished',
    ]);
    expect(await columns('users')).toEqual(['id', 'email']);

    const st = await r.status();
    expect(st.pending).toEqual([]);
    expect(st.problems).toEqual([]);
    const files = await loadMigrations(dir);
    expect(st.applied).toHaveLength(2);
    for (const [i, row] of st.applied.entries()) {
      expect(row).toMatchObject({
        id: files[i].id,
        name: files[i].name,
        checksum: files[i].checksum,
        appliedBy: 'alice',
        state: 'applied',
        failedStatement: null,
        error: null,
      });
      expect(row.durationMs).toBeGreaterThanOrEqual(0);
      expect(row.appliedAt).toBeInstanceOf(Date);
    }

    const down = await r.downgrade({ steps: 1 });
    expect(down.ok).toBe(true);
    expect(down.applied.map((a) => a.id)).toEqual(['20240102000000']);
    expect(await columns('users')).toEqual(['id']);
    expect((await r.status()).pending.map((m) => m.id)).toEqual(['20240102000000']);

    const again = await r.upgrade({ operator: 'alice' });
    expect(again.applied.map((a) => a.id)).toEqual(['20240102000000']);
    expect(await columns('users')).toEqual(['id', 'email']);
    // nothing left: a no-op
    expect((await r.upgrade({ operator: 'alice' })).applied).toEqual([]);
  });

  describe('a failing migration in the middle of a run', () => {
    const threeWithBadMiddle = () => {
      twoMigrations();
      write('20240103000000', 'bad', 'CREATE TABLE audit_x (id int);\nINSERT INTO nope VALUES (1);', 'DROP TABLE audit_x;');
      write('20240104000000', 'later', 'CREATE TABLE later (id int);', 'DROP TABLE later;');
    };

    it("onFailure 'stop': the failing one is rolled back and not recorded, earlier ones stay applied", async () => {
      threeWithBadMiddle();
      const r = runner();
      const res = await r.upgrade({ operator: 'tester', onFailure: 'stop' });
      expect(res.ok).toBe(false);
      expect(res.applied.map((a) => a.id)).toEqual(['20240101000000', '20240102000000']);
      expect(res.failed).toMatchObject({
        id: '20240103000000',
        direction: 'up',
        statement: 2,
        of: 2,
        line: 3,
        recorded: false,
        code: '42P01',
      });
      expect(res.failed!.error).toMatch(/relation "nope" does not exist/);
      expect(res.executed.at(-1)).toBe('ROLLBACK');
      expect(await tables()).toEqual(['cockpit_schema_migrations', 'users']);
      const st = await r.status();
      expect(st.applied.map((a) => a.id)).toEqual(['20240101000000', '20240102000000']);
      expect(st.pending.map((m) => m.id)).toEqual(['20240103000000', '20240104000000']);
      expect(st.problems).toEqual([]);
    });

    it("onFailure 'revert-run': every migration this run applied is downgraded, newest first", async () => {
      write('20231231000000', 'before', 'CREATE TABLE kept (id int);', 'DROP TABLE kept;');
      await runner().upgrade({ operator: 'tester' });
      const before = await tables();
      threeWithBadMiddle();
      const res = await runner().upgrade({ operator: 'tester', onFailure: 'revert-run' });
      expect(res.ok).toBe(false);
      expect(res.failed?.id).toBe('20240103000000');
      expect(res.reverted.map((a) => a.id)).toEqual(['20240102000000', '20240101000000']);
      expect(res.revertFailed).toBeNull();
      expect(await tables()).toEqual(before);
      expect(before).toEqual(['cockpit_schema_migrations', 'kept']);
      const st = await runner().status();
      expect(st.applied.map((a) => a.id)).toEqual(['20231231000000']);
      expect(st.pending).toHaveLength(4);
    });
  });

  describe('two concurrent upgrades', () => {
    const slow = () => {
      write('20240101000000', 'slow', 'CREATE TABLE t (id int);\nSELECT pg_sleep(1.5);', 'DROP TABLE t;');
    };
    const startedFirst = () => {
      let started!: () => void;
      const p = new Promise<void>((res) => (started = res));
      return { p, onEvent: (e: MigrateEvent) => e.type === 'migration.started' && started() };
    };

    it('the second waits for the lock, then finds nothing left to do', async () => {
      slow();
      const first = startedFirst();
      const a = runner({ operator: 'alice' }).upgrade({ operator: 'alice', onEvent: first.onEvent });
      await first.p;
      const t0 = Date.now();
      const events: MigrateEvent[] = [];
      const b = await runner({ operator: 'bob' }).upgrade({ operator: 'bob', onEvent: (e) => events.push(e) });
      expect(Date.now() - t0).toBeGreaterThan(500);
      expect((await a).applied.map((x) => x.id)).toEqual(['20240101000000']);
      expect(b.ok).toBe(true);
      expect(b.applied).toEqual([]);
      const waiting = events.find((e) => e.type === 'lock.waiting');
      expect(waiting && 'holder' in waiting && waiting.holder).toContain(`cockpit migrate (alice@box pid ${process.pid})`);
      expect((await runner().status()).applied.map((r) => r.appliedBy)).toEqual(['alice']);
    });

    it("with a short lockTimeoutMs the second fails, naming the holder's application_name", async () => {
      slow();
      const first = startedFirst();
      const a = runner({ operator: 'alice' }).upgrade({ operator: 'alice', onEvent: first.onEvent });
      await first.p;
      const b = runner({ operator: 'bob', lockTimeoutMs: 300 }).upgrade({ operator: 'bob' });
      await expect(b).rejects.toThrow(
        /migration lock is held by 'cockpit migrate \(alice@box pid \d+\)' \(server pid \d+.*connected since .*gave up after waiting 0\.3 s/,
      );
      expect((await a).ok).toBe(true);
      // the lock is released when a run ends
      expect((await runner({ lockTimeoutMs: 300 }).upgrade({ operator: 'bob' })).ok).toBe(true);
    });
  });

  describe('no-transaction migrations', () => {
    it('CREATE INDEX CONCURRENTLY applies', async () => {
      write('20240101000000', 'items', 'CREATE TABLE items (id int, code text);', 'DROP TABLE items;');
      write(
        '20240102000000',
        'items_code',
        'CREATE INDEX CONCURRENTLY items_code_idx ON items (code);',
        'DROP INDEX CONCURRENTLY items_code_idx;',
        { noTransaction: true },
      );
      const res = await runner().upgrade({ operator: 'tester' });
      expect(res.ok, JSON.stringify(res.failed)).toBe(true);
      expect(await sql(`SELECT indisvalid FROM pg_index WHERE indexrelid = 'items_code_idx'::regclass`)).toEqual([{ indisvalid: true }]);
      expect((await runner().downgrade()).ok).toBe(true);
      expect(await sql(`SELECT to_regclass('items_code_idx') AS r`)).toEqual([{ r: null }]);
    });

    it('a failure leaves a failed row (statement index, error); status explains it; an INVALID index is dropped and rebuilt after resolve', async () => {
      write(
        '20240101000000',
        'items',
        "CREATE TABLE items (id int, code text);\nINSERT INTO items VALUES (1, 'a'), (2, 'a'), (3, 'b');",
        'DROP TABLE items;',
      );
      write(
        '20240102000000',
        'items_code_unique',
        'ALTER TABLE items ADD COLUMN note text;\nCREATE UNIQUE INDEX CONCURRENTLY items_code_key ON items (code);\nALTER TABLE items ADD COLUMN after_index text;',
        'DROP INDEX CONCURRENTLY IF EXISTS items_code_key;\nALTER TABLE items DROP COLUMN IF EXISTS after_index;\nALTER TABLE items DROP COLUMN note;',
        { noTransaction: true },
      );
      const r = runner();
      const res = await r.upgrade({ operator: 'tester' });
      expect(res.ok).toBe(false);
      expect(res.applied.map((a) => a.id)).toEqual(['20240101000000']);
      expect(res.failed).toMatchObject({ id: '20240102000000', statement: 2, of: 3, line: 4, recorded: true, code: '23505' });
      // the failed CIC left an INVALID index behind; the statement before it stays applied
      expect(await sql(`SELECT indisvalid FROM pg_index WHERE indexrelid = 'items_code_key'::regclass`)).toEqual([{ indisvalid: false }]);
      expect(await columns('items')).toEqual(['id', 'code', 'note']);

      const st = await r.status();
      const row = st.history.find((h) => h.id === '20240102000000')!;
      expect(row).toMatchObject({ state: 'failed', failedStatement: 2 });
      expect(row.error).toMatch(/could not create unique index "items_code_key"/);
      expect(st.applied.map((a) => a.id)).toEqual(['20240101000000']);
      expect(st.pending).toEqual([]);
      const problem = st.problems.find((p) => p.kind === 'failed')!;
      expect(problem.id).toBe('20240102000000');
      expect(problem.message).toMatch(
        /20240102000000_items_code_unique .* failed during upgrade at statement 2 of 3: could not create unique index.*statement\(s\) 1–1 before it completed.*resolve 20240102000000 --applied.*--rolled-back/,
      );

      // a failed row blocks further runs until it is resolved
      await expect(r.upgrade({ operator: 'tester' })).rejects.toThrow(
        /cannot upgrade: migration 20240102000000_items_code_unique .*resolve/,
      );
      await expect(r.resolve('20240101000000', 'applied')).rejects.toThrow(/is applied, not failed/);

      // fix the data and undo the half-applied part by hand, then mark it rolled back: it becomes pending again
      await sql(`UPDATE items SET code = 'c' WHERE id = 2`);
      await sql(`ALTER TABLE items DROP COLUMN note`);
      const resolved = await r.resolve('20240102000000', 'rolled-back');
      expect(resolved.events.some((e) => e.type === 'migration.resolved')).toBe(true);
      expect((await r.status()).pending.map((m) => m.id)).toEqual(['20240102000000']);

      const again = await r.upgrade({ operator: 'tester' });
      expect(again.ok, JSON.stringify(again.failed)).toBe(true);
      expect(again.events).toContainEqual({ type: 'index.invalid-dropped', id: '20240102000000', index: 'items_code_key' });
      expect(again.executed).toContain('DROP INDEX CONCURRENTLY items_code_key');
      expect(await sql(`SELECT indisvalid FROM pg_index WHERE indexrelid = 'items_code_key'::regclass`)).toEqual([{ indisvalid: true }]);
      expect(await columns('items')).toEqual(['id', 'code', 'note', 'after_index']);
      expect((await r.status()).problems).toEqual([]);
    });

    it("resolve 'applied' marks a failed row applied", async () => {
      write('20240101000000', 'boom', 'CREATE TABLE a (id int);\nSELECT 1/0;', 'DROP TABLE a;', { noTransaction: true });
      const r = runner();
      expect((await r.upgrade({ operator: 'tester' })).failed).toMatchObject({ statement: 2, recorded: true, code: '22012' });
      await r.resolve('20240101000000', 'applied', { operator: 'fixer' });
      const st = await r.status();
      expect(st.problems).toEqual([]);
      expect(st.applied).toMatchObject([
        { id: '20240101000000', state: 'applied', appliedBy: 'fixer', failedStatement: null, error: null },
      ]);
    });
  });

  it('an edited applied migration is refused by name; acceptChecksum accepts it', async () => {
    twoMigrations();
    const r = runner();
    await r.upgrade({ operator: 'tester' });
    const file = path.join(dir, '20240101000000_create_users.sql');
    writeFileSync(file, readFileSync(file, 'utf8').replace('CREATE TABLE', '-- reviewed\nCREATE TABLE'));
    write('20240103000000', 'next', 'CREATE TABLE next (id int);', 'DROP TABLE next;');
    const st = await r.status();
    expect(st.problems).toMatchObject([{ id: '20240101000000', kind: 'checksum-changed' }]);
    await expect(r.plan()).rejects.toThrow(
      /migration 20240101000000_create_users \(.*20240101000000_create_users\.sql\) was edited after it was applied.*--accept-checksum 20240101000000/,
    );
    await expect(r.upgrade({ operator: 'tester' })).rejects.toThrow(/20240101000000_create_users .* was edited/);
    await expect(r.downgrade({ steps: 2 })).rejects.toThrow(/cannot downgrade: migration 20240101000000_create_users .* was edited/);
    expect(await tables()).not.toContain('next');

    const res = await r.upgrade({ operator: 'tester', acceptChecksum: ['20240101000000'] });
    expect(res.ok).toBe(true);
    expect(res.events.find((e) => e.type === 'checksum.accepted')).toMatchObject({
      id: '20240101000000',
      to: (await loadMigrations(dir))[0].checksum,
    });
    expect(res.applied.map((a) => a.id)).toEqual(['20240103000000']);
    expect((await r.status()).problems).toEqual([]);
  });

  it('an out-of-order pending migration is refused unless allowOutOfOrder', async () => {
    write('20240101000000', 'a', 'CREATE TABLE a (id int);', 'DROP TABLE a;');
    write('20240103000000', 'c', 'CREATE TABLE c (id int);', 'DROP TABLE c;');
    const r = runner();
    await r.upgrade({ operator: 'tester' });
    write('20240102000000', 'b_from_a_branch', 'CREATE TABLE b (id int);', 'DROP TABLE b;');
    expect((await r.status()).problems).toMatchObject([{ id: '20240102000000', kind: 'out-of-order' }]);
    await expect(r.upgrade({ operator: 'tester' })).rejects.toThrow(
      /migration 20240102000000_b_from_a_branch .* is pending but older than 20240103000000_c, which is already applied.*--allow-out-of-order/,
    );
    // a target before the out-of-order one does not include it
    expect((await r.plan({ to: '20240101000000' })).pending).toEqual([]);
    const res = await r.upgrade({ operator: 'tester', allowOutOfOrder: true });
    expect(res.applied.map((a) => a.id)).toEqual(['20240102000000']);
    expect(await tables()).toEqual(['a', 'b', 'c', 'cockpit_schema_migrations']);
  });

  it('upgrade --to stops at the target; downgrade --to reverts everything newer', async () => {
    twoMigrations();
    write('20240103000000', 'third', 'CREATE TABLE third (id int);', 'DROP TABLE third;');
    const r = runner();
    expect((await r.upgrade({ operator: 'tester', to: '20240102000000' })).applied.map((a) => a.id)).toEqual([
      '20240101000000',
      '20240102000000',
    ]);
    await expect(r.upgrade({ operator: 'tester', to: '20990101000000' })).rejects.toThrow(/no migration 20990101000000/);
    await r.upgrade({ operator: 'tester' });
    const down = await r.downgrade({ to: '20240101000000' });
    expect(down.applied.map((a) => a.id)).toEqual(['20240103000000', '20240102000000']);
    expect((await r.status()).applied.map((a) => a.id)).toEqual(['20240101000000']);
  });

  it('sqlFor prints exactly what upgrade then executes (modulo the history insert values)', async () => {
    twoMigrations();
    write(
      '20240103000000',
      'idx',
      'CREATE INDEX CONCURRENTLY users_email_idx ON users (email);',
      'DROP INDEX CONCURRENTLY users_email_idx;',
      { noTransaction: true },
    );
    const r = runner();
    const p = await r.plan();
    const text = r.sqlFor(p.pending, 'up');
    expect(text).toContain('BEGIN;\nCREATE TABLE users (id int PRIMARY KEY);\nINSERT INTO cockpit_schema_migrations');
    expect(text).toContain(':operator, :duration_ms');
    expect(text).toMatch(
      /-- no transaction: each statement runs on its own\n(?:--.*\n)?CREATE INDEX CONCURRENTLY users_email_idx ON users \(email\);\nINSERT INTO/,
    );
    const res = await r.upgrade({ operator: 'tester' });
    expect(res.ok).toBe(true);
    const printed = text.split('\n').filter((l) => l !== '' && !l.startsWith('--'));
    const executed = res.executed.map((s) => `${s.replace(/'tester', \d+, 'applied'\)/, ":operator, :duration_ms, 'applied')")};`);
    expect(executed).toEqual(printed);

    // and the same for a downgrade
    const down = (await loadMigrations(dir)).reverse();
    const downText = r.sqlFor(down, 'down');
    const res2 = await r.downgrade({ steps: 3 });
    expect(res2.executed.map((s) => `${s};`)).toEqual(downText.split('\n').filter((l) => l !== '' && !l.startsWith('--')));
    expect(await tables()).toEqual(['cockpit_schema_migrations']);
  });

  it('noLock skips the advisory lock', async () => {
    twoMigrations();
    const res = await runner({ noLock: true }).upgrade({ operator: 'tester' });
    expect(res.lock).toBe('skipped');
    expect(res.events[0]).toEqual({ type: 'lock.skipped' });
    expect(res.ok).toBe(true);
  });
});

describe.skipIf(!pgInfo.url)(`lock_timeout retries${pgInfo.skipReason}`, () => {
  it('a migration that cannot get its lock in time is rolled back and tried again after a pause; with no retries left it fails with 55P03', async () => {
    const url = await freshDatabase('lock_retry');
    const holder = new pg.Client({ connectionString: url });
    await holder.connect();
    try {
      await holder.query('CREATE TABLE busy (id int)');
      write('20240101000000', 'add_column', 'ALTER TABLE busy ADD COLUMN note text;', 'ALTER TABLE busy DROP COLUMN note;');
      // Someone holds the table for ~1.2 s: every attempt with a 200 ms lock_timeout fails until it lets go.
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE busy IN ACCESS EXCLUSIVE MODE');
      const release = setTimeout(() => void holder.query('COMMIT'), 1200);
      const events: MigrateEvent[] = [];
      const patient = new MigrationRunner({
        connection: url,
        dir,
        operator: 'alice',
        lockTimeout: '200ms',
        lockRetries: 5,
        lockRetryPauseMs: 150,
      });
      const r = await patient.upgrade({ operator: 'alice', onEvent: (e) => events.push(e) });
      clearTimeout(release);
      expect(r.ok).toBe(true);
      const retries = events.filter((e) => e.type === 'migration.lock-retry');
      expect(retries.length).toBeGreaterThanOrEqual(1);
      expect(retries[0]).toMatchObject({ id: '20240101000000', attempt: 1, waitMs: 150 });
      expect(
        (await holder.query("SELECT column_name FROM information_schema.columns WHERE table_name = 'busy' ORDER BY 1")).rows.map(
          (x) => x.column_name,
        ),
      ).toEqual(['id', 'note']);

      // No retries: the lock wait fails the migration, rolled back, nothing recorded.
      write('20240102000000', 'add_other', 'ALTER TABLE busy ADD COLUMN other text;', 'ALTER TABLE busy DROP COLUMN other;');
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE busy IN ACCESS EXCLUSIVE MODE');
      const impatient = new MigrationRunner({ connection: url, dir, operator: 'alice', lockTimeout: '200ms', lockRetries: 0 });
      const r2 = await impatient.upgrade({ operator: 'alice' });
      await holder.query('COMMIT');
      expect(r2.ok).toBe(false);
      expect(r2.failed).toMatchObject({ id: '20240102000000', code: '55P03', recorded: false });
    } finally {
      await holder.end();
    }
  });
});
