import { once } from 'node:events';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadBackfill, parseBackfill, runBackfill, type BackfillEvent } from '../../src/adapters/migrate/backfill.js';
import { cockpit, cockpitAsync, tempRepo } from '../helpers/cli.js';
import { freshDatabase, pgTest } from '../helpers/pg.js';

// `cockpit migrate backfill …` against a real PostgreSQL: batches, checkpoint, resume after kill -9, idempotent rerun.

const pgInfo = pgTest();

describe('backfill definitions', () => {
  it('a bad definition is refused with file:line:column and the field', () => {
    expect(() => parseBackfill('x', 'migrations/backfills/x.yaml', 'table: "listings; drop"\nkey: id\nset: "a = 1"\n')).toThrow(
      /^migrations\/backfills\/x\.yaml:1:8: table: expected a table name[\s\S]*x\.yaml:\d+:\d+: where: required/m,
    );
    expect(() => parseBackfill('x', 'f.yaml', 'table: t\nkey: id\nset: "a = 1"\nwhere: "a IS NULL"\nbatchSize: 0\nextra: 1\n')).toThrow(
      /f\.yaml:5:12: batchSize: .*\n.*f\.yaml:6:1: extra: /,
    );
    const d = parseBackfill('x', 'f.yaml', 'table: app.t\nkey: id\nset: "a = 1"\nwhere: "a IS NULL"\n');
    expect(d).toMatchObject({ table: 'app.t', batchSize: 1000, pauseMs: 0 });
    expect(() => loadBackfill('/nonexistent', 'nope')).toThrow(/no backfill nope: \/nonexistent\/nope\.yaml does not exist/);
  });
});

describe.skipIf(!pgInfo.url)(`cockpit migrate backfill on PostgreSQL${pgInfo.skipReason}`, () => {
  let repo: ReturnType<typeof tempRepo>;
  let url: string;
  const sql = async <T = any>(text: string, values?: unknown[]): Promise<T[]> => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      return (await c.query(text, values)).rows as T[];
    } finally {
      await c.end();
    }
  };
  const run = (...args: string[]) =>
    cockpit(['--repo', repo.dir, 'migrate', 'backfill', ...args, '--database-url', url], { cwd: repo.dir });
  const define = (name: string, yaml: string) => repo.write(`migrations/backfills/${name}.yaml`, yaml);
  /** listings (id, price, price_cents, touched) with n rows, and an identical copy `expected` updated with one UPDATE. */
  const listings = async (n: number) => {
    await sql(`CREATE TABLE listings (id bigint PRIMARY KEY, price numeric NOT NULL, price_cents bigint, touched int NOT NULL DEFAULT 0);
      INSERT INTO listings (id, price) SELECT i, (i * 7 % 100000) / 100.0 FROM generate_series(1, ${n}) i;
      CREATE TABLE expected AS SELECT * FROM listings;
      UPDATE expected SET price_cents = round(price * 100), touched = touched + 1 WHERE price_cents IS NULL;`);
    define(
      'price_cents',
      'table: listings\nkey: id\nset: "price_cents = round(price * 100), touched = touched + 1"\nwhere: "price_cents IS NULL"\n',
    );
  };
  const differences = async () =>
    Number((await sql(`SELECT count(*) AS n FROM listings l FULL JOIN expected e USING (id) WHERE l IS DISTINCT FROM e`))[0].n);
  const checkpoint = async (name: string) => (await sql(`SELECT * FROM cockpit_backfills WHERE name = $1`, [name]))[0];

  beforeEach(async () => {
    repo = tempRepo();
    url = await freshDatabase('backfill');
  });
  afterEach(() => repo.cleanup());

  it('backfills 20k rows in batches of 1000, one line per batch, checkpoint finished; a rerun does nothing', async () => {
    await listings(20_000);
    const r = run('price_cents');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/backfill price_cents on listings: ~20,000 row\(s\) need it \(estimate\), batches of 1000/);
    const lines = r.stdout.split('\n').filter((l) => l.startsWith('batch '));
    expect(lines).toHaveLength(20);
    expect(lines[0]).toMatch(/^batch 1: 1000 row\(s\) in \d+ ms, 1,000 \/ ~20,000 \(5%\) done, [\d,]+ rows\/s, ETA .*, last key 1000$/);
    expect(lines[19]).toMatch(/20,000 \/ ~20,000 \(100%\) done.*last key 20000$/);
    expect(r.stdout).toMatch(/✔ backfill price_cents finished: 20,000 row\(s\) in 20 batch\(es\)/);
    expect(await differences()).toBe(0);
    const cp = await checkpoint('price_cents');
    expect(cp).toMatchObject({
      state: 'finished',
      rows_done: '20000',
      batches: '20',
      last_key: '20000',
      table_name: 'listings',
      key_column: 'id',
    });
    expect(cp.finished_at).toBeInstanceOf(Date);

    const again = run('price_cents');
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/backfill price_cents already finished: 0 rows need it \(20,000 row\(s\) done in total\); nothing to do/);
    expect(await checkpoint('price_cents')).toMatchObject({ rows_done: '20000', batches: '20', updated_at: cp.updated_at });
    expect(Number((await sql('SELECT max(touched) AS m FROM listings'))[0].m)).toBe(1);
  });

  it('killed with SIGKILL mid-way, a rerun resumes from the checkpoint; the result equals one UPDATE', async () => {
    await listings(20_000);
    define(
      'slow',
      'table: listings\nkey: id\nset: "price_cents = round(price * 100), touched = touched + 1"\nwhere: "price_cents IS NULL"\nbatchSize: 500\npauseMs: 100\n',
    );
    const child = cockpitAsync(['--repo', repo.dir, 'migrate', 'backfill', 'slow', '--database-url', url], { cwd: repo.dir });
    let stdout = '';
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (d: Buffer) => {
        stdout += d.toString();
        if ((stdout.match(/^batch /gm) ?? []).length >= 4) resolve();
      });
      child.on('exit', () => reject(new Error(`exited before 4 batches:\n${stdout}`)));
    });
    child.kill('SIGKILL');
    await once(child, 'exit').catch(() => undefined);
    const killed = await checkpoint('slow');
    expect(killed.state).toBe('running');
    const doneBefore = Number(killed.rows_done);
    expect(doneBefore).toBeGreaterThanOrEqual(2000);
    expect(doneBefore).toBeLessThan(20_000);
    // checkpoint and batches committed together: rows_done is exactly the rows backfilled
    expect(Number((await sql('SELECT count(*) AS n FROM listings WHERE price_cents IS NOT NULL'))[0].n)).toBe(doneBefore);
    expect(killed.last_key).toBe(String(doneBefore));

    const r = run('slow', '--pause-ms', '0');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      `resuming backfill slow on listings after key ${doneBefore}: ${doneBefore.toLocaleString('en-US')} row(s) done by earlier runs (last run ended without finishing (killed?))`,
    );
    const first = r.stdout.split('\n').find((l) => l.startsWith('batch 1:'))!;
    expect(first).toContain(`last key ${doneBefore + 500}`);
    expect(r.stdout).toMatch(new RegExp(`finished: ${(20_000 - doneBefore).toLocaleString('en-US')} row\\(s\\)`));
    expect(await checkpoint('slow')).toMatchObject({ state: 'finished', rows_done: '20000' });
    expect(Number((await sql('SELECT max(touched) AS m FROM listings'))[0].m)).toBe(1); // no row done twice
    expect(await differences()).toBe(0);
  });

  it('a bad definition is refused by the CLI with file and field (exit 2), before touching the database', async () => {
    define('bad', 'table: listings\nkey: "id; drop table x"\nset: "a = 1"\nwhere: ""\n');
    const r = run('bad');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/migrations\/backfills\/bad\.yaml:2:6: key: expected a column name/);
    expect(r.stderr).toMatch(/bad\.yaml:4:8: where: expected the predicate/);
    define('nokey', 'table: listings\nkey: price\nset: "price_cents = 1"\nwhere: "price_cents IS NULL"\n');
    await listings(10);
    const k = run('nokey');
    expect(k.code).toBe(1);
    expect(k.stderr).toMatch(/nokey\.yaml: key: listings\.price is not the sole column of a unique index/);
  });

  it('uuid keys (and a schema-qualified table) work; set that leaves rows matching where is refused', async () => {
    await sql(`CREATE SCHEMA app; CREATE TABLE app.users (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), email text NOT NULL, email_lower text);
      INSERT INTO app.users (email) SELECT 'User' || i || '@Example.COM' FROM generate_series(1, 5000) i;`);
    const def = parseBackfill(
      'email_lower',
      'email_lower.yaml',
      'table: app.users\nkey: id\nset: "email_lower = lower(email)"\nwhere: "email_lower IS NULL"\nbatchSize: 700\n',
    );
    const events: BackfillEvent[] = [];
    const r = await runBackfill(def, { connection: url, onEvent: (e) => events.push(e) });
    expect(r).toMatchObject({ state: 'finished', rowsDone: 5000, batches: 8 });
    const progress = events.filter((e) => e.type === 'backfill.progress');
    expect(progress).toHaveLength(8);
    expect(progress.at(-1)).toMatchObject({ rowsDone: 5000, total: 5000 });
    const maxId = (await sql(`SELECT max(id::text) AS m FROM app.users`))[0].m; // uuid order = text order of its canonical form
    expect(r.lastKey).toBe(maxId);
    expect(Number((await sql(`SELECT count(*) AS n FROM app.users WHERE email_lower IS DISTINCT FROM lower(email)`))[0].n)).toBe(0);

    const bad = parseBackfill('never', 'never.yaml', 'table: app.users\nkey: id\nset: "email = email"\nwhere: "email LIKE \'%@%\'"\n');
    const f = await runBackfill(bad, { connection: url });
    expect(f.state).toBe('failed');
    expect(f.error).toMatch(/rows still match where .* the backfill never ends. The batch was rolled back/);
    expect(f.rowsDone).toBe(0);
  });
});
